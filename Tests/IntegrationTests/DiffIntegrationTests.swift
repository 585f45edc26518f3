import ShadowSQL
import Testing

/// `shadowgate diff` against the real MariaDB and PostgreSQL servers.
@Suite struct DiffIntegrationTests {
    /// Base table `items` with 100 rows (id 1…100) and an identical shadow `items_gray`.
    func makeItems(_ h: DataToolHarness) throws {
        switch h.dialect {
        case .mysql:
            try h.run(
                "CREATE TABLE \(h.t("items")) (id BIGINT PRIMARY KEY, name VARCHAR(100) NULL, amount DECIMAL(10,2), "
                    + "at DATETIME(6), data VARBINARY(20))",
                "INSERT INTO \(h.t("items")) SELECT seq, CONCAT('n', seq), seq * 1.5, "
                    + "'2024-01-01 00:00:00' + INTERVAL seq MINUTE, UNHEX(HEX(seq)) FROM seq_1_to_100",
                "CREATE TABLE \(h.t("items_gray")) LIKE \(h.t("items"))",
                "INSERT INTO \(h.t("items_gray")) SELECT * FROM \(h.t("items"))"
            )
        case .postgres:
            try h.run(
                "CREATE TABLE \(h.t("items")) (id BIGINT PRIMARY KEY, name VARCHAR(100), amount NUMERIC(10,2), "
                    + "at TIMESTAMP(6), data BYTEA)",
                "INSERT INTO \(h.t("items")) SELECT s, 'n' || s, s * 1.5, TIMESTAMP '2024-01-01' + s * INTERVAL '1 minute', "
                    + "int4send(s) FROM generate_series(1, 100) s",
                "CREATE TABLE \(h.t("items_gray")) (LIKE \(h.t("items")) INCLUDING ALL)",
                "INSERT INTO \(h.t("items_gray")) SELECT * FROM \(h.t("items"))"
            )
        }
    }

    @Test("identical tables report no differences and exit 0", arguments: SQLDialect.allCases)
    func identical(dialect: SQLDialect) async throws {
        let h = try DataToolHarness(dialect)
        defer { h.drop() }
        try makeItems(h)
        let result = await h.diff([h.t("items")], config: try h.configuration())
        #expect(result.code == 0, "\(result.err)")
        let table = firstTable(result.json)
        #expect(table["rows_compared"] as? Int == 100)
        // 10 rows a chunk; the last chunk's bound, computed from the key density, reaches the largest key, so it is
        // open above and no empty eleventh chunk follows.
        #expect(table["chunks"] as? Int == 10)
        #expect(table["identical"] as? Bool == true)
    }

    @Test("missing, extra and changed rows at chunk edges are all found", arguments: SQLDialect.allCases)
    func chunkEdges(dialect: SQLDialect) async throws {
        let h = try DataToolHarness(dialect)
        defer { h.drop() }
        try makeItems(h)
        let shadow = h.t("items_gray")
        try h.run(
            "DELETE FROM \(shadow) WHERE id IN (10, 1)",
            "INSERT INTO \(shadow) (id, name) VALUES (101, 'extra'), (0, 'before')",
            "UPDATE \(shadow) SET name = 'changed' WHERE id = 11",
            "UPDATE \(shadow) SET amount = amount + 1 WHERE id = 100"
        )
        let result = await h.diff([h.t("items")], config: try h.configuration())
        #expect(result.code == 1, "\(result.err)")
        let table = firstTable(result.json)
        #expect(table["missing_in_shadow"] as? Int == 2)
        #expect(table["extra_in_shadow"] as? Int == 2)
        #expect(table["changed"] as? Int == 2)
        let examples = table["examples"] as? [[String: Any]] ?? []
        let changed = examples.filter { $0["kind"] as? String == "changed" }
        #expect(changed.contains { ($0["key"] as? [String]) == ["11"] && ($0["columns"] as? [String]) == ["name"] })
        #expect(changed.contains { ($0["key"] as? [String]) == ["100"] && ($0["columns"] as? [String]) == ["amount"] })
    }

    @Test("keys dense, then sparse, then dense again: every row is compared once and every difference found", arguments: SQLDialect.allCases)
    func changingKeyDensity(dialect: SQLDialect) async throws {
        let h = try DataToolHarness(dialect)
        defer { h.drop() }
        try makeItems(h)
        let series = { (first: Int, last: Int, step: Int) -> String in
            dialect == .mysql
                ? "SELECT \(first) + (seq - 1) * \(step), 'k' FROM seq_1_to_\((last - first) / step + 1)"
                : "SELECT \(first) + (s - 1) * \(step), 'k' FROM generate_series(1, \((last - first) / step + 1)) s"
        }
        let shadow = h.t("items_gray")
        for table in [h.t("items"), shadow] {
            // 1…100 from makeItems, 10 keys 1,000 apart, then 100 dense keys: chunk bounds computed from the first
            // region's density must not run past the sparse one, nor swallow the dense one whole.
            try h.run("INSERT INTO \(table) (id, name) \(series(1000, 10000, 1000))", "INSERT INTO \(table) (id, name) \(series(100_000, 100_099, 1))")
        }
        try h.run(
            "DELETE FROM \(shadow) WHERE id IN (100050, 3000)",
            "INSERT INTO \(shadow) (id, name) VALUES (5500, 'extra'), (200000, 'beyond the last key')",
            "UPDATE \(shadow) SET name = 'changed' WHERE id IN (99, 100099)"
        )
        let result = await h.diff([h.t("items")], config: try h.configuration())
        #expect(result.code == 1, "\(result.err)")
        let table = firstTable(result.json)
        #expect(table["rows_compared"] as? Int == 210)
        #expect(table["missing_in_shadow"] as? Int == 2)
        #expect(table["extra_in_shadow"] as? Int == 2)
        #expect(table["changed"] as? Int == 2)
        // 10 rows a chunk: 21 chunks of rows; a computed bound may leave one short, never a run of empty ones.
        #expect((21...24).contains(table["chunks"] as? Int ?? 0), "\(table["chunks"] ?? "nil") chunks")
    }

    @Test("two rows with swapped values and four datetimes moved by the same 10 minutes in one chunk are found", arguments: SQLDialect.allCases)
    func nonCancellingFold(dialect: SQLDialect) async throws {
        let h = try DataToolHarness(dialect)
        defer { h.drop() }
        try makeItems(h)
        let shadow = h.t("items_gray")
        let later = dialect == .mysql ? "at + INTERVAL 10 MINUTE" : "at + INTERVAL '10 minutes'"
        try h.run(
            "UPDATE \(shadow) SET name = CASE id WHEN 21 THEN 'n22' ELSE 'n21' END WHERE id IN (21, 22)",
            "UPDATE \(shadow) SET at = \(later) WHERE id IN (23, 24, 25, 26)"
        )
        let result = await h.diff([h.t("items")], config: try h.configuration(), extra: ["--chunk-rows", "100"])
        #expect(result.code == 1, "\(result.err)")
        let table = firstTable(result.json)
        #expect(table["chunks"] as? Int == 2)
        #expect(table["changed"] as? Int == 6)
    }

    @Test("NULL and the empty string are different values", arguments: SQLDialect.allCases)
    func nullVersusEmpty(dialect: SQLDialect) async throws {
        let h = try DataToolHarness(dialect)
        defer { h.drop() }
        try makeItems(h)
        try h.run("UPDATE \(h.t("items")) SET name = NULL WHERE id = 5", "UPDATE \(h.t("items_gray")) SET name = '' WHERE id = 5")
        let result = await h.diff([h.t("items")], config: try h.configuration())
        #expect(result.code == 1)
        #expect(firstTable(result.json)["changed"] as? Int == 1)
    }

    @Test("composite keys are chunked with row-value ranges and differences found", arguments: SQLDialect.allCases)
    func compositeKey(dialect: SQLDialect) async throws {
        let h = try DataToolHarness(dialect)
        defer { h.drop() }
        let source = dialect == .mysql ? "seq_1_to_60" : "generate_series(1, 60) AS g(seq)"
        for table in ["pairs", "pairs_gray"] {
            try h.run(
                "CREATE TABLE \(h.t(table)) (a INT NOT NULL, b VARCHAR(10) NOT NULL, v INT, PRIMARY KEY (a, b))",
                "INSERT INTO \(h.t(table)) SELECT seq % 7, CONCAT('k', seq), seq FROM \(source)"
            )
        }
        try h.run(
            "DELETE FROM \(h.t("pairs_gray")) WHERE a = 3 AND b = 'k10'",
            "UPDATE \(h.t("pairs_gray")) SET v = -1 WHERE a = 0 AND b = 'k14'"
        )
        let result = await h.diff([h.t("pairs")], config: try h.configuration())
        #expect(result.code == 1, "\(result.err)")
        let table = firstTable(result.json)
        #expect(table["key"] as? [String] == ["a", "b"])
        #expect(table["rows_compared"] as? Int == 60)
        #expect(table["missing_in_shadow"] as? Int == 1)
        #expect(table["changed"] as? Int == 1)
    }

    @Test("a table without a key is compared by a full scan, with a warning", arguments: SQLDialect.allCases)
    func keyless(dialect: SQLDialect) async throws {
        let h = try DataToolHarness(dialect)
        defer { h.drop() }
        try h.makeLogs()
        try h.run("DELETE FROM \(h.t("logs_gray")) WHERE msg = 'b'", "INSERT INTO \(h.t("logs_gray")) VALUES ('a', 1)")
        let result = await h.diff([h.t("logs")], config: try h.configuration())
        #expect(result.code == 1, "\(result.err)")
        let table = firstTable(result.json)
        #expect(table["missing_in_shadow"] as? Int == 1)
        #expect(table["extra_in_shadow"] as? Int == 1)
        #expect((table["warnings"] as? [String] ?? []).contains { $0.contains("full ordered scan") })
    }

    @Test("repair apply makes the shadow match, and a new diff is clean", arguments: SQLDialect.allCases)
    func repairApply(dialect: SQLDialect) async throws {
        let h = try DataToolHarness(dialect)
        defer { h.drop() }
        try makeItems(h)
        try h.run(
            "UPDATE \(h.t("items")) SET name = 'it''s a \\\\ back\\\\slash' WHERE id = 7",
            "DELETE FROM \(h.t("items_gray")) WHERE id BETWEEN 30 AND 45",
            "INSERT INTO \(h.t("items_gray")) (id, name) VALUES (500, 'extra')",
            "UPDATE \(h.t("items_gray")) SET data = NULL, amount = 0 WHERE id = 3"
        )
        let config = try h.configuration()
        let repaired = await h.diff([h.t("items")], config: config, extra: ["--repair", "apply"])
        #expect(repaired.code == 0, "\(repaired.err)")
        #expect(firstTable(repaired.json)["repair_statements_applied"] as? Int == 19)
        let again = await h.diff([h.t("items")], config: config)
        #expect(again.code == 0)
        #expect(try h.scalar("SELECT name FROM \(h.t("items_gray")) WHERE id = 7") == (try h.scalar("SELECT name FROM \(h.t("items")) WHERE id = 7")))
    }

    @Test("repair print writes SQL that fixes the shadow when run", arguments: SQLDialect.allCases)
    func repairPrint(dialect: SQLDialect) async throws {
        let h = try DataToolHarness(dialect)
        defer { h.drop() }
        try makeItems(h)
        try h.run("DELETE FROM \(h.t("items_gray")) WHERE id = 50", "UPDATE \(h.t("items_gray")) SET name = 'x' WHERE id = 51")
        let config = try h.configuration()
        let printed = await h.diff([h.t("items")], config: config, extra: ["--repair", "print"])
        #expect(printed.code == 1)
        #expect(printed.out.contains("INSERT INTO"))
        #expect(printed.out.contains("UPDATE"))
        let statements = printed.out.split(separator: "\n").filter { !$0.hasPrefix("--") }.map { String($0.dropLast()) }
        try h.runAll(statements)
        #expect(await h.diff([h.t("items")], config: config).code == 0)
    }

    @Test("columns present on one side only are listed and the rest compared", arguments: SQLDialect.allCases)
    func oneSidedColumns(dialect: SQLDialect) async throws {
        let h = try DataToolHarness(dialect)
        defer { h.drop() }
        try makeItems(h)
        try h.run("ALTER TABLE \(h.t("items_gray")) ADD COLUMN note VARCHAR(10)")
        let result = await h.diff([h.t("items")], config: try h.configuration())
        #expect(result.code == 1)
        let table = firstTable(result.json)
        #expect(table["columns_only_in_shadow"] as? [String] == ["note"])
        #expect(table["changed"] as? Int == 0)
    }

    @Test("a missing shadow table, an unknown table or missing credentials exit 2 with a clear message", arguments: SQLDialect.allCases)
    func badInput(dialect: SQLDialect) async throws {
        let h = try DataToolHarness(dialect)
        defer { h.drop() }
        try h.run("CREATE TABLE \(h.t("lonely")) (id INT PRIMARY KEY)")
        let missingShadow = await h.diff([h.t("lonely")], config: try h.configuration())
        #expect(missingShadow.code == 2)
        #expect(missingShadow.err.contains("shadow-ddl"))
        let unknown = await h.diff([h.t("nope")], config: try h.configuration())
        #expect(unknown.code == 2)
        #expect(unknown.err.contains("does not exist"))
        let noCredentials = await h.diff([h.t("lonely")], config: try h.configuration(credentials: false))
        #expect(noCredentials.code == 2)
        #expect(noCredentials.err.contains("credentials"))
    }

    @Test("the seed's mse_demo_table is compared with mse_demo_table_gray", arguments: SQLDialect.allCases)
    func seedTables(dialect: SQLDialect) async throws {
        let h = try DataToolHarness(dialect)
        defer { h.drop() }
        let config = try h.configuration()
        let table = dialect == .mysql ? "mse_demo.mse_demo_table" : "public.mse_demo_table"
        let result = await h.diff([table], config: config)
        #expect(result.code == 0 || result.code == 1, "\(result.err)")
        let report = firstTable(result.json)
        #expect((report["shadow"] as? String)?.hasSuffix("mse_demo_table_gray") == true)
        #expect(report["key"] as? [String] == ["id"])
        let count = try h.scalar("SELECT COUNT(*) FROM \(table)").flatMap { Int($0) }
        #expect(report["rows_compared"] as? Int == count)
    }

    @Test("under a consistent snapshot differences are found without a re-check", arguments: SQLDialect.allCases)
    func consistentSnapshot(dialect: SQLDialect) async throws {
        let h = try DataToolHarness(dialect)
        defer { h.drop() }
        try makeItems(h)
        try h.run("UPDATE \(h.t("items_gray")) SET name = 'moved' WHERE id = 42")
        let result = await h.diff([h.t("items")], config: try h.configuration(), extra: ["--consistent-snapshot", "--pause", "1ms"])
        #expect(result.code == 1, "\(result.err)")
        let table = firstTable(result.json)
        #expect(table["changed"] as? Int == 1)
        #expect(table["rechecked"] as? Bool == false)
    }

    @Test("diff --mirror honours the dual-write column map: identical exits 0, a changed renamed column exits 1 naming it", arguments: SQLDialect.allCases)
    func mirrorColumnMap(dialect: SQLDialect) async throws {
        let h = try DataToolHarness(dialect)
        defer { h.drop() }
        let text = dialect == .mysql ? "VARCHAR(50)" : "TEXT"
        let rows = dialect == .mysql
            ? "SELECT seq, CONCAT('n', seq), seq * 2 FROM seq_1_to_40" : "SELECT s, 'n' || s, s * 2 FROM generate_series(1, 40) s"
        try h.run("CREATE TABLE \(h.t("orders")) (id BIGINT PRIMARY KEY, note \(text), qty INT)", "INSERT INTO \(h.t("orders")) \(rows)")
        try h.runAll([dialect == .mysql ? "CREATE DATABASE \(h.schema)" : "CREATE SCHEMA \(h.schema)"], onMirror: true)
        try h.runAll(
            ["CREATE TABLE \(h.t("orders_v2")) (id BIGINT PRIMARY KEY, remark \(text), quantity INT)",
             "INSERT INTO \(h.t("orders_v2")) \(rows)"], onMirror: true)
        let config = try h.configuration(
            topLevel: h.baseDualWrite(tables: "{ orders: orders_v2 }", columns: "{ orders: { note: remark, qty: quantity } }"))
        let arguments = ["diff", "--config", config, "--lane", "base", "--mirror", "--table", h.t("orders"), "--chunk-rows", "10",
            "--target-chunk-time", "0", "--recheck-delay", "0"]
        let identical = await h.shadowgate(arguments)
        #expect(identical.code == 0, "\(identical.out)\(identical.err)")
        #expect(identical.out.contains("rows compared: 40"), "\(identical.out)")
        #expect(!identical.out.contains("only in"), "\(identical.out)")

        try h.runAll(["UPDATE \(h.t("orders_v2")) SET remark = 'changed' WHERE id = 17"], onMirror: true)
        let changed = await h.shadowgate(arguments)
        #expect(changed.code == 1, "\(changed.out)\(changed.err)")
        #expect(changed.out.contains("changed: 1"), "\(changed.out)")
        #expect(changed.out.contains("note: 'n17' ≠ 'changed'"), "\(changed.out)")

        let noStream = await h.shadowgate(["diff", "--config", try h.configuration(), "--lane", "base", "--mirror"])
        #expect(noStream.code == 2)
        #expect(noStream.err.contains("no dual-write stream"), "\(noStream.err)")
    }
}
