import DatabaseClients
import Foundation
import ReplayLog
import ShadowConfig
import Testing

/// Dual-write through the PostgreSQL proxy into the shadow PostgreSQL as the mirror, checked row by row.
@Suite(.serialized) struct DualWritePostgresTests {
    static func withServer<T>(
        _ env: TestEnvironment, shadow: Bool, database: String = "mse_demo", _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        let connection = try PostgresConnection(configuration: env.postgresServer(shadow: shadow, database: database))
        defer { connection.close() }
        return try body(connection)
    }

    static func rows(_ env: TestEnvironment, shadow: Bool, database: String = "mse_demo", table: String) throws -> [[String?]] {
        try withServer(env, shadow: shadow, database: database) { try $0.simpleQuery("SELECT id, note, qty FROM \(table) ORDER BY id").rows }
    }

    @Test("simple and extended protocol writes, transactions, rollbacks and savepoints reach the mirror exactly")
    func transactionsReachMirror() async throws {
        let env = try TestEnvironment.load()
        let base = TestEnvironment.uniqueName("dw_orders")
        let mirror = base + "_v2"
        let ddl = "(id INT PRIMARY KEY, note TEXT NOT NULL, qty INT NOT NULL DEFAULT 0)"
        try Self.withServer(env, shadow: false) { _ = try $0.execute("CREATE TABLE \(base) \(ddl)") }
        let mirrorDatabase = TestEnvironment.uniqueName("dw_mirror")
        try DualWriteHarness.createMirrorDatabase(env, wireProtocol: .postgres, name: mirrorDatabase, tableDDL: "\(mirror) \(ddl)")
        defer {
            _ = try? Self.withServer(env, shadow: false) { try $0.execute("DROP TABLE IF EXISTS \(base)") }
            DualWriteHarness.dropMirrorDatabase(env, wireProtocol: .postgres, name: mirrorDatabase)
        }
        let harness = try await DualWriteHarness(
            env: env, wireProtocol: .postgres, tables: [base: mirror], mirrorDatabase: mirrorDatabase)
        do {
            var configuration = env.postgresServer()
            configuration.host = "127.0.0.1"
            configuration.port = harness.port
            let client = try PostgresConnection(configuration: configuration)
            defer { client.close() }
            _ = try client.simpleQuery("INSERT INTO \(base) VALUES (1, 'simple', 1)")
            _ = try client.execute("INSERT INTO \(base) VALUES ($1, $2, $3)", params: ["2", "extended", "2"])
            _ = try client.simpleQuery("BEGIN")
            _ = try client.execute("INSERT INTO \(base) VALUES ($1, $2)", params: ["3", "in-tx"])
            _ = try client.simpleQuery("UPDATE \(base) SET qty = qty + 10 WHERE id = 1")
            _ = try client.simpleQuery("COMMIT")
            _ = try client.simpleQuery("BEGIN; INSERT INTO \(base) VALUES (4, 'rolled-back'); ROLLBACK")
            _ = try client.simpleQuery("BEGIN")
            _ = try client.simpleQuery("INSERT INTO \(base) VALUES (5, 'kept-1')")
            _ = try client.simpleQuery("SAVEPOINT sp")
            _ = try client.simpleQuery("INSERT INTO \(base) VALUES (6, 'undone')")
            _ = try client.simpleQuery("ROLLBACK TO SAVEPOINT sp")
            _ = try client.simpleQuery("INSERT INTO \(base) VALUES (7, 'kept-2')")
            _ = try client.simpleQuery("COMMIT")
            // A failed statement aborts the transaction: its COMMIT answers ROLLBACK and nothing is mirrored.
            _ = try client.simpleQuery("BEGIN")
            _ = try client.simpleQuery("INSERT INTO \(base) VALUES (8, 'aborted')")
            #expect(throws: (any Error).self) { try client.simpleQuery("INSERT INTO \(base) VALUES (1, 'duplicate')") }
            _ = try client.simpleQuery("COMMIT")
            // One Query, two statements, an implicit transaction that fails as a whole.
            #expect(throws: (any Error).self) { try client.simpleQuery("INSERT INTO \(base) VALUES (9, 'implicit'); INSERT INTO \(base) VALUES (1, 'dup')") }
            _ = try client.simpleQuery("INSERT INTO \(base) VALUES (10, 'x'); DELETE FROM \(base) WHERE id = 2")
            _ = try client.simpleQuery("SELECT count(*) FROM \(base)")

            let status = try await harness.waitUntilCaughtUp()
            let primaryRows = try Self.rows(env, shadow: false, table: base)
            #expect(try Self.rows(env, shadow: true, database: mirrorDatabase, table: mirror) == primaryRows)
            #expect(primaryRows.map { $0[0] } == ["1", "3", "5", "7", "10"])
            // simple, extended, tx, kept tx, multi-statement: 5 records.
            #expect(status.lastLSN == 5)
            #expect(status.applierState == "running")
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }
}
