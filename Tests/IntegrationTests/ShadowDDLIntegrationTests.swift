import DatabaseClients
import ShadowSQL
import Testing

/// `shadowgate shadow-ddl` against the real MariaDB and PostgreSQL servers.
@Suite struct ShadowDDLIntegrationTests {
    func ddl(_ h: DataToolHarness, _ tables: [String], apply: Bool, config: String) async -> (code: Int32, out: String, err: String) {
        var arguments = ["shadow-ddl", "--config", config, "--lane", "gray"]
        for table in tables { arguments += ["--table", table] }
        return await h.shadowgate(arguments + (apply ? ["--apply"] : []))
    }

    @Test("MariaDB: LIKE copies the table, foreign keys are re-pointed at the parent's shadow, a re-run finds it up to date")
    func mariaDBForeignKeysAndGenerated() async throws {
        let h = try DataToolHarness(.mysql)
        defer { h.drop() }
        try h.run(
            "CREATE TABLE \(h.t("parent")) (a INT NOT NULL, b INT NOT NULL, PRIMARY KEY (a, b))",
            "CREATE TABLE \(h.t("child")) (id INT AUTO_INCREMENT PRIMARY KEY, a INT NOT NULL, b INT NOT NULL, "
                + "total INT AS (a + b) VIRTUAL, note VARCHAR(20) DEFAULT 'x', KEY k_note (note), "
                + "CONSTRAINT fk_parent FOREIGN KEY (a, b) REFERENCES \(h.t("parent")) (a, b) ON DELETE CASCADE)"
        )
        let config = try h.configuration()
        let printed = await ddl(h, [h.t("parent"), h.t("child")], apply: false, config: config)
        #expect(printed.code == 0, "\(printed.err)")
        #expect(printed.out.contains("CREATE TABLE `\(h.schema)`.`child_gray` LIKE `\(h.schema)`.`child`"))
        #expect(try h.scalar("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '\(h.schema)'") == "2")

        let applied = await ddl(h, [h.t("parent"), h.t("child")], apply: true, config: config)
        #expect(applied.code == 0, "\(applied.err)")
        let referenced = try h.scalar(
            "SELECT REFERENCED_TABLE_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = '\(h.schema)' "
                + "AND TABLE_NAME = 'child_gray' AND REFERENCED_TABLE_NAME IS NOT NULL LIMIT 1"
        )
        #expect(referenced == "parent_gray")
        let again = await ddl(h, [h.t("parent"), h.t("child")], apply: false, config: config)
        #expect(again.code == 0, "\(again.err)")
        #expect(again.out.isEmpty)
        #expect(again.err.contains("up to date"))
    }

    @Test("a shadow whose shape differs is reported (exit 1), never altered", arguments: SQLDialect.allCases)
    func shapeDifferences(dialect: SQLDialect) async throws {
        let h = try DataToolHarness(dialect)
        defer { h.drop() }
        try h.run(
            "CREATE TABLE \(h.t("shape")) (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL)",
            "CREATE TABLE \(h.t("shape_gray")) (id INT PRIMARY KEY, name VARCHAR(30))"
        )
        let result = await ddl(h, [h.t("shape")], apply: true, config: try h.configuration())
        #expect(result.code == 1)
        #expect(result.err.contains("column name"))
        #expect(result.out.isEmpty)
    }

    @Test("a foreign key to a table the lane does not map is reported", arguments: SQLDialect.allCases)
    func unmappedParent(dialect: SQLDialect) async throws {
        let h = try DataToolHarness(dialect)
        defer { h.drop() }
        try h.run(
            "CREATE TABLE \(h.t("country")) (code CHAR(2) PRIMARY KEY)",
            "CREATE TABLE \(h.t("city")) (id INT PRIMARY KEY, code CHAR(2) REFERENCES \(h.t("country")) (code))"
        )
        let config = try h.configuration(extraLane: "    shared_tables: [ country ]")
        let shared = await ddl(h, [h.t("city")], apply: false, config: config)
        #expect(shared.code == 0, "\(shared.err)")
        let unmapped = await ddl(h, [h.t("city")], apply: false, config: try h.configuration())
        #expect(unmapped.code == 1)
        #expect(unmapped.err.contains("country"))
    }

    @Test("a shadow name over the identifier limit is an error naming the table and the limit", arguments: SQLDialect.allCases)
    func longNames(dialect: SQLDialect) async throws {
        let h = try DataToolHarness(dialect)
        defer { h.drop() }
        let limit = dialect == .mysql ? 64 : 63
        let name = "l" + String(repeating: "x", count: limit - 3)
        try h.run("CREATE TABLE \(h.t(name)) (id INT PRIMARY KEY)")
        let result = await ddl(h, [h.t(name)], apply: true, config: try h.configuration())
        #expect(result.code == 2)
        #expect(result.err.contains(name))
        #expect(result.err.contains("\(limit)-byte"))
        #expect(try h.scalar(
            dialect == .mysql
                ? "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '\(h.schema)'"
                : "SELECT COUNT(*) FROM pg_tables WHERE schemaname = '\(h.schema)'"
        ) == "1")
    }

    @Test("PostgreSQL: serial and identity columns get sequences of their own; inserting into the shadow leaves base's sequence alone")
    func postgresSequences() async throws {
        let h = try DataToolHarness(.postgres)
        defer { h.drop() }
        try h.run(
            "CREATE TABLE \(h.t("orders")) (id BIGSERIAL PRIMARY KEY, n INT GENERATED ALWAYS AS IDENTITY, "
                + "qty INT NOT NULL DEFAULT 1, twice INT GENERATED ALWAYS AS (qty * 2) STORED, UNIQUE (qty, id))",
            "CREATE TABLE \(h.t("lines")) (order_id BIGINT NOT NULL REFERENCES \(h.t("orders")) (id), no INT NOT NULL, "
                + "PRIMARY KEY (order_id, no))",
            "INSERT INTO \(h.t("orders")) (qty) VALUES (5)"
        )
        let config = try h.configuration()
        let result = await ddl(h, [h.t("orders"), h.t("lines")], apply: true, config: config)
        #expect(result.code == 0, "\(result.err)")
        #expect(result.out.contains("CREATE SEQUENCE \"\(h.schema)\".\"orders_gray_id_seq\""))
        try h.run(
            "INSERT INTO \(h.t("orders_gray")) (qty) VALUES (7)",
            "INSERT INTO \(h.t("lines_gray")) (order_id, no) VALUES (1, 1)"
        )
        #expect(try h.scalar("SELECT last_value FROM \(h.t("orders_id_seq"))") == "1")
        #expect(try h.scalar("SELECT twice FROM \(h.t("orders_gray"))") == "14")
        #expect(try h.scalar("SELECT confrelid::regclass::text FROM pg_constraint WHERE conrelid = '\(h.t("lines_gray"))'::regclass AND contype = 'f'") == h.t("orders_gray"))
        let again = await ddl(h, [h.t("orders"), h.t("lines")], apply: false, config: config)
        #expect(again.code == 0, "\(again.err)")
    }

    @Test("PostgreSQL: on the lane's own server the schema and tables are rebuilt from base's catalog, with sequences, indexes and foreign keys")
    func postgresOtherServer() async throws {
        let h = try DataToolHarness(.postgres)
        let shadowServer = try PostgresConnection(configuration: h.environment.postgresServer(shadow: true))
        defer {
            _ = try? shadowServer.simpleQuery("DROP SCHEMA IF EXISTS \(h.schema) CASCADE")
            shadowServer.close()
            h.drop()
        }
        try h.run(
            "CREATE TABLE \(h.t("parent")) (id SERIAL PRIMARY KEY, code TEXT NOT NULL UNIQUE)",
            "CREATE TABLE \(h.t("child")) (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                + "parent_id INT REFERENCES \(h.t("parent")) (id) ON DELETE CASCADE, qty NUMERIC(10,2) DEFAULT 0 CHECK (qty >= 0), "
                + "total NUMERIC GENERATED ALWAYS AS (qty * 2) STORED, note VARCHAR(20) COLLATE \"C\")",
            "CREATE INDEX child_note ON \(h.t("child")) (lower(note))",
            "INSERT INTO \(h.t("parent")) (code) VALUES ('base')"
        )
        let config = try h.configuration(extraLane: "    backends: { base: 127.0.0.1:\(h.environment.postgres.shadowPort) }")
        let tables = [h.t("parent"), h.t("child")]
        let result = await ddl(h, tables, apply: true, config: config)
        #expect(result.code == 0, "\(result.err)")
        #expect(result.out.contains("CREATE SCHEMA IF NOT EXISTS \"\(h.schema)\""))
        #expect(!result.out.contains("LIKE"))
        func onShadow(_ sql: String) throws -> String? { try shadowServer.simpleQuery(sql).scalar }
        _ = try shadowServer.simpleQuery("INSERT INTO \(h.t("parent_gray")) (code) VALUES ('shadow')")
        _ = try shadowServer.simpleQuery("INSERT INTO \(h.t("child_gray")) (parent_id, qty, note) VALUES (1, 2.5, 'x')")
        #expect(try onShadow("SELECT total FROM \(h.t("child_gray"))") == "5.00")
        #expect(try h.scalar("SELECT last_value FROM \(h.t("parent_id_seq"))") == "1")
        #expect(try onShadow("SELECT confrelid::regclass::text FROM pg_constraint WHERE conrelid = '\(h.t("child_gray"))'::regclass AND contype = 'f'") == h.t("parent_gray"))
        #expect(try onShadow("SELECT COUNT(*) FROM pg_indexes WHERE schemaname = '\(h.schema)' AND tablename = 'child_gray'") == "2")
        #expect(try onShadow("SELECT collation_name FROM information_schema.columns WHERE table_schema = '\(h.schema)' AND table_name = 'child_gray' AND column_name = 'note'") == "C")
        #expect(try h.scalar("SELECT COUNT(*) FROM pg_tables WHERE schemaname = '\(h.schema)'") == "2")
        let again = await ddl(h, tables, apply: false, config: config)
        #expect(again.code == 0, "\(again.err)")
        #expect(again.err.contains("up to date"))
    }
}
