import DatabaseClients
import Foundation
import ReplayLog
import ShadowConfig
import Testing

/// Dual-write under faults, against real servers: the mirror going away, a crashed proxy, a torn log tail.
@Suite(.serialized) struct DualWriteFaultTests {
    static func proxyClient(_ env: TestEnvironment, port: Int) throws -> MariaDBConnection {
        var configuration = env.mariaDB()
        configuration.host = "127.0.0.1"
        configuration.port = port
        return try MariaDBConnection(configuration: configuration)
    }

    @Test("while the mirror is unreachable the primary path succeeds and the log grows; afterwards the mirror catches up identical")
    func mirrorOutage() async throws {
        let env = try TestEnvironment.load()
        let base = TestEnvironment.uniqueName("dw_outage")
        let mirrorDatabase = TestEnvironment.uniqueName("dw_mirror")
        try DualWriteMySQLTests.createTables(env, base: base, mirrorDatabase: mirrorDatabase, mirror: base)
        defer { DualWriteMySQLTests.dropTables(env, base: base, mirrorDatabase: mirrorDatabase) }
        let relay = TCPRelay(targetHost: env.mysql.host, targetPort: env.mysql.shadowPort)
        try await relay.open()
        let harness = try await DualWriteHarness(
            env: env, wireProtocol: .mysql, tables: [:], mirror: Endpoint(host: "127.0.0.1", port: relay.port),
            mirrorDatabase: mirrorDatabase)
        do {
            let client = try Self.proxyClient(env, port: harness.port)
            defer { client.close() }
            for i in 0..<20 { _ = try client.execute("INSERT INTO \(base) (note, qty) VALUES ('before-\(i)', \(i))") }
            _ = try await harness.waitUntilCaughtUp()

            await relay.cut()
            let started = Date()
            for i in 0..<50 {
                _ = try client.execute("INSERT INTO \(base) (note, qty) VALUES ('during-\(i)', \(i))")
                if i % 10 == 0 { _ = try client.execute("UPDATE \(base) SET qty = qty + 1 WHERE id % 3 = 0") }
            }
            // The primary path did not wait for the mirror.
            #expect(Date().timeIntervalSince(started) < 10)
            try await Task.sleep(for: .milliseconds(300))
            let during = harness.stream.status
            #expect(during.lagRecords > 0)
            #expect(during.applierState == "waiting-for-mirror")
            #expect(during.logBytes > 0)
            #expect(try DualWriteMySQLTests.rows(env, database: mirrorDatabase, shadow: true, table: base).count == 20)

            try await relay.open()
            let status = try await harness.waitUntilCaughtUp(timeout: 30)
            #expect(status.lagRecords == 0)
            let primaryRows = try DualWriteMySQLTests.rows(env, shadow: false, table: base)
            #expect(primaryRows.count == 70)
            #expect(try DualWriteMySQLTests.rows(env, database: mirrorDatabase, shadow: true, table: base) == primaryRows)
        } catch {
            await harness.stop()
            await relay.cut()
            throw error
        }
        await harness.stop()
        await relay.cut()
    }
}
