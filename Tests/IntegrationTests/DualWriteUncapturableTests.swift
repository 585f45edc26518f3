import DatabaseClients
import Foundation
import ReplayLog
import ShadowConfig
import Testing

/// Writes the replay log cannot capture are refused on a dual-write lane with an error naming the statement, and the
/// stream keeps mirroring everything else.
@Suite(.serialized) struct DualWriteUncapturableTests {
    /// What `body` threw, as text.
    static func refusal(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch {
            return String(describing: error)
        }
    }

    @Test("MariaDB: LOAD DATA INFILE from a server file and XA are refused on a dual-write listener; other writes mirror")
    func mysqlRefusals() async throws {
        let env = try TestEnvironment.load()
        let base = TestEnvironment.uniqueName("dw_refuse")
        let mirrorDatabase = TestEnvironment.uniqueName("dw_mirror")
        try DualWriteMySQLTests.createTables(env, base: base, mirrorDatabase: mirrorDatabase, mirror: base)
        defer { DualWriteMySQLTests.dropTables(env, base: base, mirrorDatabase: mirrorDatabase) }
        let harness = try await DualWriteHarness(env: env, wireProtocol: .mysql, tables: [:], mirrorDatabase: mirrorDatabase)
        try await harness.run {
            let client = try harness.mysqlClient(env)
            defer { client.close() }
            let server = Self.refusal { _ = try client.execute("load data infile '/nonexistent.csv' into table \(base)") }
            #expect(server.contains("refused in lane 'base', whose writes are mirrored (dual_write): LOAD DATA INFILE without LOCAL"), "\(server)")
            let xa = Self.refusal { _ = try client.execute("XA START 'dw-test'") }
            #expect(xa.contains("XA START is part of an XA transaction"), "\(xa)")
            // The connection is fine and not in an XA transaction: ordinary writes go on and are mirrored.
            _ = try client.execute("INSERT INTO \(base) (note, qty) VALUES ('after', 1)")
            let status = try await harness.waitUntilCaughtUp()
            #expect(status.mirroringStopped == nil)
            #expect(try DualWriteMySQLTests.rows(env, database: mirrorDatabase, shadow: true, table: base).map { $0[1] } == ["after"])
        }
    }

    @Test("MariaDB: LOAD DATA LOCAL INFILE on a dual-write listener is mirrored with the client's file; one over max_copy_bytes closes the connection and loads nothing")
    func mysqlLoadLocalMirrored() async throws {
        let env = try TestEnvironment.load()
        let base = TestEnvironment.uniqueName("dw_load")
        let mirrorDatabase = TestEnvironment.uniqueName("dw_mirror")
        try DualWriteMySQLTests.createTables(env, base: base, mirrorDatabase: mirrorDatabase, mirror: base)
        defer { DualWriteMySQLTests.dropTables(env, base: base, mirrorDatabase: mirrorDatabase) }
        let directory = NSTemporaryDirectory() + "dw-load-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let small = directory + "/small.tsv", large = directory + "/large.tsv"
        try "first\t1\nsecond\t2\n".write(toFile: small, atomically: true, encoding: .utf8)
        try (0..<400).map { "bulk row \($0)\t\($0)\n" }.joined().write(toFile: large, atomically: true, encoding: .utf8)
        let harness = try await DualWriteHarness(
            env: env, wireProtocol: .mysql, tables: [:], mirrorDatabase: mirrorDatabase, maxCopyBytes: 4096)
        try await harness.run {
            var configuration = env.mariaDB()
            configuration.host = "127.0.0.1"
            configuration.port = harness.port
            configuration.localInfile = true
            let client = try MariaDBConnection(configuration: configuration)
            defer { client.close() }
            #expect(try client.execute("LOAD DATA LOCAL INFILE '\(small)' INTO TABLE \(base) (note, qty)") == 2)
            // Over the limit: the proxy closes the connection mid-load, so the server rolls the statement back.
            let tooLarge = Self.refusal { _ = try client.execute("LOAD DATA LOCAL INFILE '\(large)' INTO TABLE \(base) (note, qty)") }
            #expect(tooLarge.contains("LOAD DATA LOCAL INFILE data is captured up to 4096 bytes"), "\(tooLarge)")
            let after = try MariaDBConnection(configuration: configuration)
            defer { after.close() }
            _ = try after.execute("INSERT INTO \(base) (note, qty) VALUES ('after', 3)")
            let status = try await harness.waitUntilCaughtUp()
            #expect(status.mirroringStopped == nil)
            let expected = ["first", "second", "after"]
            #expect(try DualWriteMySQLTests.rows(env, shadow: false, table: base).map { $0[1] } == expected)
            #expect(try DualWriteMySQLTests.rows(env, database: mirrorDatabase, shadow: true, table: base).map { $0[1] } == expected)
        }
    }

    @Test("PostgreSQL: COPY FROM a server file or program, COPY FROM STDIN among other statements, and two-phase commit are refused; COPY TO and other writes work")
    func postgresRefusals() async throws {
        let env = try TestEnvironment.load()
        let base = TestEnvironment.uniqueName("dw_refuse")
        let mirrorDatabase = TestEnvironment.uniqueName("dw_mirror")
        try DualWritePostgresTests.createTables(env, base: base, mirrorDatabase: mirrorDatabase, mirror: base)
        defer { DualWritePostgresTests.dropTables(env, base: base, mirrorDatabase: mirrorDatabase) }
        let harness = try await DualWriteHarness(env: env, wireProtocol: .postgres, tables: [:], mirrorDatabase: mirrorDatabase)
        try await harness.run {
            let client = try harness.postgresClient(env)
            defer { client.close() }
            let file = Self.refusal { _ = try client.simpleQuery("COPY \(base) FROM '/nonexistent.csv'") }
            #expect(file.contains("whose writes are mirrored (dual_write): COPY … FROM a file or a program"), "\(file)")
            let program = Self.refusal { _ = try client.simpleQuery("COPY \(base) FROM PROGRAM 'cat /nonexistent.csv'") }
            #expect(program.contains("COPY … FROM a file or a program"), "\(program)")
            let among = Self.refusal { _ = try client.copyIn("SELECT 1; COPY \(base) (id, note) FROM STDIN", text: "9\tcopied\n") }
            #expect(among.contains("COPY … FROM STDIN is captured only as the one statement of its message"), "\(among)")
            _ = try client.simpleQuery("BEGIN")
            _ = try client.simpleQuery("INSERT INTO \(base) VALUES (1, 'two-phase')")
            let prepare = Self.refusal { _ = try client.simpleQuery("PREPARE TRANSACTION 'dw-test'") }
            #expect(prepare.contains("two-phase commit"), "\(prepare)")
            _ = try client.simpleQuery("ROLLBACK")
            // Reads and ordinary writes are untouched.
            #expect(try client.copyOut("COPY (SELECT 1) TO STDOUT") == Array("1\n".utf8))
            _ = try client.simpleQuery("INSERT INTO \(base) VALUES (2, 'after', 1)")
            let status = try await harness.waitUntilCaughtUp()
            #expect(status.mirroringStopped == nil)
            #expect(try DualWritePostgresTests.rows(env, shadow: true, database: mirrorDatabase, table: base).map { $0[1] } == ["after"])
        }
    }

    @Test("PostgreSQL: COPY FROM STDIN on a dual-write listener is mirrored with its rows; one over max_copy_bytes fails on the primary too, and the connection goes on")
    func postgresCopyMirrored() async throws {
        let env = try TestEnvironment.load()
        let base = TestEnvironment.uniqueName("dw_copy")
        let mirrorDatabase = TestEnvironment.uniqueName("dw_mirror")
        try DualWritePostgresTests.createTables(env, base: base, mirrorDatabase: mirrorDatabase, mirror: base)
        defer { DualWritePostgresTests.dropTables(env, base: base, mirrorDatabase: mirrorDatabase) }
        let harness = try await DualWriteHarness(
            env: env, wireProtocol: .postgres, tables: [:], mirrorDatabase: mirrorDatabase, maxCopyBytes: 4096)
        try await harness.run {
            let client = try harness.postgresClient(env)
            defer { client.close() }
            // Three CopyData messages, split inside a row: the mirror gets the same bytes.
            _ = try client.copyIn("COPY \(base) (id, note, qty) FROM STDIN", chunks: [Array("1\tfirst\t1\n2\tsec".utf8), Array("ond\t2\n".utf8), Array("3\tthird\t3\n".utf8)])
            _ = try client.simpleQuery("BEGIN")
            _ = try client.copyIn("COPY \(base) (id, note, qty) FROM STDIN WITH (FORMAT csv)", text: "4,in a transaction,4\n")
            _ = try client.simpleQuery("COMMIT")
            // Over the limit: the proxy fails the COPY, so the primary loads nothing the mirror would miss.
            let big = (100..<400).map { "\($0)\tbulk row \($0)\t\($0)\n" }.joined()
            #expect(big.utf8.count > 4096)
            let tooLarge = Self.refusal { _ = try client.copyIn("COPY \(base) (id, note, qty) FROM STDIN", text: big) }
            #expect(tooLarge.contains("COPY FROM STDIN data is captured up to 4096 bytes"), "\(tooLarge)")
            _ = try client.simpleQuery("INSERT INTO \(base) VALUES (5, 'after', 5)")
            let status = try await harness.waitUntilCaughtUp()
            #expect(status.mirroringStopped == nil)
            let expected = ["first", "second", "third", "in a transaction", "after"]
            #expect(try DualWritePostgresTests.rows(env, shadow: false, table: base).map { $0[1] } == expected)
            #expect(try DualWritePostgresTests.rows(env, shadow: true, database: mirrorDatabase, table: base).map { $0[1] } == expected)
        }
    }
}
