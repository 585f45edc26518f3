import DatabaseClients
import Foundation
import ReplayLog
import ShadowConfig
import Testing

/// Dual-write through the MySQL proxy into the shadow MariaDB as the mirror, checked row by row.
@Suite(.serialized) struct DualWriteMySQLTests {
    static let ddl = "(id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(64) NOT NULL, qty INT NOT NULL DEFAULT 0)"

    /// The base table on the primary, and a private mirror database on the shadow server holding `mirror`.
    static func createTables(_ env: TestEnvironment, base: String, mirrorDatabase: String, mirror: String, mirrorDDL: String = ddl) throws {
        let primary = try MariaDBConnection(configuration: env.mariaDB())
        defer { primary.close() }
        _ = try primary.execute("CREATE TABLE \(base) \(ddl)")
        try DualWriteHarness.createMirrorDatabase(env, wireProtocol: .mysql, name: mirrorDatabase, tableDDL: "\(mirror) \(mirrorDDL)")
    }

    static func dropTables(_ env: TestEnvironment, base: String, mirrorDatabase: String) {
        if let primary = try? MariaDBConnection(configuration: env.mariaDB()) {
            _ = try? primary.execute("DROP TABLE IF EXISTS \(base)")
            primary.close()
        }
        DualWriteHarness.dropMirrorDatabase(env, wireProtocol: .mysql, name: mirrorDatabase)
    }

    static func rows(
        _ env: TestEnvironment, database: String = "mse_demo", shadow: Bool, table: String, columns: String = "id, note, qty"
    ) throws -> [[String?]] {
        let connection = try MariaDBConnection(configuration: env.mariaDB(shadow: shadow, database: database))
        defer { connection.close() }
        return try connection.query("SELECT \(columns) FROM \(table) ORDER BY id").rows
    }

    @Test("autocommit writes, commits, rollbacks and savepoints reach the mirror table exactly, ids included")
    func transactionsReachMirror() async throws {
        let env = try TestEnvironment.load()
        let base = TestEnvironment.uniqueName("dw_orders")
        let mirror = base + "_v2"
        let mirrorDatabase = TestEnvironment.uniqueName("dw_mirror")
        try Self.createTables(env, base: base, mirrorDatabase: mirrorDatabase, mirror: mirror)
        defer { Self.dropTables(env, base: base, mirrorDatabase: mirrorDatabase) }
        let harness = try await DualWriteHarness(
            env: env, wireProtocol: .mysql, tables: [base: mirror], mirrorDatabase: mirrorDatabase)
        do {
            let client = try MariaDBConnection(configuration: {
                var c = env.mariaDB()
                c.host = "127.0.0.1"
                c.port = harness.port
                return c
            }())
            defer { client.close() }
            // Start ids far from 1 so INSERT_ID replay is visible (the mirror table starts at 1).
            _ = try client.execute("INSERT INTO \(base) (id, note) VALUES (1000, 'seed')")
            _ = try client.execute("INSERT INTO \(base) (note, qty) VALUES ('a', 1)")
            _ = try client.execute("INSERT INTO \(base) (note, qty) VALUES ('b', 2), ('c', 3)")
            _ = try client.execute("BEGIN")
            _ = try client.execute("INSERT INTO \(base) (note) VALUES ('in-tx')")
            _ = try client.execute("UPDATE \(base) SET qty = qty + 10 WHERE note = 'a'")
            _ = try client.execute("COMMIT")
            _ = try client.execute("START TRANSACTION")
            _ = try client.execute("INSERT INTO \(base) (note) VALUES ('rolled-back')")
            _ = try client.execute("ROLLBACK")
            _ = try client.execute("BEGIN")
            _ = try client.execute("INSERT INTO \(base) (note) VALUES ('kept-1')")
            _ = try client.execute("SAVEPOINT sp")
            _ = try client.execute("INSERT INTO \(base) (note) VALUES ('undone')")
            _ = try client.execute("ROLLBACK TO SAVEPOINT sp")
            _ = try client.execute("INSERT INTO \(base) (note) VALUES ('kept-2')")
            _ = try client.execute("COMMIT")
            _ = try client.execute("INSERT INTO \(base) (note) VALUES (CONCAT('last-', LAST_INSERT_ID()))")
            _ = try client.execute("DELETE FROM \(base) WHERE note = 'b'")
            #expect(throws: (any Error).self) { try client.execute("INSERT INTO \(base) (id, note) VALUES (1000, 'duplicate')") }
            _ = try client.query("SELECT COUNT(*) FROM \(base)")

            let status = try await harness.waitUntilCaughtUp()
            let primaryRows = try Self.rows(env, shadow: false, table: base)
            let mirrorRows = try Self.rows(env, database: mirrorDatabase, shadow: true, table: mirror)
            #expect(mirrorRows == primaryRows)
            #expect(!primaryRows.contains { $0[1] == "rolled-back" || $0[1] == "undone" })
            #expect(primaryRows.count == 7)
            // seed, a, b+c, tx, kept tx, last, delete: 7 records; the rollback and the failed insert add none.
            #expect(status.lastLSN == 7)
            #expect(status.applierState == "running")
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    @Test("server-side prepared statements are mirrored with their typed values (ints, text, doubles, bytes, NULL, dates)")
    func preparedStatements() async throws {
        try await Self.withMirroredTable(
            prefix: "dw_prepared",
            ddl: "(id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(64), qty BIGINT, price DOUBLE, data BLOB, at DATETIME(6))"
        ) { env, table, primary, mirrorDatabase, harness, client in
            let insert = try client.prepare("INSERT INTO \(table) (note, qty, price, data, at) VALUES (?, ?, ?, ?, ?)")
            _ = try insert.execute(params: [.text("héllo"), .int(-42), .double(2.5), .bytes([0, 1, 254, 255]), .text("2024-02-29 13:14:15.123456")])
            _ = try insert.execute(params: [.null, .int(Int64.max), .double(-0.125), .null, .null])
            _ = try client.execute("BEGIN")
            _ = try insert.execute(params: [.text("in-tx"), .int(7), .null, .null, .null])
            let update = try client.prepare("UPDATE \(table) SET qty = qty + ? WHERE note = ?")
            _ = try update.execute(params: [.int(100), .text("in-tx")])
            _ = try client.execute("COMMIT")
            _ = try client.execute("BEGIN")
            _ = try insert.execute(params: [.text("rolled-back"), .int(1), .null, .null, .null])
            _ = try client.execute("ROLLBACK")
            // Values the applier writes into the statement text as literals: quotes, a backslash, a question mark,
            // an exponent, an empty string and bytes; a placeholder next to a quoted one; a text value matched
            // case-insensitively by the column's collation, as the bound value was; a comment at the end.
            _ = try insert.execute(params: [.text("O'Brien \\ ?"), .int(0), .double(1e300), .bytes([]), .null])
            _ = try insert.execute(params: [.text(""), .int(1), .null, .null, .null])
            let quoted = try client.prepare("UPDATE \(table) SET note = CONCAT(note, '?'), qty = ? WHERE note = ? -- trailing")
            _ = try quoted.execute(params: [.int(5), .text("IN-TX")])
            _ = try client.execute("INSERT INTO \(table) (note, qty) VALUES ('text -- ?', 1) -- a comment")
            insert.close()
            update.close()
            quoted.close()

            _ = try await harness.waitUntilCaughtUp()
            let select = "SELECT id, note, qty, price, HEX(data), at FROM \(table) ORDER BY id"
            let primaryRows = try primary.query(select).rows
            let mirror = try MariaDBConnection(configuration: env.mariaDB(shadow: true, database: mirrorDatabase))
            defer { mirror.close() }
            #expect(try mirror.query(select).rows == primaryRows)
            #expect(primaryRows.count == 6)
            #expect(primaryRows.first?[4] == "0001FEFF")
            #expect(primaryRows.contains { $0[1] == "in-tx?" && $0[2] == "5" })
        }
    }

    @Test("a 3 MiB prepared value between small ones in one transaction reaches the mirror intact (large values stay bound, small ones share a text)")
    func largeValueStaysBound() async throws {
        try await Self.withMirroredTable(prefix: "dw_large", ddl: "(id INT AUTO_INCREMENT PRIMARY KEY, data LONGBLOB)") {
            env, table, primary, mirrorDatabase, harness, client in
            let insert = try client.prepare("INSERT INTO \(table) (data) VALUES (?)")
            _ = try client.execute("BEGIN")
            _ = try insert.execute(params: [.bytes([1, 2, 3])])
            _ = try insert.execute(params: [.bytes((0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })])
            _ = try insert.execute(params: [.bytes([4, 5, 6])])
            _ = try client.execute("COMMIT")
            insert.close()
            _ = try await harness.waitUntilCaughtUp()
            let select = "SELECT id, LENGTH(data), MD5(data) FROM \(table) ORDER BY id"
            let mirror = try MariaDBConnection(configuration: env.mariaDB(shadow: true, database: mirrorDatabase))
            defer { mirror.close() }
            let primaryRows = try primary.query(select).rows
            #expect(primaryRows.count == 3 && primaryRows[1][1] == "\(3 << 20)")
            #expect(try mirror.query(select).rows == primaryRows)
        }
    }

    /// A table on the primary and the same table in a private mirror database, a dual-write proxy (sync, tables
    /// unrenamed) and a client connected through it; everything is dropped and stopped afterwards.
    static func withMirroredTable(
        prefix: String, ddl: String,
        _ body: (TestEnvironment, String, MariaDBConnection, String, DualWriteHarness, MariaDBConnection) async throws -> Void
    ) async throws {
        let env = try TestEnvironment.load()
        let table = TestEnvironment.uniqueName(prefix)
        let mirrorDatabase = TestEnvironment.uniqueName("dw_mirror")
        let primary = try MariaDBConnection(configuration: env.mariaDB())
        defer { primary.close() }
        _ = try primary.execute("CREATE TABLE \(table) \(ddl)")
        try DualWriteHarness.createMirrorDatabase(env, wireProtocol: .mysql, name: mirrorDatabase, tableDDL: "\(table) \(ddl)")
        defer {
            _ = try? primary.execute("DROP TABLE IF EXISTS \(table)")
            DualWriteHarness.dropMirrorDatabase(env, wireProtocol: .mysql, name: mirrorDatabase)
        }
        let harness = try await DualWriteHarness(env: env, wireProtocol: .mysql, tables: [:], mirrorDatabase: mirrorDatabase)
        do {
            var configuration = env.mariaDB()
            configuration.host = "127.0.0.1"
            configuration.port = harness.port
            let client = try MariaDBConnection(configuration: configuration)
            defer { client.close() }
            try await body(env, table, primary, mirrorDatabase, harness, client)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }
}
