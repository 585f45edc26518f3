import DatabaseClients
import Foundation
import ReplayLog
import ShadowConfig
import ShadowDiff
import ShadowSQL
import Testing

/// Dual-write into a mirror whose table has new column names (`columns:`), on MariaDB and PostgreSQL, checked row by
/// row and with the diff tool given the same column map.
@Suite(.serialized) struct DualWriteColumnMapTests {
    static let renames = ["note": "remark", "qty": "quantity"]

    /// `base` on the primary against `mirror` in `mirrorDatabase`, columns renamed as configured.
    static func diff(_ env: TestEnvironment, _ dialect: SQLDialect, base: String, mirrorDatabase: String, mirror: String) throws -> DiffReport {
        let mysql = dialect == .mysql
        let pair = TablePair(
            base: TableName(schema: mysql ? "mse_demo" : "public", name: base),
            shadow: TableName(schema: mysql ? mirrorDatabase : "public", name: mirror), columns: renames)
        return try DualWriteHarness.diff(env, dialect, pair: pair, mirrorDatabase: mirrorDatabase)
    }

    @Test("MariaDB: inserts, upserts, updates, deletes and prepared statements reach renamed mirror columns; diff agrees")
    func mysqlColumnMap() async throws {
        let env = try TestEnvironment.load()
        let base = TestEnvironment.uniqueName("dw_cols")
        let mirror = base + "_v2"
        let mirrorDatabase = TestEnvironment.uniqueName("dw_mirror")
        try DualWriteMySQLTests.createTables(
            env, base: base, mirrorDatabase: mirrorDatabase, mirror: mirror,
            mirrorDDL: "(id INT AUTO_INCREMENT PRIMARY KEY, remark VARCHAR(64) NOT NULL, quantity INT NOT NULL DEFAULT 0)")
        defer { DualWriteMySQLTests.dropTables(env, base: base, mirrorDatabase: mirrorDatabase) }
        let harness = try await DualWriteHarness(
            env: env, wireProtocol: .mysql, tables: [base: mirror], columns: [base: Self.renames], mirrorDatabase: mirrorDatabase)
        try await harness.run {
            let client = try harness.mysqlClient(env)
            defer { client.close() }
            _ = try client.execute("INSERT INTO \(base) (note, qty) VALUES ('a', 1), ('b', 2)")
            _ = try client.execute("INSERT INTO \(base) SET note = 'c', qty = 3")
            _ = try client.execute("INSERT INTO \(base) (id, note, qty) VALUES (1, 'dup', 5) ON DUPLICATE KEY UPDATE qty = qty + VALUES(qty)")
            _ = try client.execute("BEGIN")
            _ = try client.execute("UPDATE \(base) SET note = CONCAT(note, '!'), qty = qty * 2 WHERE qty > 2 ORDER BY qty LIMIT 5")
            _ = try client.execute("UPDATE \(base) t SET t.qty = t.qty + 1 WHERE t.note = 'b'")
            _ = try client.execute("COMMIT")
            let insert = try client.prepare("INSERT INTO \(base) (note, qty) VALUES (?, ?)")
            _ = try insert.execute(params: [.text("prepared"), .int(9)])
            _ = try client.execute("DELETE FROM \(base) WHERE \(base).qty = 9 AND note = 'nothing'")
            _ = try client.execute("DELETE FROM \(base) WHERE note = 'c!'")

            let status = try await harness.waitUntilCaughtUp()
            #expect(status.mirroringStopped == nil)
            let primaryRows = try DualWriteMySQLTests.rows(env, shadow: false, table: base)
            let mirrorRows = try DualWriteMySQLTests.rows(
                env, database: mirrorDatabase, shadow: true, table: mirror, columns: "id, remark, quantity")
            #expect(primaryRows.count == 3)
            #expect(mirrorRows == primaryRows)
            let report = try Self.diff(env, .mysql, base: base, mirrorDatabase: mirrorDatabase, mirror: mirror)
            #expect(report.tables.first?.columns.count == 3)
            #expect(report.exitCode == 0, "diff found differences: \(report.tables)")

            // A statement whose columns cannot be attributed still succeeds for the client, but stops the stream.
            _ = try client.execute("INSERT INTO \(base) VALUES (NULL, 'positional', 1)")
            #expect(harness.stream.status.mirroringStopped?.contains("INSERT without a column list") == true)
        }
    }

    @Test("PostgreSQL: inserts, ON CONFLICT upserts, updates, deletes and RETURNING reach renamed mirror columns; diff agrees")
    func postgresColumnMap() async throws {
        let env = try TestEnvironment.load()
        let base = TestEnvironment.uniqueName("dw_cols")
        let mirror = base + "_v2"
        let mirrorDatabase = TestEnvironment.uniqueName("dw_mirror")
        try DualWritePostgresTests.createTables(
            env, base: base, mirrorDatabase: mirrorDatabase, mirror: mirror,
            mirrorDDL: "(id INT PRIMARY KEY, remark TEXT NOT NULL, quantity INT NOT NULL DEFAULT 0)")
        defer { DualWritePostgresTests.dropTables(env, base: base, mirrorDatabase: mirrorDatabase) }
        let harness = try await DualWriteHarness(
            env: env, wireProtocol: .postgres, tables: [base: mirror], columns: [base: Self.renames], mirrorDatabase: mirrorDatabase)
        try await harness.run {
            let client = try harness.postgresClient(env)
            defer { client.close() }
            _ = try client.simpleQuery("INSERT INTO \(base) (id, note, qty) VALUES (1, 'a', 1), (2, 'b', 2)")
            _ = try client.query("INSERT INTO \(base) (id, note, qty) VALUES ($1, $2, $3) RETURNING note", params: ["3", "c", "3"])
            _ = try client.simpleQuery(
                "INSERT INTO \(base) AS o (id, note) VALUES (1, 'dup') ON CONFLICT (id) DO UPDATE SET qty = o.qty + 5, note = EXCLUDED.note")
            _ = try client.simpleQuery("BEGIN")
            _ = try client.simpleQuery("UPDATE \(base) SET note = note || '!', \"qty\" = qty * 2 WHERE qty > 2")
            _ = try client.execute("UPDATE \(base) SET qty = qty + $1 WHERE \(base).note = $2", params: ["1", "b"])
            _ = try client.simpleQuery("COMMIT")
            _ = try client.simpleQuery("DELETE FROM \(base) WHERE note = 'c!' RETURNING qty")

            let status = try await harness.waitUntilCaughtUp()
            #expect(status.mirroringStopped == nil)
            let primaryRows = try DualWritePostgresTests.rows(env, shadow: false, table: base)
            let mirrorRows = try DualWritePostgresTests.withServer(env, shadow: true, database: mirrorDatabase) {
                try $0.simpleQuery("SELECT id, remark, quantity FROM \(mirror) ORDER BY id").rows
            }
            #expect(primaryRows.count == 2)
            #expect(mirrorRows == primaryRows)
            let report = try Self.diff(env, .postgres, base: base, mirrorDatabase: mirrorDatabase, mirror: mirror)
            #expect(report.tables.first?.columns.count == 3)
            #expect(report.exitCode == 0, "diff found differences: \(report.tables)")

            // An unqualified renamed column in a statement naming two tables cannot be attributed: the stream stops.
            _ = try client.simpleQuery(
                "DELETE FROM \(base) WHERE id IN (SELECT id FROM \(base) WHERE qty < 0) AND note IN (SELECT datname FROM pg_database)")
            #expect(harness.stream.status.mirroringStopped?.contains("is not qualified") == true)
        }
    }
}
