import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Promise 4 (containment): every malformed or hostile input ends at most its own connection, quickly, while 16
/// clients keep running statements through the same `shadowgate serve` process without a single failure; the
/// process's descriptors and memory return to where they were.
@Suite("Containment matrix", .serialized)
struct ContainmentMatrixTests {
    @Test("MySQL: each of 24 malformed inputs ends only its own connection within 1 s while 16 clients see no failure")
    func mysqlContainment() async throws {
        let env = try TestEnvironment.load()
        try env.createPasswordlessMySQLUser("rel_raw")
        try await runMatrix(
            wireProtocol: "mysql", backendPort: env.mysql.port, cases: MySQLContainmentCases.all,
            connect: { port, stage in
                switch stage {
                case .beforeLogin:
                    let socket = try ReliabilityRawSocket(port: port)
                    guard ReliabilityMySQLWire.readPacket(socket) != nil else {
                        throw ReliabilityRawSocket.Failure(description: "no greeting")
                    }
                    return socket
                case .afterLogin:
                    return try ReliabilityMySQLWire.login(port: port, user: "rel_raw")
                }
            },
            load: { .mysql(port: $0) })
    }

    @Test("PostgreSQL: each of 25 malformed inputs ends only its own connection within 1 s while 16 clients see no failure")
    func postgresContainment() async throws {
        let env = try TestEnvironment.load()
        try await runMatrix(
            wireProtocol: "postgres", backendPort: env.postgres.port, cases: PostgresContainmentCases.all,
            connect: { port, stage in
                switch stage {
                case .beforeLogin: return try ReliabilityRawSocket(port: port)
                case .afterLogin: return try ReliabilityPostgresWire.login(port: port)
                }
            },
            load: { .postgres(port: $0) })
    }

    private func runMatrix(
        wireProtocol: String, backendPort: Int, cases: [ContainmentCase],
        connect: (Int, ContainmentCase.Stage) throws -> ReliabilityRawSocket,
        load makeLoad: (Int) -> ReliabilityLoad.Target
    ) async throws {
        #expect(cases.count >= 20)
        let proxy = try ReliabilityProxyProcess.start(listeners: [
            (name: "contain-\(wireProtocol)", wireProtocol: wireProtocol, backendPort: backendPort, maxMessageSize: 1 << 20)
        ])
        defer { proxy.stop() }
        let port = proxy.port("contain-\(wireProtocol)")
        let idleFDs = proxy.openDescriptors
        let load = ReliabilityLoad(makeLoad(port), clients: 16, pause: 0.005)
        // Warm up: every load client connected and running; the baseline includes their descriptors.
        _ = ReliabilityProcessStats.waitUntil(timeout: 10) { load.count > 2000 }
        try await Task.sleep(nanoseconds: 500_000_000)
        let baselineRSS = proxy.residentBytes

        var report: [String] = []
        for testCase in cases {
            let socket = try connect(port, testCase.stage)
            let started = Date()
            socket.send(testCase.bytes)
            if testCase.halfClose { shutdown(socket.fd, Int32(SHUT_WR)) }
            let outcome = socket.drainUntilClosed(
                timeout: 1.0 - Date().timeIntervalSince(started) + 0.05,
                quiet: testCase.expectation == .answersOrCloses ? 0.15 : nil)
            let millis = Int(outcome.seconds * 1000)
            switch testCase.expectation {
            case .closes:
                #expect(outcome.closed, "\(testCase): not closed within 1 s (received \(outcome.bytes.count) bytes)")
            case .answersOrCloses:
                #expect(outcome.closed || !outcome.bytes.isEmpty, "\(testCase): neither answered nor closed within 1 s")
            }
            report.append("\(outcome.closed ? "closed  " : "answered") \(String(format: "%4d", millis)) ms  \(testCase.name)")
            socket.close()
            #expect(proxy.isRunning, "the proxy process died on \(testCase)")
            if !proxy.isRunning { break }
        }
        // The load kept running through it all.
        let before = load.count
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(load.count > before, "the load stalled")
        load.stop()
        print("containment \(wireProtocol):\n  " + report.joined(separator: "\n  "))
        #expect(load.failureCount == 0, "load failures: \(load.failureSamples)")

        // Descriptors back to the idle baseline (the load's connections are gone now too).
        let fds = proxy.settleDescriptors(baseline: idleFDs, tolerance: 2)
        let rss = proxy.residentBytes
        print("containment \(wireProtocol): \(load.count) load statements; fds idle \(idleFDs) → \(fds); RSS \(baselineRSS >> 20) MiB → \(rss >> 20) MiB")
        #expect(fds <= idleFDs + 2, "descriptors grew from \(idleFDs) to \(fds)")
        #expect(rss <= baselineRSS + (24 << 20), "RSS grew from \(baselineRSS >> 20) MiB to \(rss >> 20) MiB")
    }
}

extension Subprocess.Output {
    @discardableResult
    func requireSuccess() throws -> Subprocess.Output {
        guard status == 0 else { throw ReliabilityRawSocket.Failure(description: "exit \(status): \(stderr)") }
        return self
    }
}
