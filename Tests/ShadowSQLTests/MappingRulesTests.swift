import ShadowSQL
import Testing

@Suite struct MappingRulesTests {
    @Test("the seed example renames the mapped table in an INSERT")
    func seed() {
        #expect(
            rewritten("INSERT INTO mse_demo_table(location) VALUES(?)", grayStrictMap, .mysql)
                == "INSERT INTO mse_demo_table_gray(location) VALUES(?)")
    }

    @Test("an unmapped write is refused with the lane, table and rule in the message")
    func unmappedWriteRefused() {
        guard case .refused(let refusal) = outcome("INSERT INTO orders VALUES (1)", grayStrictMap, .mysql) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(refusal.rule == .unmappedWrites)
        #expect(refusal.table == "orders")
        #expect(
            refusal.message
                == "lane 'gray': INSERT into unmapped table 'orders' refused by unmapped_writes=reject; add it to lanes.gray.tables.map, set a suffix rule, or set unmapped_writes: pass"
        )
    }

    @Test("an unmapped read passes by default and is refused when reads are rejected")
    func unmappedReads() {
        #expect(rewritten("SELECT * FROM orders", grayStrictMap, .mysql) == "SELECT * FROM orders")
        var strict = grayStrictMap
        strict.unmappedReads = .reject
        guard case .refused(let refusal) = outcome("SELECT * FROM orders", strict, .mysql) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(refusal.rule == .unmappedReads)
    }

    @Test("a write statement that reads an unmapped table follows the write policy")
    func writeStatementReadingUnmapped() {
        guard case .refused = outcome("INSERT INTO mse_demo_table SELECT * FROM orders", grayStrictMap, .mysql) else {
            Issue.record("expected a refusal")
            return
        }
    }

    @Test("explicit entries win over the suffix rule and may be qualified")
    func explicitWins() {
        let m = LaneMapping(lane: "gray", tables: ["a": "a_shadow", "b": "shadow.b2", "db.c": "c_x"], tableSuffix: "_gray")
        #expect(rewritten("SELECT * FROM a, b, db.c, c", m, .mysql) == "SELECT * FROM a_shadow, shadow.b2, db.c_x, c_gray")
        #expect(rewritten("SELECT b.x FROM b", m, .mysql) == "SELECT b2.x FROM shadow.b2")
        #expect(rewritten("SELECT * FROM `b`", m, .mysql) == "SELECT * FROM `shadow`.`b2`")
        #expect(rewritten("SELECT * FROM other.b", m, .mysql) == "SELECT * FROM shadow.b2")
    }

    @Test("shared tables are left alone for reads and writes")
    func sharedTables() {
        let m = LaneMapping(lane: "gray", tableSuffix: "_gray", sharedTables: ["countries", "ref.currency"])
        #expect(rewritten("UPDATE countries SET a = 1", m, .mysql) == "UPDATE countries SET a = 1")
        #expect(rewritten("SELECT * FROM ref.currency JOIN t", m, .mysql) == "SELECT * FROM ref.currency JOIN t_gray")
        #expect(rewritten("SELECT * FROM currency", m, .mysql) == "SELECT * FROM currency_gray")
    }

    @Test("database redirects replace only the qualifier, also in three-part column names")
    func databaseRedirect() {
        let m = LaneMapping(lane: "gray", databases: ["mse_demo": "mse_demo_gray"], unmappedWrites: .reject)
        #expect(
            rewritten("UPDATE mse_demo.t SET mse_demo.t.a = 1", m, .mysql)
                == "UPDATE mse_demo_gray.t SET mse_demo_gray.t.a = 1")
        #expect(rewritten("SELECT * FROM `mse_demo`.`t`", m, .mysql) == "SELECT * FROM `mse_demo_gray`.`t`")
        #expect(rewritten("SHOW COLUMNS FROM t FROM mse_demo", m, .mysql) == "SHOW COLUMNS FROM t FROM mse_demo_gray")
        guard case .refused = outcome("DELETE FROM other.t", m, .mysql) else {
            Issue.record("an unmapped database must be refused for writes")
            return
        }
    }

    @Test("a default shadow schema qualifies unqualified names and leaves qualified ones to the other rules")
    func defaultDatabase() {
        let m = LaneMapping(lane: "gray", defaultDatabase: "gray")
        #expect(rewritten("INSERT INTO t VALUES (1)", m, .postgres) == "INSERT INTO gray.t VALUES (1)")
        #expect(rewritten("SELECT t.a FROM t", m, .postgres) == "SELECT t.a FROM gray.t")
        #expect(rewritten("SELECT * FROM \"T\"", m, .postgres) == "SELECT * FROM \"gray\".\"T\"")
        #expect(rewritten("ALTER TABLE t RENAME TO u", m, .postgres) == "ALTER TABLE gray.t RENAME TO u")
        #expect(rewritten("INSERT INTO gray.t VALUES (1)", m, .postgres) == "INSERT INTO gray.t VALUES (1)")
    }

    @Test("PostgreSQL folds unquoted names and compares quoted names exactly")
    func postgresFolding() {
        let m = LaneMapping(lane: "gray", tables: ["orders": "orders_g"])
        #expect(rewritten("SELECT * FROM ORDERS", m, .postgres) == "SELECT * FROM orders_g")
        #expect(rewritten("SELECT * FROM \"orders\"", m, .postgres) == "SELECT * FROM \"orders_g\"")
        #expect(rewritten("SELECT * FROM \"ORDERS\"", m, .postgres) == "SELECT * FROM \"ORDERS\"")
        guard case .refused = outcome("DELETE FROM \"ORDERS\"", m, .postgres) else {
            Issue.record("a quoted name with other case is a different, unmapped table")
            return
        }
    }

    @Test("MySQL compares names case-insensitively unless case-sensitive names are configured")
    func mysqlCase() {
        #expect(rewritten("INSERT INTO MSE_DEMO_TABLE VALUES (1)", grayStrictMap, .mysql) == "INSERT INTO mse_demo_table_gray VALUES (1)")
        var sensitive = grayStrictMap
        sensitive.caseSensitiveNames = true
        guard case .refused = outcome("INSERT INTO MSE_DEMO_TABLE VALUES (1)", sensitive, .mysql) else {
            Issue.record("expected a refusal")
            return
        }
    }

    @Test("names that are already shadow names are left alone, so rewriting is idempotent")
    func idempotentShadowNames() {
        #expect(rewritten("INSERT INTO mse_demo_table_gray VALUES (1)", grayStrictMap, .mysql) == "INSERT INTO mse_demo_table_gray VALUES (1)")
        // Found by the fuzzer: an empty quoted name is not a table the server accepts, so it is left alone (renaming
        // it would make it exactly the suffix, itself a shadow name).
        let empty = rewritten("SELECT * FROM ``", graySuffix, .mysql)
        #expect(empty == "SELECT * FROM ``")
        #expect(rewritten(empty, graySuffix, .mysql) == empty)
        let once = rewritten("SELECT a.x FROM a JOIN b ON a.id = b.id", graySuffix, .mysql)
        #expect(rewritten(once, graySuffix, .mysql) == once)
    }

    @Test("a bare new name that needs quoting is quoted in the dialect's style")
    func quotingNewNames() {
        let m = LaneMapping(lane: "gray", tables: ["a": "Shadow A", "b": "select"])
        #expect(rewritten("SELECT * FROM a, b", m, .mysql) == "SELECT * FROM `Shadow A`, `select`")
        #expect(rewritten("SELECT * FROM a, b", m, .postgres) == "SELECT * FROM \"Shadow A\", \"select\"")
        let q = LaneMapping(lane: "gray", tables: ["a": "x`y"])
        #expect(rewritten("SELECT * FROM `a`", q, .mysql) == "SELECT * FROM `x``y`")
    }

    @Test("calling an allowed routine passes and any other routine is refused")
    func routines() {
        var m = graySuffix
        m.allowedRoutines = ["app.safe_proc", "helper"]
        #expect(rewritten("CALL app.safe_proc(1)", m, .mysql) == "CALL app.safe_proc(1)")
        #expect(rewritten("CALL APP.HELPER(1)", m, .mysql) == "CALL APP.HELPER(1)")
        #expect(rewritten("CALL SAFE_PROC(1)", m, .mysql).hasPrefix("REFUSED"))
        guard case .refused(let r) = outcome("CALL other()", m, .mysql) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(r.rule == .routines)
    }

    @Test("a summary lists the kind of every statement")
    func summaryKinds() {
        guard case .rewritten(_, let summary) = outcome("BEGIN; SELECT * FROM t; UPDATE t SET a = 1; COMMIT", graySuffix, .mysql) else {
            Issue.record("expected a rewrite")
            return
        }
        #expect(summary.kinds == [.transactionControl, .read, .write, .transactionControl])
    }
}

/// Names that look like tables but are not table references: columns, aliases, strings, comments, functions.
let notTableCases: [(SQLDialect, String, String)] = [
    (.mysql, "SELECT orders FROM mse_demo_table", "SELECT orders FROM mse_demo_table_gray"),
    (.mysql, "SELECT mse_demo_table FROM mse_demo_table", "SELECT mse_demo_table FROM mse_demo_table_gray"),
    (.mysql, "SELECT o.a FROM mse_demo_table o", "SELECT o.a FROM mse_demo_table_gray o"),
    (.mysql, "SELECT 'mse_demo_table' FROM mse_demo_table", "SELECT 'mse_demo_table' FROM mse_demo_table_gray"),
    (.mysql, "SELECT mse_demo_table(1) FROM mse_demo_table", "SELECT mse_demo_table(1) FROM mse_demo_table_gray"),
    (.mysql, "SELECT * FROM mse_demo_table /* mse_demo_table */", "SELECT * FROM mse_demo_table_gray /* mse_demo_table */"),
    (.mysql, "SELECT * FROM mse_demo_table AS orders", "SELECT * FROM mse_demo_table_gray AS orders"),
    (.mysql, "WITH mse_demo_table AS (SELECT 1) SELECT * FROM mse_demo_table", "WITH mse_demo_table AS (SELECT 1) SELECT * FROM mse_demo_table"),
    (.postgres, "SELECT \"mse_demo_table\".id FROM mse_demo_table", "SELECT \"mse_demo_table_gray\".id FROM mse_demo_table_gray"),
    (.postgres, "SELECT count(*) AS mse_demo_table FROM mse_demo_table", "SELECT count(*) AS mse_demo_table FROM mse_demo_table_gray"),
    (.postgres, "SELECT $$mse_demo_table$$ FROM mse_demo_table", "SELECT $$mse_demo_table$$ FROM mse_demo_table_gray"),
]

@Suite struct NotATableTests {
    @Test("columns, aliases, CTE names, strings, comments and functions named like a table are never renamed", arguments: notTableCases)
    func notTables(_ dialect: SQLDialect, _ sql: String, _ expected: String) {
        // The lane vouches for the function named like the table, so the call passes and only the table is renamed.
        var mapping = grayStrictMap
        mapping.allowedRoutines = ["mse_demo_table"]
        #expect(rewritten(sql, mapping, dialect) == expected)
    }
}
