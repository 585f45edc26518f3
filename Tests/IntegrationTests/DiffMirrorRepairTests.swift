import ShadowSQL
import Testing

/// `shadowgate diff --mirror --repair print|apply` against a dual-write mirror whose table and columns are renamed by
/// the stream's maps, on the real servers: the repair writes the mirror's names, fixes it, and a re-check is clean.
@Suite struct DiffMirrorRepairTests {
    /// `orders` (id, note, qty) on base, mirrored as `orders_v2` (id, remark, quantity) on the second server, then
    /// changed on the mirror directly: 2 rows missing, 1 extra, a renamed text column and a renamed number changed.
    func makeMirror(_ h: DataToolHarness) throws -> String {
        let mysql = h.dialect == .mysql
        let text = mysql ? "VARCHAR(50)" : "TEXT"
        let rows = mysql
            ? "SELECT seq, CONCAT('n', seq), seq * 2 FROM seq_1_to_60" : "SELECT s, 'n' || s, s * 2 FROM generate_series(1, 60) s"
        try h.run("CREATE TABLE \(h.t("orders")) (id BIGINT PRIMARY KEY, note \(text), qty INT)", "INSERT INTO \(h.t("orders")) \(rows)")
        try h.runAll([mysql ? "CREATE DATABASE \(h.schema)" : "CREATE SCHEMA \(h.schema)"], onMirror: true)
        let mirror = h.t("orders_v2")
        try h.runAll(
            [
                "CREATE TABLE \(mirror) (id BIGINT PRIMARY KEY, remark \(text), quantity INT)", "INSERT INTO \(mirror) \(rows)",
                "DELETE FROM \(mirror) WHERE id IN (1, 33)",
                "INSERT INTO \(mirror) (id, remark, quantity) VALUES (99, 'stray', 1)",
                "UPDATE \(mirror) SET remark = 'it''s wrong' WHERE id = 17",
                "UPDATE \(mirror) SET quantity = -1 WHERE id = 60",
            ], onMirror: true)
        return try h.configuration(
            topLevel: h.baseDualWrite(tables: "{ orders: orders_v2 }", columns: "{ orders: { note: remark, qty: quantity } }"))
    }

    func arguments(_ h: DataToolHarness, _ config: String, _ extra: [String] = []) -> [String] {
        ["diff", "--config", config, "--lane", "base", "--mirror", "--table", h.t("orders"), "--format", "json",
         "--chunk-rows", "10", "--target-chunk-time", "0", "--recheck-delay", "0"] + extra
    }

    @Test("repair print writes the mirror's table and column names; repair apply fixes the mirror and re-checks clean", arguments: SQLDialect.allCases)
    func mirrorRepair(dialect: SQLDialect) async throws {
        let h = try DataToolHarness(dialect)
        defer { h.drop() }
        let config = try makeMirror(h)

        let printed = await h.shadowgate(arguments(h, config, ["--repair", "print"]))
        #expect(printed.code == 1, "\(printed.err)")
        let statements = printed.out.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("--") && !$0.isEmpty }
        let writes = statements.filter { ["INSERT", "UPDATE", "DELETE"].contains(String($0.prefix(6))) }
        #expect(writes.count == 5, "\(printed.out)")
        #expect(writes.allSatisfy { $0.contains("orders_v2") }, "\(printed.out)")
        #expect(writes.contains { $0.hasPrefix("UPDATE") && $0.contains("remark") && $0.contains("n17") }, "\(printed.out)")
        #expect(writes.contains { $0.hasPrefix("UPDATE") && $0.contains("quantity") && $0.contains("120") }, "\(printed.out)")
        #expect(!printed.out.contains("note") && !printed.out.contains("qty"), "\(printed.out)")
        #expect(try h.scalar("SELECT COUNT(*) FROM \(h.t("orders_v2"))", onMirror: true) == "59", "print must not write")

        let applied = await h.shadowgate(arguments(h, config, ["--repair", "apply"]))
        #expect(applied.code == 0, "\(applied.out)\(applied.err)")
        let table = firstTable(jsonObject(applied.out))
        #expect(table["repair_statements_applied"] as? Int == 5, "\(applied.out)")
        #expect(table["identical"] as? Bool == true, "\(applied.out)")

        let again = await h.shadowgate(arguments(h, config))
        #expect(again.code == 0, "\(again.out)\(again.err)")
        #expect(try h.scalar("SELECT remark FROM \(h.t("orders_v2")) WHERE id = 17", onMirror: true) == "n17")
        #expect(try h.scalar("SELECT quantity FROM \(h.t("orders_v2")) WHERE id = 60", onMirror: true) == "120")
        #expect(try h.scalar("SELECT COUNT(*) FROM \(h.t("orders_v2")) WHERE id IN (1, 33)", onMirror: true) == "2")
        #expect(try h.scalar("SELECT COUNT(*) FROM \(h.t("orders_v2")) WHERE id = 99", onMirror: true) == "0")
        // Base is never written.
        #expect(try h.scalar("SELECT COUNT(*) FROM \(h.t("orders"))") == "60")
    }
}
