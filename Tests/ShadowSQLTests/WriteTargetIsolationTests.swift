import ShadowSQL
import Testing

/// Statements whose write target a lane must rename (or refuse) however the rest of the statement reads: each of
/// these once ran on the base table in a non-base lane.
@Suite struct WriteTargetIsolationTests {
    @Test("a write target named like a CTE of the statement is the table, renamed in the lane", arguments: SQLDialect.allCases)
    func writeTargetIsNeverACTE(_ dialect: SQLDialect) {
        #expect(rewritten("WITH a AS (SELECT 1) DELETE FROM a WHERE id = 1", graySuffix, dialect)
                == "WITH a AS (SELECT 1) DELETE FROM a_gray WHERE id = 1")
        #expect(rewritten("WITH a AS (SELECT 1) INSERT INTO a SELECT * FROM a", graySuffix, dialect)
                == "WITH a AS (SELECT 1) INSERT INTO a_gray SELECT * FROM a")
        #expect(rewritten("WITH a AS (SELECT 1) UPDATE a SET v = 1", graySuffix, dialect)
                == "WITH a AS (SELECT 1) UPDATE a_gray SET v = 1")
        // Where tables are read, the CTE still hides the table of the same name.
        #expect(rewritten("WITH x AS (SELECT 1) SELECT * FROM x JOIN t ON true", graySuffix, dialect)
                == "WITH x AS (SELECT 1) SELECT * FROM x JOIN t_gray ON true")
    }

    @Test("PostgreSQL: MERGE into a table named like a CTE merges into the shadow table")
    func mergeTargetIsNeverACTE() {
        #expect(rewritten("WITH a AS (SELECT 1) MERGE INTO a USING a AS s ON true WHEN MATCHED THEN DELETE", graySuffix, .postgres)
                == "WITH a AS (SELECT 1) MERGE INTO a_gray USING a AS s ON true WHEN MATCHED THEN DELETE")
    }

    @Test("a write target named like a CTE is unmapped, and refused, in a lane that rejects unmapped writes")
    func hiddenUnmappedWriteRefused() {
        let strict = LaneMapping(lane: "strict", tables: ["t": "t_gray"], unmappedWrites: .reject)
        let result = outcome("WITH a AS (SELECT 1) DELETE FROM a", strict, .postgres)
        #expect({ if case .refused(let refusal) = result { refusal.rule == .unmappedWrites } else { false } }())
    }

    @Test("MySQL: an executable comment is refused in a lane, whether the server would run it or skip it", arguments: [
        "SELECT * FROM t /*!50700 JOIN u ON t.a = u.a */",
        "/*!40101 SELECT * FROM t */",
        "SELECT * FROM m; /*! DELETE FROM x */",
        // MariaDB skips /*!50700…/*!99999 (quotes inside included), so the server would run the DELETE here.
        "SELECT 1 /*!99999 ' */; DELETE FROM a; -- ' */",
        // A /*! nested in an executed /*! ends it at the first */.
        "UPDATE b /*! /*! , a */ SET a.x = 2 */*x*/3",
        // Only an upper-case M makes a MariaDB executable comment.
        "SELECT 1 /*m! ' */; DELETE FROM a; -- ' */",
    ])
    func executableCommentsRefused(_ sql: String) {
        #expect(refusalRule(sql, .mysql) == .unanalysable)
        #expect(rewritten(sql, graySuffix, .mysql).contains("executable comment"))
    }

    @Test("MySQL: `--` followed by DEL (0x7F) starts a comment, as on the server, so the table after it is seen")
    func doubleDashBeforeDeleteIsAComment() {
        #expect(rewritten("SELECT 1 --\u{7F} '\n; DELETE FROM a; -- '", graySuffix, .mysql)
                == "SELECT 1 --\u{7F} '\n; DELETE FROM a_gray; -- '")
    }

    @Test("MySQL: statements that run another statement the lane cannot see are refused", arguments: [
        "SET STATEMENT max_statement_time=10 FOR UPDATE b SET x=5",
        "ANALYZE FORMAT=JSON UPDATE b SET x=11",
        "DECLARE x INT; BEGIN UPDATE b SET x = 13; END",
        "EXECUTE s",
        "SELECT SETVAL(s, 1000)",
        "INSERT INTO a VALUES (NEXTVAL(s))",
        "INSERT INTO a VALUES (NEXT VALUE FOR s)",
        "CREATE TABLE n (a int) ENGINE=MRG_MyISAM UNION=(m) INSERT_METHOD=LAST",
        "ALTER TABLE n UNION=(m)",
        "CREATE TABLE f (a int) ENGINE=FEDERATED CONNECTION='mysql://u@h/db/t'",
    ])
    func hiddenStatementsRefused(_ sql: String) {
        #expect(refusalRule(sql, .mysql) == .unsupported)
    }

    /// The rule the gray lane refuses `sql` by, or nil when it is not refused.
    func refusalRule(_ sql: String, _ dialect: SQLDialect) -> Refusal.Rule? {
        if case .refused(let refusal) = outcome(sql, graySuffix, dialect) { return refusal.rule }
        return nil
    }

    @Test("whole-server and whole-database operations are refused in a lane; the same on one table is renamed")
    func serverWideRefused() {
        #expect(refusalRule("SET GLOBAL init_connect = 'x'", .mysql) == .unsupported)
        #expect(refusalRule("SET @@global.max_connections = 10", .mysql) == .unsupported)
        #expect(refusalRule("SET @@session.sql_mode = ''", .mysql) == nil)
        #expect(refusalRule("VACUUM FULL", .postgres) == .unsupported)
        #expect(refusalRule("CLUSTER", .postgres) == .unsupported)
        #expect(rewritten("VACUUM a", graySuffix, .postgres) == "VACUUM a_gray")
        #expect(refusalRule("ANALYZE", .postgres) == .unsupported)
        #expect(refusalRule("ANALYZE VERBOSE", .postgres) == .unsupported)
        #expect(rewritten("ANALYZE a", graySuffix, .postgres) == "ANALYZE a_gray")
    }

    @Test("statements that act beyond the lane's tables are refused in a lane: accounts, replication, locks and signals of the whole server",
          arguments: [
              ("SET PASSWORD FOR bob = PASSWORD('x')", SQLDialect.mysql), ("SET PASSWORD = 'x'", .mysql),
              ("set password for 'bob'@'%' = 'x'", .mysql), ("SET DEFAULT ROLE r FOR bob", .mysql),
              ("RESET MASTER", .mysql), ("RESET SLAVE ALL", .mysql), ("RESET QUERY CACHE", .mysql),
              ("START SLAVE", .mysql), ("START REPLICA", .mysql), ("FLUSH TABLES WITH READ LOCK", .mysql),
              ("FLUSH PRIVILEGES", .mysql), ("FLUSH TABLES", .mysql), ("FLUSH LOGS", .mysql),
              ("LOAD INDEX INTO CACHE t", .mysql), ("KILL USER app", .mysql), ("KILL QUERY ID 12", .mysql),
              ("KILL 5, 6", .mysql), ("KILL QUERY 5; DELETE FROM t", .mysql), ("SELECT 1; KILL 5", .mysql),
              ("NOTIFY ch", .postgres), ("NOTIFY ch, 'payload'", .postgres), ("CHECKPOINT", .postgres),
              ("LOAD 'auto_explain'", .postgres), ("REINDEX DATABASE d", .postgres), ("REINDEX SYSTEM d", .postgres),
              ("REINDEX SCHEMA public", .postgres), ("REINDEX (VERBOSE) DATABASE d", .postgres),
          ])
    func beyondTheLaneRefused(_ sql: String, _ dialect: SQLDialect) {
        #expect(refusalRule(sql, dialect) == .unsupported, "\(sql)")
    }

    @Test(
        "modifiers, index hints, ROWS FROM and a CTE after INSERT INTO are not table names; the tables around them are renamed",
        arguments: [
            (SQLDialect.postgres, "REFRESH MATERIALIZED VIEW CONCURRENTLY v", "REFRESH MATERIALIZED VIEW CONCURRENTLY v_gray"),
            (.postgres, "MERGE INTO ONLY a USING b ON a.id = b.id WHEN MATCHED THEN DELETE",
             "MERGE INTO ONLY a_gray USING b_gray ON a_gray.id = b_gray.id WHEN MATCHED THEN DELETE"),
            (.postgres, "SELECT * FROM ROWS FROM (generate_series(1, 2), unnest(ARRAY[1])) AS x(a, b) JOIN t ON true",
             "SELECT * FROM ROWS FROM (generate_series(1, 2), unnest(ARRAY[1])) AS x(a, b) JOIN t_gray ON true"),
            (.postgres, "INSERT INTO a WITH c AS (SELECT 1) SELECT * FROM c", "INSERT INTO a_gray WITH c AS (SELECT 1) SELECT * FROM c"),
            (.postgres, "INSERT INTO a SELECT * FROM unnest(ARRAY[1]) WITH ORDINALITY AS u(v, n)",
             "INSERT INTO a_gray SELECT * FROM unnest(ARRAY[1]) WITH ORDINALITY AS u(v, n)"),
            (.mysql, "INSERT INTO a (x) WITH RECURSIVE c (n) AS (SELECT 1 FROM b) SELECT * FROM c",
             "INSERT INTO a_gray (x) WITH RECURSIVE c (n) AS (SELECT 1 FROM b_gray) SELECT * FROM c"),
            (.mysql, "INSERT INTO a SELECT x, COUNT(*) FROM b GROUP BY x WITH ROLLUP",
             "INSERT INTO a_gray SELECT x, COUNT(*) FROM b_gray GROUP BY x WITH ROLLUP"),
            (.mysql, "SELECT * FROM a FORCE INDEX FOR JOIN (PRIMARY) JOIN b ON a.id = b.id",
             "SELECT * FROM a_gray FORCE INDEX FOR JOIN (PRIMARY) JOIN b_gray ON a_gray.id = b_gray.id"),
            (.mysql, "SELECT * FROM a USE INDEX (i1, i2) IGNORE KEY FOR ORDER BY (PRIMARY), b",
             "SELECT * FROM a_gray USE INDEX (i1, i2) IGNORE KEY FOR ORDER BY (PRIMARY), b_gray"),
            (.mysql, "DELETE HISTORY FROM a BEFORE SYSTEM_TIME '2020-01-01'", "DELETE HISTORY FROM a_gray BEFORE SYSTEM_TIME '2020-01-01'"),
        ])
    func wordsBeforeAndAfterTables(_ dialect: SQLDialect, _ sql: String, _ expected: String) {
        #expect(rewritten(sql, graySuffix, dialect) == expected)
    }

    @Test("PostgreSQL: EXPLAIN of EXECUTE is refused in a lane (the session checks the lane of EXECUTE sent alone)")
    func explainExecuteRefused() {
        #expect(refusalRule("EXPLAIN ANALYZE EXECUTE p", .postgres) == .unsupported)
        #expect(refusalRule("EXPLAIN (ANALYZE, BUFFERS) EXECUTE p(1)", .postgres) == .unsupported)
    }

    @Test("session and transaction statements that look like the refused ones still pass in a lane")
    func lookalikesPass() {
        #expect(rewritten("START TRANSACTION", graySuffix, .mysql) == "START TRANSACTION")
        // One thread id: the MySQL session checks that it is a connection of the same lane.
        #expect(rewritten("KILL QUERY 5", graySuffix, .mysql) == "KILL QUERY 5")
        #expect(rewritten("KILL HARD CONNECTION 5;", graySuffix, .mysql) == "KILL HARD CONNECTION 5;")
        #expect(rewritten("START TRANSACTION READ ONLY", graySuffix, .mysql) == "START TRANSACTION READ ONLY")
        #expect(rewritten("SET ROLE r", graySuffix, .mysql) == "SET ROLE r")
        #expect(rewritten("UPDATE a SET password = 'x'", graySuffix, .mysql) == "UPDATE a_gray SET password = 'x'")
        #expect(rewritten("LOAD DATA INFILE 'f' INTO TABLE a", graySuffix, .mysql) == "LOAD DATA INFILE 'f' INTO TABLE a_gray")
        #expect(rewritten("FLUSH TABLES a WITH READ LOCK", graySuffix, .mysql) == "FLUSH TABLES a_gray WITH READ LOCK")
        #expect(rewritten("RESET ALL", graySuffix, .postgres) == "RESET ALL")
        #expect(rewritten("LISTEN ch", graySuffix, .postgres) == "LISTEN ch")
        #expect(rewritten("REINDEX TABLE a", graySuffix, .postgres) == "REINDEX TABLE a_gray")
    }

    @Test("PostgreSQL: setval is refused in a lane; nextval (an id generator's call) is not")
    func postgresSequences() {
        #expect(rewritten("SELECT setval('s', 1000)", graySuffix, .postgres).hasPrefix("REFUSED:"))
        #expect(rewritten("SELECT nextval('s')", graySuffix, .postgres) == "SELECT nextval('s')")
    }

    @Test("MySQL: RENAME TABLE … WAIT n / NOWAIT keeps every pair in the list")
    func renameWaitKeepsTheList() {
        #expect(rewritten("RENAME TABLE b NOWAIT TO y, a TO q", graySuffix, .mysql) == "RENAME TABLE b_gray NOWAIT TO y_gray, a_gray TO q_gray")
        #expect(rewritten("RENAME TABLE b WAIT 1 TO y", graySuffix, .mysql) == "RENAME TABLE b_gray WAIT 1 TO y_gray")
    }

    @Test("MySQL: a multi-table DELETE's table named like an alias is still a table")
    func deleteTableNamedLikeAlias() {
        #expect(rewritten("DELETE c FROM b AS a, a AS c", graySuffix, .mysql) == "DELETE c FROM b_gray AS a, a_gray AS c")
        #expect(rewritten("DELETE FROM c USING b AS a, a AS c", graySuffix, .mysql) == "DELETE FROM c USING b_gray AS a, a_gray AS c")
        // Targets that are aliases stay aliases.
        #expect(rewritten("DELETE a FROM t AS a", graySuffix, .mysql) == "DELETE a FROM t_gray AS a")
        #expect(rewritten("DELETE FROM a USING t AS a", graySuffix, .mysql) == "DELETE FROM a USING t_gray AS a")
    }

    @Test("a table mapped into a shadow database under its own name is renamed; only the shadow itself is kept", arguments: SQLDialect.allCases)
    func qualifiedMapValueWithTheSameName(_ dialect: SQLDialect) {
        let m = LaneMapping(lane: "gray", tables: ["a": "shadow.a", "db.b": "shadow.b"], unmappedWrites: .reject)
        #expect(rewritten("INSERT INTO a VALUES (1)", m, dialect) == "INSERT INTO shadow.a VALUES (1)")
        #expect(rewritten("UPDATE db.b SET x = 1", m, dialect) == "UPDATE shadow.b SET x = 1")
        #expect(rewritten("INSERT INTO shadow.a VALUES (1)", m, dialect) == "INSERT INTO shadow.a VALUES (1)")
    }

    @Test("MySQL: words MariaDB does not reserve name tables and aliases in UPDATE and DELETE lists")
    func unreservedWordsAsNames() {
        #expect(rewritten("UPDATE b local, a SET a.x = 15", graySuffix, .mysql) == "UPDATE b_gray local, a_gray SET a_gray.x = 15")
        #expect(rewritten("UPDATE b value, a SET a.x = 1", graySuffix, .mysql) == "UPDATE b_gray value, a_gray SET a_gray.x = 1")
        #expect(rewritten("UPDATE b JOIN value ON 1 SET value.x = 17", graySuffix, .mysql)
                == "UPDATE b_gray JOIN value_gray ON 1 SET value_gray.x = 17")
        #expect(rewritten("INSERT INTO t VALUE (1)", graySuffix, .mysql) == "INSERT INTO t_gray VALUE (1)")
        #expect(rewritten("LOCK TABLES t READ LOCAL", graySuffix, .mysql) == "LOCK TABLES t_gray READ LOCAL")
    }

    @Test("MySQL: a string where a table's alias may be (ANSI_QUOTES) is refused, not read past", arguments: [
        #"UPDATE b "x", a "y" SET "y".x = 16"#,
        #"UPDATE b AS "x", a SET a.x = 16"#,
    ])
    func ansiQuotedAliasRefused(_ sql: String) {
        #expect(refusalRule(sql, .mysql) == .unanalysable)
    }

    @Test("UTF-8 names and strings pass in a lane")
    func utf8Passes() {
        #expect(rewritten(#"SELECT '中文\\' FROM 表"#, graySuffix, .mysql) == #"SELECT '中文\\' FROM 表_gray"#)
        #expect(rewritten("INSERT INTO t VALUES ('naïve', 'ü')", graySuffix, .postgres) == "INSERT INTO t_gray VALUES ('naïve', 'ü')")
    }

    @Test("PostgreSQL: a shadow name over 63 bytes is refused (the server would cut it back to the base name)")
    func longShadowNameRefused() {
        let base = String(repeating: "a", count: 60)
        let result = rewritten("INSERT INTO \(base) VALUES (1)", graySuffix, .postgres)
        #expect(result.hasPrefix("REFUSED:"))
        #expect(result.contains("63-byte limit"))
        // 58 + 5 = 63 bytes is still a name of its own; MySQL rejects over-long names itself instead of cutting them.
        let fits = String(repeating: "a", count: 58)
        #expect(rewritten("INSERT INTO \(fits) VALUES (1)", graySuffix, .postgres) == "INSERT INTO \(fits)_gray VALUES (1)")
        #expect(rewritten("INSERT INTO \(base) VALUES (1)", graySuffix, .mysql) == "INSERT INTO \(base)_gray VALUES (1)")
    }

    @Test("ALTER TABLE … SET SCHEMA is refused in a lane: it would move the table into a schema the lane does not map")
    func setSchemaRefused() {
        let result = rewritten("ALTER TABLE a SET SCHEMA public", graySuffix, .postgres)
        #expect(result.hasPrefix("REFUSED:"))
        #expect(result.contains("SET SCHEMA"))
        #expect(rewritten("ALTER TABLE a ALTER COLUMN c SET DEFAULT 1", graySuffix, .postgres)
                == "ALTER TABLE a_gray ALTER COLUMN c SET DEFAULT 1")
    }
}
