import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Client faults against a `shadowgate serve` subprocess (so memory and descriptors are the proxy's alone): a
/// client vanishing in the middle of a ~200 MB result, a slow reader, a client that never reads, and
/// connect/disconnect churn. The server-side work must stop within 1 s, memory stay bounded, descriptors flat.
/// Churn defaults to 200 connections/s for 5 s; SHADOWGATE_CHURN_RATE and SHADOWGATE_CHURN_SECONDS raise it.
@Suite("Client faults", .serialized)
struct ClientFaultTests {
    @Test("MySQL: vanishing, slow and silent clients of a 200 MB result are cleaned up within 1 s with bounded memory; churn leaves descriptors flat")
    func mysqlClientFaults() async throws {
        let env = try TestEnvironment.load()
        try env.createPasswordlessMySQLUser("rel_client")
        try ClientFaultRun(mysql: env).run()
    }

    @Test("PostgreSQL: vanishing, slow and silent clients of a 200 MB result are cleaned up within 1 s with bounded memory; churn leaves descriptors flat")
    func postgresClientFaults() async throws {
        let env = try TestEnvironment.load()
        try ClientFaultRun(postgres: env).run()
    }
}

struct ClientFaultRun {
    let wireProtocol: String
    let backendPort: Int
    /// Logs in on a raw socket and returns it in the command phase.
    let login: (Int) throws -> ReliabilityRawSocket
    /// A ~200 MB result carrying `marker` in its text.
    let bigQuery: (String) -> [UInt8]
    /// How many server sessions still carry `marker` (running, or idle with it as their last statement).
    let sessionsWith: (String) throws -> Int

    init(mysql env: TestEnvironment) {
        wireProtocol = "mysql"
        backendPort = env.mysql.port
        login = { try ReliabilityMySQLWire.login(port: $0, user: "rel_client") }
        bigQuery = { ReliabilityMySQLWire.query("SELECT repeat('x', 1000) /* \($0) */ FROM mse_demo.seq_1_to_200000") }
        let socket = env.mysql.socket
        sessionsWith = { marker in
            // The session of a vanished client: any rel_client connection (its statement may have ended).
            let out = try Subprocess.run("mariadb", ["--no-defaults", "-uroot", "--socket=\(socket)", "-N", "-B", "-e",
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'rel_client' OR INFO LIKE '%\(marker)%' AND ID <> CONNECTION_ID()"]).requireSuccess()
            return Int(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
    }

    init(postgres env: TestEnvironment) {
        wireProtocol = "postgres"
        backendPort = env.postgres.port
        login = { try ReliabilityPostgresWire.login(port: $0) }
        bigQuery = { ReliabilityPostgresWire.query("SELECT repeat('x', 1000) /* \($0) */ FROM generate_series(1, 200000)") }
        let pg = env.postgres
        sessionsWith = { marker in
            let out = try Subprocess.run("psql", ["-X", "-A", "-t", "-h", pg.host, "-p", "\(pg.port)", "-U", pg.user, "-d", "postgres", "-c",
                "SELECT COUNT(*) FROM pg_stat_activity WHERE query LIKE '%\(marker)%' AND pid <> pg_backend_pid()"],
                environment: ["PGPASSWORD": pg.password]).requireSuccess()
            return Int(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
    }

    /// Seconds until no server session carries `marker` (nil: not within 5 s).
    func secondsUntilGone(_ marker: String) -> Double? {
        let start = Date()
        while Date().timeIntervalSince(start) < 5 {
            if (try? sessionsWith(marker)) == 0 { return Date().timeIntervalSince(start) }
            usleep(20_000)
        }
        return nil
    }

    func run() throws {
        let proxy = try ReliabilityProxyProcess.start(listeners: [
            (name: "client-\(wireProtocol)", wireProtocol: wireProtocol, backendPort: backendPort, maxMessageSize: nil)
        ])
        defer { proxy.stop() }
        let port = proxy.port("client-\(wireProtocol)")
        // Warm the process up (first connection allocations) before taking baselines.
        for _ in 0..<3 { try login(port).close() }
        usleep(200_000)
        let idleFDs = proxy.openDescriptors
        let idleRSS = proxy.residentBytes
        var figures: [String] = []

        // 1. Disconnect in the middle of the result.
        let vanishMarker = "vanish\(UInt32.random(in: 0...UInt32.max))"
        let vanishing = try login(port)
        vanishing.send(bigQuery(vanishMarker))
        var received = 0
        while received < 1 << 20, case .bytes(let chunk) = vanishing.read(timeout: 5) { received += chunk.count }
        #expect(received >= 1 << 20, "the result did not start streaming")
        vanishing.reset()
        let vanishSeconds = secondsUntilGone(vanishMarker)
        #expect(vanishSeconds.map { $0 <= 1.0 } == true, "server session still there \(vanishSeconds.map { "\($0) s" } ?? "after 5 s") after the client vanished")
        figures.append("vanished mid-result: server session gone in \(vanishSeconds.map { String(format: "%.3f s", $0) } ?? "never")")

        // 2. Slow reader: 1 KiB per 100 ms for 3 s.
        let slowMarker = "slow\(UInt32.random(in: 0...UInt32.max))"
        let slow = try login(port)
        let slowStartRSS = proxy.residentBytes
        var slowPeak = slowStartRSS
        slow.send(bigQuery(slowMarker))
        for _ in 0..<30 {
            _ = slow.read(max: 1024, timeout: 1)
            usleep(100_000)
            slowPeak = max(slowPeak, proxy.residentBytes)
        }
        slow.reset()
        #expect(slowPeak - slowStartRSS <= 16 << 20, "slow reader: RSS grew \((slowPeak - slowStartRSS) >> 20) MiB")
        let slowSeconds = secondsUntilGone(slowMarker)
        #expect(slowSeconds.map { $0 <= 1.0 } == true)
        figures.append("slow reader: RSS +\((slowPeak - slowStartRSS) >> 10) KiB over 3 s; session gone in \(slowSeconds.map { String(format: "%.3f s", $0) } ?? "never")")

        // 3. A client that never reads.
        let silentMarker = "silent\(UInt32.random(in: 0...UInt32.max))"
        let silent = try login(port)
        let silentStartRSS = proxy.residentBytes
        var silentPeak = silentStartRSS
        silent.send(bigQuery(silentMarker))
        for _ in 0..<30 {
            usleep(100_000)
            silentPeak = max(silentPeak, proxy.residentBytes)
        }
        silent.reset()
        #expect(silentPeak - silentStartRSS <= 16 << 20, "silent client: RSS grew \((silentPeak - silentStartRSS) >> 20) MiB")
        let silentSeconds = secondsUntilGone(silentMarker)
        #expect(silentSeconds.map { $0 <= 1.0 } == true)
        figures.append("never reads: RSS +\((silentPeak - silentStartRSS) >> 10) KiB over 3 s; session gone in \(silentSeconds.map { String(format: "%.3f s", $0) } ?? "never")")

        // 4. Connect/disconnect churn (every fourth connection logs in fully).
        let environment = ProcessInfo.processInfo.environment
        let rate = environment["SHADOWGATE_CHURN_RATE"].flatMap { Int($0) } ?? 200
        let seconds = environment["SHADOWGATE_CHURN_SECONDS"].flatMap { Double($0) } ?? 5
        let churnStart = Date()
        var opened = 0, failed = 0
        while Date().timeIntervalSince(churnStart) < seconds {
            let due = Int(Date().timeIntervalSince(churnStart) * Double(rate))
            if opened >= due {
                usleep(1000)
                continue
            }
            opened += 1
            do {
                if opened % 4 == 0 {
                    try login(port).close()
                } else {
                    let socket = try ReliabilityRawSocket(port: port)
                    if opened % 2 == 0 { socket.reset() } else { socket.close() }
                }
            } catch { failed += 1 }
        }
        let achieved = Double(opened) / Date().timeIntervalSince(churnStart)
        #expect(failed == 0, "\(failed) of \(opened) churn connections failed")
        #expect(proxy.isRunning)
        let fds = proxy.settleDescriptors(baseline: idleFDs, tolerance: 2)
        let rss = proxy.residentBytes
        #expect(fds <= idleFDs + 2, "descriptors \(idleFDs) → \(fds)")
        #expect(rss <= idleRSS + (32 << 20), "RSS \(idleRSS >> 20) MiB → \(rss >> 20) MiB")
        figures.append("churn: \(opened) connections at \(Int(achieved))/s; fds \(idleFDs) → \(fds); RSS \(idleRSS >> 20) → \(rss >> 20) MiB")
        print("client faults \(wireProtocol):\n  " + figures.joined(separator: "\n  "))
    }
}
