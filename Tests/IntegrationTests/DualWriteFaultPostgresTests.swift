import DatabaseClients
import Foundation
import ShadowConfig
import ShadowDiff
import ShadowSQL
import Testing

extension DualWriteFaultTests {
    @Test("PostgreSQL: kill -9 of shadowgate serve under a sync write load loses no acknowledged write (counted and diffed)")
    func killNinePostgres() async throws {
        let env = try TestEnvironment.load()
        let base = TestEnvironment.uniqueName("dw_kill")
        let mirrorDatabase = TestEnvironment.uniqueName("dw_mirror")
        try DualWritePostgresTests.createTables(env, base: base, mirrorDatabase: mirrorDatabase, mirror: base)
        defer { DualWritePostgresTests.dropTables(env, base: base, mirrorDatabase: mirrorDatabase) }
        let outcome = try await Self.killNineScenario(
            env, wireProtocol: .postgres, mirrorDatabase: mirrorDatabase,
            connect: { port in
                guard let client = try? DualWriteHarness.postgresClient(env, port: port) else { return nil }
                return { id, step in
                    switch step % 4 {
                    case 0:
                        _ = try client.simpleQuery("BEGIN")
                        _ = try client.simpleQuery("INSERT INTO \(base) (id, note) VALUES (\(id), 'tx')")
                        _ = try client.execute("INSERT INTO \(base) (id, note) VALUES ($1, 'tx')", params: ["\(id + 500_000)"])
                        _ = try client.simpleQuery("COMMIT")
                        return [id, id + 500_000]
                    case 1:
                        _ = try client.execute("INSERT INTO \(base) (id, note) VALUES ($1, $2)", params: ["\(id)", "extended"])
                    default:
                        _ = try client.simpleQuery("INSERT INTO \(base) (id, note) VALUES (\(id), 'auto')")
                    }
                    return [id]
                }
            },
            ids: { shadow in
                try DualWritePostgresTests.rows(env, shadow: shadow, database: shadow ? mirrorDatabase : "mse_demo", table: base)
                    .compactMap { $0[0].flatMap { Int($0) } }
            })

        // The diff tool sees the same: nothing extra or changed on the mirror; at most the writes that were in flight
        // at the kill (committed on the primary, never acknowledged) are missing.
        let report = try DualWriteHarness.diff(
            env, .postgres, pair: TablePair(base: TableName(schema: "public", name: base), shadow: TableName(schema: "public", name: base)),
            mirrorDatabase: mirrorDatabase)
        let table = try #require(report.tables.first)
        #expect(table.extraInShadow == 0 && table.changed == 0, "diff: \(table)")
        #expect(table.missingInShadow == outcome.primary.count - outcome.mirror.count)
        #expect(table.missingInShadow <= outcome.primary.count - outcome.acknowledged.count, "only unacknowledged writes may be missing")
    }
}
