import DatabaseClients
import Foundation
import TestSupport
import Testing

/// Backend faults under load, on a private server (never the shared ones): SIGKILL and restart, a port refusing
/// connections, SIGSTOP for 5 s, the backend cutting a result in the middle, and (PostgreSQL) a CancelRequest that
/// must reach the right backend. Only statements in flight may fail, with a clear error; new connections work
/// within 1 s of the backend's return; a stalled backend does not slow other listeners; nothing leaks.
@Suite("Backend faults", .serialized)
struct BackendFaultTests {
    @Test("MySQL: kill, refuse, stall and mid-result cuts fail only in-flight statements, recover within 1 s, and leak nothing")
    func mysqlBackendFaults() async throws {
        let env = try TestEnvironment.load()
        try await BackendFaultRun(kind: .mariadb, sharedPort: env.mysql.port).run()
    }

    @Test("PostgreSQL: kill, refuse, stall, mid-result cuts and CancelRequest routing under load, with recovery within 1 s and no leaks")
    func postgresBackendFaults() async throws {
        let env = try TestEnvironment.load()
        try await BackendFaultRun(kind: .postgres, sharedPort: env.postgres.port).run()
    }
}

struct BackendFaultRun {
    let kind: ReliabilityPrivateServer.Kind
    let sharedPort: Int

    var wireProtocol: String { kind == .mariadb ? "mysql" : "postgres" }

    /// A fresh client connection through the proxy to `port`, returning a statement runner and a closer.
    func open(port: Int) throws -> (run: (String) throws -> [[String?]], close: () -> Void) {
        switch kind {
        case .mariadb:
            let c = try MariaDBConnection(configuration: .init(
                host: "127.0.0.1", port: port, user: "shadow", password: "shadow-pass", database: "mse_demo",
                timeouts: .init(connect: 3, read: 20, write: 20)))
            return ({ try c.query($0).rows }, { c.close() })
        case .postgres:
            let c = try PostgresConnection(configuration: .init(
                host: "127.0.0.1", port: port, user: "shadow", password: "shadow-pass", database: "mse_demo",
                connectTimeoutSeconds: 3))
            return ({ try c.query($0).rows }, { c.close() })
        }
    }

    /// Seconds until a new connection through `port` runs `SELECT 1`, polling every 20 ms (nil: not within `limit`).
    func secondsUntilConnectable(port: Int, limit: Double = 10) -> Double? {
        let start = Date()
        while Date().timeIntervalSince(start) < limit {
            if let connection = try? open(port: port) {
                defer { connection.close() }
                if (try? connection.run("SELECT 1")) != nil { return Date().timeIntervalSince(start) }
            }
            usleep(20_000)
        }
        return nil
    }

    var bigResultSQL: String {
        kind == .mariadb
            ? "SELECT repeat('x', 1000) FROM seq_1_to_50000" : "SELECT repeat('x', 1000) FROM generate_series(1, 50000)"
    }

    func run() async throws {
        let server = try ReliabilityPrivateServer.start(kind)
        defer { server.destroy() }
        try server.rootSQL(
            kind == .mariadb
                ? "CREATE TABLE mse_demo_table (id BIGINT AUTO_INCREMENT PRIMARY KEY, location VARCHAR(255) NOT NULL); CREATE TABLE mse_demo_table_gray LIKE mse_demo_table;"
                : "CREATE TABLE mse_demo_table (id BIGSERIAL PRIMARY KEY, location VARCHAR(255) NOT NULL); CREATE TABLE mse_demo_table_gray (LIKE mse_demo_table);")
        let relay = FaultRelay(targetPort: server.port)
        try relay.start()
        let cutRelay = FaultRelay(targetPort: server.port)
        try cutRelay.start()
        defer {
            relay.shutdown()
            cutRelay.shutdown()
        }
        let proxy = try ReliabilityProxyProcess.start(listeners: [
            (name: "fault", wireProtocol: wireProtocol, backendPort: relay.port, maxMessageSize: nil),
            (name: "cut", wireProtocol: wireProtocol, backendPort: cutRelay.port, maxMessageSize: nil),
            (name: "other", wireProtocol: wireProtocol, backendPort: sharedPort, maxMessageSize: nil),
        ])
        defer { proxy.stop() }
        let faultPort = proxy.port("fault"), otherPort = proxy.port("other"), cutPort = proxy.port("cut")
        let idleFDs = proxy.openDescriptors
        let idleSessions = try server.clientSessionCount()

        let load = ReliabilityLoad(kind == .mariadb ? .mysql(port: faultPort) : .postgres(port: faultPort), clients: 16, pause: 0.005, reconnectOnError: true)
        let otherLoad = ReliabilityLoad(kind == .mariadb ? .mysql(port: otherPort) : .postgres(port: otherPort), clients: 2, pause: 0.01)
        defer {
            load.stop()
            otherLoad.stop()
        }
        _ = ReliabilityProcessStats.waitUntil(timeout: 10) { load.count > 1000 }
        var figures: [String] = []

        // 1. SIGKILL and restart.
        var mark = load.failureCount
        server.crash()
        usleep(300_000)
        try server.launch()
        let afterRestart = secondsUntilConnectable(port: faultPort)
        #expect(afterRestart.map { $0 <= 1.0 } == true, "new connection after restart took \(afterRestart.map { "\($0) s" } ?? "forever")")
        figures.append("restart → connectable in \(afterRestart.map { String(format: "%.3f s", $0) } ?? "never")")
        try await Task.sleep(nanoseconds: 1_000_000_000)
        let killFailures = load.failures(since: mark)
        let statementFailures = killFailures.filter { !$0.hasPrefix("connect:") }
        #expect(statementFailures.count <= 16, "more statements failed than were in flight: \(statementFailures.count)")
        #expect(killFailures.allSatisfy { !$0.isEmpty }, "an error without a message")
        figures.append("kill: \(statementFailures.count) in-flight statements failed, e.g. \(statementFailures.first?.prefix(160) ?? "-")")
        mark = load.failureCount
        try await Task.sleep(nanoseconds: 500_000_000)
        #expect(load.failures(since: mark).isEmpty, "load still failing after recovery: \(load.failures(since: mark).prefix(2))")

        // 2. The port refuses connections: new connections fail fast and clearly, existing ones carry on.
        relay.refuseNewConnections()
        mark = load.failureCount
        let refusedStart = Date()
        var refusedError = ""
        do {
            let c = try open(port: faultPort)
            c.close()
        } catch { refusedError = "\(error)" }
        let refusedSeconds = Date().timeIntervalSince(refusedStart)
        #expect(!refusedError.isEmpty, "a connection succeeded although the backend port refuses")
        #expect(refusedSeconds < 3, "refused backend took \(refusedSeconds) s to report")
        figures.append("refused port: error in \(String(format: "%.3f s", refusedSeconds)): \(refusedError.prefix(160))")
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(load.failures(since: mark).isEmpty, "existing connections failed while the port refused new ones")
        try relay.start()
        let afterRefuse = secondsUntilConnectable(port: faultPort)
        #expect(afterRefuse.map { $0 <= 1.0 } == true)

        // 3. SIGSTOP for 5 s: the other listener keeps its latency; everything resumes after SIGCONT.
        mark = load.failureCount
        _ = otherLoad.takeP99()
        server.pause()
        var slowest = 0.0
        let stallEnd = Date().addingTimeInterval(5)
        let other = try open(port: otherPort)
        while Date() < stallEnd {
            let start = Date()
            _ = try other.run("SELECT 1")
            slowest = max(slowest, Date().timeIntervalSince(start))
            usleep(50_000)
        }
        other.close()
        server.resume()
        #expect(slowest < 0.5, "the other listener stalled for \(slowest) s while one backend was stopped")
        figures.append("SIGSTOP 5 s: slowest statement on the other listener \(String(format: "%.1f ms", slowest * 1000)), other p99 \(String(format: "%.1f ms", otherLoad.takeP99()))")
        let afterStop = secondsUntilConnectable(port: faultPort)
        #expect(afterStop.map { $0 <= 1.0 } == true)
        try await Task.sleep(nanoseconds: 500_000_000)
        #expect(load.failures(since: mark).isEmpty, "statements failed across a 5 s stall (they should only wait): \(load.failures(since: mark).prefix(2))")

        // 4. The backend cuts a result in the middle.
        let cut = try open(port: cutPort)
        cutRelay.setFault(.resetAfter(bytes: 2 << 20))
        let cutStart = Date()
        var cutError = ""
        do { _ = try cut.run(bigResultSQL) } catch { cutError = "\(error)" }
        let cutSeconds = Date().timeIntervalSince(cutStart)
        cut.close()
        cutRelay.setFault(.none)
        #expect(!cutError.isEmpty, "a result cut by the backend looked complete")
        // The proxy says what happened (not just a bare close the client has to guess about). libpq files a
        // FATAL that arrives mid-result under PQerrorMessage, not the result's message, so look at the wire.
        if kind == .mariadb {
            #expect(cutError.contains("lost"), "unclear error for a backend lost mid-result: \(cutError)")
        } else {
            let raw = try ReliabilityPostgresWire.login(port: cutPort)
            cutRelay.setFault(.resetAfter(bytes: 2 << 20))
            raw.send(ReliabilityPostgresWire.query(bigResultSQL))
            let answer = raw.drainUntilClosed(timeout: 5)
            raw.close()
            cutRelay.setFault(.none)
            let tail = String(decoding: answer.bytes.suffix(300), as: UTF8.self)
            #expect(answer.closed && tail.contains("08006") && tail.contains("lost the connection to backend"),
                "no ErrorResponse before the close of a result cut by the backend: …\(tail.suffix(120))")
        }
        #expect(cutSeconds < 3)
        figures.append("mid-result cut: client error after \(String(format: "%.3f s", cutSeconds)): \(cutError.prefix(160))")
        #expect(secondsUntilConnectable(port: cutPort).map { $0 <= 1.0 } == true)

        // 5. PostgreSQL: a CancelRequest reaches the right backend.
        if kind == .postgres { try cancelReachesTheRightBackend(port: faultPort, server: server, figures: &figures) }

        #expect(otherLoad.failureCount == 0, "the other listener's load failed: \(otherLoad.failureSamples)")
        load.stop()
        otherLoad.stop()
        #expect(proxy.isRunning)
        let fds = proxy.settleDescriptors(baseline: idleFDs, tolerance: 2)
        #expect(fds <= idleFDs + 2, "proxy descriptors \(idleFDs) → \(fds)")
        var sessions = -1
        _ = ReliabilityProcessStats.waitUntil(timeout: 3) {
            sessions = (try? server.clientSessionCount()) ?? -1
            return sessions <= idleSessions
        }
        #expect(sessions <= idleSessions, "server sessions \(idleSessions) → \(sessions)")
        figures.append("leaks: proxy fds \(idleFDs) → \(fds), server sessions \(idleSessions) → \(sessions)")
        print("backend faults \(wireProtocol):\n  " + figures.joined(separator: "\n  "))
    }

    private func cancelReachesTheRightBackend(port: Int, server: ReliabilityPrivateServer, figures: inout [String]) throws {
        let a = try PostgresConnection(configuration: .init(host: "127.0.0.1", port: port, user: "shadow", password: "shadow-pass", database: "mse_demo"))
        let b = try PostgresConnection(configuration: .init(host: "127.0.0.1", port: port, user: "shadow", password: "shadow-pass", database: "mse_demo"))
        defer {
            a.close()
            b.close()
        }
        let cancelA = try a.cancelHandle(), cancelB = try b.cancelHandle()
        let outcomes = CancelOutcomes()
        let group = DispatchGroup()
        group.enter()
        Thread {
            do { _ = try a.query("SELECT pg_sleep(20) /* cancel-a */") } catch { outcomes.set(a: "\(error)") }
            group.leave()
        }.start()
        group.enter()
        Thread {
            do { _ = try b.query("SELECT pg_sleep(20) /* cancel-b */") } catch { outcomes.set(b: "\(error)") }
            group.leave()
        }.start()
        let running = ReliabilityProcessStats.waitUntil(timeout: 5) {
            ((try? server.rootQuery("SELECT COUNT(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(20) /* cancel-%' AND state = 'active'")) ?? []) == ["2"]
        }
        #expect(running, "both sleeps should be running")
        let sent = Date()
        try cancelA.cancel()
        _ = ReliabilityProcessStats.waitUntil(timeout: 2) { outcomes.finishedA != nil }
        let seconds = outcomes.finishedA?.timeIntervalSince(sent)
        #expect(seconds.map { $0 < 1 } == true, "the cancelled statement did not end within 1 s")
        #expect(outcomes.errorA.contains("57014") || outcomes.errorA.contains("cancel"), "A: \(outcomes.errorA)")
        let stillRunning = try server.rootQuery("SELECT query FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(20) /* cancel-%' AND state = 'active'")
        #expect(stillRunning.count == 1 && stillRunning.first?.contains("cancel-b") == true, "the other backend was cancelled instead: \(stillRunning)")
        try cancelB.cancel()
        group.wait()
        #expect(outcomes.errorB.contains("57014") || outcomes.errorB.contains("cancel"), "B: \(outcomes.errorB)")
        figures.append("cancel: reached the right backend in \(seconds.map { String(format: "%.3f s", $0) } ?? "-")")
    }
}

/// What the two sleeping statements of the cancel check ended with.
private final class CancelOutcomes: @unchecked Sendable {
    private let lock = NSLock()
    private var a = "", b = ""
    private var aEnded: Date?
    func set(a error: String) { lock.withLock { a = error; aEnded = Date() } }
    func set(b error: String) { lock.withLock { b = error } }
    var errorA: String { lock.withLock { a } }
    var errorB: String { lock.withLock { b } }
    var finishedA: Date? { lock.withLock { aEnded } }
}
