import DatabaseClients
import Foundation

/// A steady background load of N clients through a proxy (both lanes, reads only on shared seed tables), counting
/// every failed statement: the containment and fault suites assert the load never notices their damage (or, for
/// backend faults, that only statements in flight fail).
final class ReliabilityLoad: @unchecked Sendable {
    enum Target { case mysql(port: Int), postgres(port: Int) }

    private let lock = NSLock()
    private var running = true
    private(set) var statements = 0
    private(set) var failures: [String] = []
    private var latencies: [Double] = []
    private let done = DispatchGroup()

    init(_ target: Target, clients: Int = 16, pause: Double = 0.002, reconnectOnError: Bool = false) {
        for index in 0..<clients {
            done.enter()
            let thread = Thread { [self] in
                defer { done.leave() }
                clientLoop(target, index: index, pause: pause, reconnectOnError: reconnectOnError)
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    var isRunning: Bool { lock.withLock { running } }
    var count: Int { lock.withLock { statements } }
    var failureCount: Int { lock.withLock { failures.count } }
    var failureSamples: [String] { lock.withLock { Array(failures.prefix(5)) } }

    /// Failures recorded since `mark` (a previous `failureCount`).
    func failures(since mark: Int) -> [String] { lock.withLock { Array(failures.dropFirst(mark)) } }

    /// p99 latency in milliseconds of the statements since the last call (resets the sample).
    func takeP99() -> Double {
        let sample = lock.withLock { () -> [Double] in
            defer { latencies.removeAll(keepingCapacity: true) }
            return latencies
        }
        guard !sample.isEmpty else { return 0 }
        return sample.sorted()[min(sample.count - 1, Int(Double(sample.count) * 0.99))] * 1000
    }

    /// Stops the clients and waits for them.
    func stop() {
        lock.withLock { running = false }
        done.wait()
    }

    private func record(_ seconds: Double) {
        lock.withLock {
            statements += 1
            if latencies.count < 200_000 { latencies.append(seconds) }
        }
    }

    private func fail(_ message: String) { lock.withLock { failures.append(message) } }

    private func clientLoop(_ target: Target, index: Int, pause: Double, reconnectOnError: Bool) {
        var statement: (() throws -> Void)?
        var close: () -> Void = {}
        while isRunning {
            if statement == nil {
                do {
                    switch target {
                    case .mysql(let port):
                        let connection = try MariaDBConnection(configuration: .init(
                            host: "127.0.0.1", port: port, user: "shadow", password: "shadow-pass", database: "mse_demo",
                            timeouts: .init(connect: 5, read: 20, write: 20)))
                        let sql = index % 2 == 0
                            ? "SELECT COUNT(*) FROM mse_demo_table" : "/* lane=gray */ SELECT COUNT(*) FROM mse_demo_table"
                        statement = { _ = try connection.query(sql) }
                        close = { connection.close() }
                    case .postgres(let port):
                        let connection = try PostgresConnection(configuration: .init(
                            host: "127.0.0.1", port: port, user: "shadow", password: "shadow-pass", database: "mse_demo",
                            connectTimeoutSeconds: 5))
                        let sql = index % 2 == 0
                            ? "SELECT COUNT(*) FROM mse_demo_table" : "/* lane=gray */ SELECT COUNT(*) FROM mse_demo_table"
                        statement = { _ = try connection.query(sql) }
                        close = { connection.close() }
                    }
                } catch {
                    fail("connect: \(error)")
                    usleep(50_000)
                    continue
                }
            }
            let start = Date()
            do {
                try statement?()
                record(Date().timeIntervalSince(start))
            } catch {
                fail("\(error)")
                if reconnectOnError {
                    close()
                    statement = nil
                }
            }
            if pause > 0 { usleep(UInt32(pause * 1_000_000)) }
        }
        close()
    }
}
