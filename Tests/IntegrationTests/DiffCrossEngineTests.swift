import Foundation
import ShadowSQL
import Testing

/// `shadowgate diff --against`: a MariaDB table against a PostgreSQL table on the real servers, with values that
/// each engine spells its own way (booleans, decimals of another scale, datetimes, instants, binary, text).
@Suite struct DiffCrossEngineTests {
    /// A MariaDB database and a PostgreSQL schema of the test's own, and a configuration with one listener each.
    struct Pair {
        let my: DataToolHarness
        let pg: DataToolHarness
        let config: String

        init() throws {
            my = try DataToolHarness(.mysql)
            pg = try DataToolHarness(.postgres)
            let env = my.environment
            let yaml = """
                listeners:
                  - name: my
                    protocol: mysql
                    listen: 127.0.0.1:1
                    backend: 127.0.0.1:\(env.mysql.port)
                    credentials: { user: \(env.mysql.user), password: \(env.mysql.password), database: \(my.schema) }
                  - name: pg
                    protocol: postgres
                    listen: 127.0.0.1:2
                    backend: 127.0.0.1:\(env.postgres.port)
                    credentials: { user: \(env.postgres.user), password: \(env.postgres.password), database: mse_demo }
                lanes:
                  gray:
                    tables: { suffix: _gray }
                """
            config = FileManager.default.temporaryDirectory.appendingPathComponent("\(my.schema)-x.yaml").path
            try yaml.write(toFile: config, atomically: true, encoding: .utf8)
        }

        func drop() {
            my.drop()
            pg.drop()
        }

        /// `orders` with the same 200 rows on both servers, each in its own engine's types (MariaDB's `Note` is
    /// PostgreSQL's `note`, as a migration that folds names to lower case leaves it).
        func makeOrders() throws {
            try my.run(
                "SET time_zone = '+00:00'",
                "CREATE TABLE \(my.t("orders")) (id BIGINT PRIMARY KEY, name VARCHAR(50) NULL, amount DECIMAL(12,2) NULL, "
                    + "placed DATETIME(6) NULL, paid TIMESTAMP(6) NULL, flag TINYINT(1) NULL, data VARBINARY(16) NULL, Note TEXT NULL)",
                "INSERT INTO \(my.t("orders")) SELECT seq, IF(seq % 7 = 0, NULL, CONCAT('n', seq)), IF(seq % 11 = 0, NULL, seq * 1.25), "
                    + "'2024-01-01 00:00:00' + INTERVAL seq MINUTE + INTERVAL seq MICROSECOND, "
                    + "IF(seq % 13 = 0, NULL, '2024-06-01 12:00:00' + INTERVAL seq SECOND), seq % 2, "
                    + "UNHEX(LPAD(HEX(seq), 4, '0')), CASE seq % 5 WHEN 0 THEN NULL WHEN 1 THEN '' "
                    + "ELSE CONCAT(CHAR(0xC3A9 USING utf8mb4), ', ''q'' ', CHAR(92 USING utf8mb4), ' ', seq) END FROM seq_1_to_200"
            )
            try pg.run(
                "CREATE TABLE \(pg.t("orders")) (id BIGINT PRIMARY KEY, name VARCHAR(50), amount NUMERIC(14,4), "
                    + "placed TIMESTAMP(6), paid TIMESTAMPTZ(6), flag BOOLEAN, data BYTEA, note TEXT)",
                "INSERT INTO \(pg.t("orders")) SELECT s, CASE WHEN s % 7 = 0 THEN NULL ELSE 'n' || s END, "
                    + "CASE WHEN s % 11 = 0 THEN NULL ELSE s * 1.25 END, "
                    + "TIMESTAMP '2024-01-01 00:00:00' + s * INTERVAL '1 minute' + s * INTERVAL '1 microsecond', "
                    + "CASE WHEN s % 13 = 0 THEN NULL ELSE TIMESTAMPTZ '2024-06-01 12:00:00+00' + s * INTERVAL '1 second' END, "
                    + "s % 2 = 1, decode(lpad(to_hex(s), 4, '0'), 'hex'), CASE s % 5 WHEN 0 THEN NULL WHEN 1 THEN '' "
                    + "ELSE chr(233) || ', ''q'' ' || chr(92) || ' ' || s END FROM generate_series(1, 200) s"
            )
        }

        /// `diff --against` with small fixed chunks and no re-check delay, JSON report.
        func diff(listener: String = "my", against: String = "pg", table: String? = nil, extra: [String] = []) async
            -> (code: Int32, json: [String: Any], out: String, err: String)
        {
            let table = table ?? (listener == "my" ? "orders=\(pg.schema).orders" : "\(pg.schema).orders=\(my.schema).orders")
            let result = await my.shadowgate(
                ["diff", "--config", config, "--listener", listener, "--against", against, "--table", table, "--format", "json",
                 "--chunk-rows", "32", "--target-chunk-time", "0", "--recheck-delay", "0"] + extra
            )
            return (result.code, jsonObject(extra.contains("print") ? result.err : result.out), result.out, result.err)
        }
    }

    @Test("a MariaDB table and a PostgreSQL table holding the same values in each engine's types are identical")
    func identical() async throws {
        let pair = try Pair()
        defer { pair.drop() }
        try pair.makeOrders()
        let result = await pair.diff()
        #expect(result.code == 0, "\(result.err)\(result.out)")
        let table = firstTable(result.json)
        #expect(table["rows_compared"] as? Int == 200)
        #expect(table["identical"] as? Bool == true)
        #expect(table["columns"] as? [String] == ["id", "name", "amount", "placed", "paid", "flag", "data", "Note"])
        let reverse = await pair.diff(listener: "pg", against: "my", extra: ["--consistent-snapshot"])
        #expect(reverse.code == 0, "\(reverse.err)\(reverse.out)")
        #expect(firstTable(reverse.json)["columns_only_in_shadow"] as? [String] == [])
    }

    @Test("missing, extra and changed rows across engines are found, printed as PostgreSQL repair SQL, and applied")
    func differencesAndRepair() async throws {
        let pair = try Pair()
        defer { pair.drop() }
        try pair.makeOrders()
        let orders = pair.pg.t("orders")
        try pair.pg.run(
            "DELETE FROM \(orders) WHERE id IN (1, 64)",
            "INSERT INTO \(orders) (id, name) VALUES (0, 'before'), (201, 'after')",
            "UPDATE \(orders) SET amount = amount + 0.0001 WHERE id = 50",
            "UPDATE \(orders) SET placed = placed + INTERVAL '10 minutes' WHERE id IN (80, 81, 82, 83)",
            "UPDATE \(orders) SET name = '' WHERE id = 7",
            "UPDATE \(orders) SET flag = NOT flag, paid = paid + INTERVAL '1 hour' WHERE id = 100",
            "UPDATE \(orders) SET data = decode('ff', 'hex'), note = NULL WHERE id = 121"
        )
        let result = await pair.diff()
        #expect(result.code == 1, "\(result.err)")
        let table = firstTable(result.json)
        #expect(table["missing_in_shadow"] as? Int == 2)
        #expect(table["extra_in_shadow"] as? Int == 2)
        #expect(table["changed"] as? Int == 8)
        let examples = table["examples"] as? [[String: Any]] ?? []
        let changed = Dictionary(
            examples.filter { $0["kind"] as? String == "changed" }.map { (($0["key"] as? [String])?.first ?? "", $0["columns"] as? [String] ?? []) },
            uniquingKeysWith: { first, _ in first }
        )
        #expect(changed["50"] == ["amount"])
        #expect(changed["7"] == ["name"])
        #expect(changed["100"] == ["paid", "flag"])
        #expect(changed["121"] == ["data", "Note"])

        let printed = await pair.diff(extra: ["--repair", "print"])
        #expect(printed.code == 1)
        #expect(printed.out.hasPrefix("-- \(orders)"), "\(printed.out)")
        #expect(printed.out.contains("SET TIME ZONE 'UTC';\nBEGIN;"))
        #expect(printed.out.contains("DELETE FROM \"\(pair.pg.schema)\".\"orders\" WHERE \"id\" = '201'"))
        #expect(printed.out.contains("\"flag\" = '"))
        #expect(printed.out.contains("decode('0001', 'hex')"), "\(printed.out)")

        let applied = await pair.diff(extra: ["--repair", "apply"])
        #expect(applied.code == 0, "\(applied.err)\(applied.out)")
        #expect(firstTable(applied.json)["repair_statements_applied"] as? Int == 12)
    }

    @Test("PostgreSQL against MariaDB: a changed boolean, instant and decimal are repaired in MariaDB's dialect")
    func reverseRepair() async throws {
        let pair = try Pair()
        defer { pair.drop() }
        try pair.makeOrders()
        try pair.my.run("UPDATE \(pair.my.t("orders")) SET flag = 1 - flag, paid = paid - INTERVAL 1 SECOND, amount = 0 WHERE id = 34")
        let result = await pair.diff(listener: "pg", against: "my")
        #expect(result.code == 1, "\(result.err)")
        #expect(firstTable(result.json)["changed"] as? Int == 1)
        let applied = await pair.diff(listener: "pg", against: "my", extra: ["--repair", "apply"])
        #expect(applied.code == 0, "\(applied.err)\(applied.out)")
        let after = try pair.my.scalar("SELECT CONCAT_WS('|', flag, UNIX_TIMESTAMP(paid), amount) FROM \(pair.my.t("orders")) WHERE id = 34")
        #expect(after == "0|1717243234.000000|42.50")
    }

    @Test("a text key (the servers order text differently) and a table missing on the other side are errors, exit 2")
    func textKeyRefused() async throws {
        let pair = try Pair()
        defer { pair.drop() }
        try pair.my.run("CREATE TABLE \(pair.my.t("tags")) (code VARCHAR(10) PRIMARY KEY, n INT)")
        try pair.pg.run("CREATE TABLE \(pair.pg.t("tags")) (code VARCHAR(10) PRIMARY KEY, n INT)")
        let result = await pair.diff(table: "tags=\(pair.pg.schema).tags")
        #expect(result.code == 2)
        #expect(result.err.contains("integer columns"), "\(result.err)")
        let missing = await pair.diff(table: "tags")
        #expect(missing.code == 2)
        #expect(missing.err.contains("does not exist on the --against side"), "\(missing.err)")
    }
}
