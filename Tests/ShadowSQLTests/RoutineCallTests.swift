import ShadowSQL
import Testing

/// A function's body is invisible to the proxy, so a lane lets through only the calls it can vouch for: built-ins
/// without side effects and routines listed in `lanes.<lane>.routines`.
@Suite struct RoutineCallTests {
    func refusalOf(_ sql: String, _ mapping: LaneMapping = graySuffix, dialect: SQLDialect) -> Refusal? {
        if case .refused(let refusal) = outcome(sql, mapping, dialect) { return refusal }
        return nil
    }

    @Test(
        "a call of a function the lane cannot check is refused, naming the function and the allow-list",
        arguments: [
            (SQLDialect.mysql, "SELECT f_write(1) FROM t", "f_write"),
            (.mysql, "SELECT * FROM t WHERE id = f(1)", "f"),
            (.mysql, "UPDATE t SET a = f()", "f"),
            (.mysql, "INSERT INTO t VALUES (f())", "f"),
            (.mysql, "INSERT INTO t (a) SELECT b FROM u ORDER BY f(b)", "f"),
            (.mysql, "DO f()", "f"),
            (.mysql, "SET @a = f()", "f"),
            (.mysql, "SELECT (SELECT g(1) FROM u) FROM t", "g"),
            (.mysql, "SELECT * FROM t JOIN u ON t.a = h(u.a)", "h"),
            (.mysql, "SELECT db.f(x) FROM t", "db.f"),
            (.mysql, "SELECT `f`(1)", "f"),
            (.mysql, "SELECT mse_demo.f_write('x')", "mse_demo.f_write"),
            (.postgres, "SELECT f_write(1) FROM t", "f_write"),
            (.postgres, "SELECT * FROM my_srf()", "my_srf"),
            (.postgres, "SELECT * FROM t, LATERAL my_srf(t.a) s", "my_srf"),
            (.postgres, "SELECT public.f()", "public.f"),
            (.postgres, "SELECT \"LOWER\"(x) FROM t", "LOWER"),
            (.postgres, "SELECT \"f\"(1)", "f"),
            (.postgres, "SELECT \"PG_CATALOG\".lower(x)", "PG_CATALOG.lower"),
            (.postgres, "WITH c AS (SELECT f(1)) SELECT * FROM c", "f"),
            (.postgres, "INSERT INTO t (a) VALUES (1) RETURNING f(a)", "f"),
            // Unreserved words that are syntax elsewhere are calls where an expression starts.
            (.postgres, "SELECT a FROM t ORDER BY hash(a)", "hash"),
            (.postgres, "SELECT * FROM t WHERE a = value(1)", "value"),
            (.postgres, "SELECT filter(a), first(b) FROM t", "filter"),
            (.postgres, "SELECT \"values\"(1)", "values"),
            (.mysql, "SELECT hash(1), a FROM t", "hash"),
            (.mysql, "SELECT * FROM t WHERE a IN (1) AND filter(a)", "filter"),
            (.mysql, "SELECT `lower`(x) FROM t", "lower"),
        ])
    func unknownCallsRefused(_ dialect: SQLDialect, _ sql: String, _ name: String) throws {
        let refusal = try #require(refusalOf(sql, dialect: dialect), "\(sql)")
        #expect(refusal.rule == .routines)
        #expect(refusal.table == name)
        #expect(refusal.message.contains("call of function '\(name)' refused"))
        #expect(refusal.message.contains("lanes.gray.routines"))
    }

    @Test(
        "built-in functions pass in a lane and only the tables are renamed",
        arguments: [
            (SQLDialect.mysql, "SELECT COUNT(*), NOW(), IFNULL(a, CONCAT('x', 1)) FROM t WHERE id IN (1, 2)",
             "SELECT COUNT(*), NOW(), IFNULL(a, CONCAT('x', 1)) FROM t_gray WHERE id IN (1, 2)"),
            (.mysql, "SELECT DATE_FORMAT(c, '%Y'), JSON_EXTRACT(j, '$.a'), CAST(x AS DECIMAL(10, 2)), CONVERT(y, CHAR(4)) FROM t",
             "SELECT DATE_FORMAT(c, '%Y'), JSON_EXTRACT(j, '$.a'), CAST(x AS DECIMAL(10, 2)), CONVERT(y, CHAR(4)) FROM t_gray"),
            (.mysql, "SELECT ROW_NUMBER() OVER (PARTITION BY a ORDER BY b), SUM(c) OVER w FROM t WINDOW w AS (ORDER BY b)",
             "SELECT ROW_NUMBER() OVER (PARTITION BY a ORDER BY b), SUM(c) OVER w FROM t_gray WINDOW w AS (ORDER BY b)"),
            (.mysql, "INSERT INTO t (a, b) VALUES (UUID(), LEFT('abc', 2)) ON DUPLICATE KEY UPDATE b = VALUES(b)",
             "INSERT INTO t_gray (a, b) VALUES (UUID(), LEFT('abc', 2)) ON DUPLICATE KEY UPDATE b = VALUES(b)"),
            (.mysql, "SELECT * FROM t WHERE MATCH (a) AGAINST ('x' IN BOOLEAN MODE) AND EXISTS (SELECT 1 FROM u)",
             "SELECT * FROM t_gray WHERE MATCH (a) AGAINST ('x' IN BOOLEAN MODE) AND EXISTS (SELECT 1 FROM u_gray)"),
            (.mysql, "SELECT * FROM JSON_TABLE('[1]', '$[*]' COLUMNS (a INT PATH '$')) AS j",
             "SELECT * FROM JSON_TABLE('[1]', '$[*]' COLUMNS (a INT PATH '$')) AS j"),
            (.mysql, "SELECT concat ('a', 'b'), GET_LOCK('k', 1), ST_AsText(POINT(1, 2)) FROM t",
             "SELECT concat ('a', 'b'), GET_LOCK('k', 1), ST_AsText(POINT(1, 2)) FROM t_gray"),
            (.postgres, "SELECT coalesce(a, b), to_char(now(), 'YYYY'), date_trunc('day', c), lower(x) FROM t",
             "SELECT coalesce(a, b), to_char(now(), 'YYYY'), date_trunc('day', c), lower(x) FROM t_gray"),
            (.postgres, "SELECT array_agg(a ORDER BY b) FILTER (WHERE c), percentile_cont(0.5) WITHIN GROUP (ORDER BY d) FROM t",
             "SELECT array_agg(a ORDER BY b) FILTER (WHERE c), percentile_cont(0.5) WITHIN GROUP (ORDER BY d) FROM t_gray"),
            (.postgres, "SELECT * FROM generate_series(1, 3) g JOIN t ON t.id = g",
             "SELECT * FROM generate_series(1, 3) g JOIN t_gray ON t_gray.id = g"),
            (.postgres, "SELECT r.a FROM json_to_recordset('[]') AS r(a int, b text)",
             "SELECT r.a FROM json_to_recordset('[]') AS r(a int, b text)"),
            (.postgres, "SELECT pg_catalog.lower(x), x::numeric(10, 2), EXTRACT(epoch FROM c), SUBSTRING(s FROM 1 FOR 2) FROM t",
             "SELECT pg_catalog.lower(x), x::numeric(10, 2), EXTRACT(epoch FROM c), SUBSTRING(s FROM 1 FOR 2) FROM t_gray"),
            (.postgres, "SELECT PG_CATALOG.lower(x), \"pg_catalog\".upper(x) FROM t",
             "SELECT PG_CATALOG.lower(x), \"pg_catalog\".upper(x) FROM t_gray"),
            (.postgres, "SELECT TRIM(BOTH 'x' FROM s), OVERLAY(s PLACING 'y' FROM 1), \"lower\"(s), greatest(a, b) FROM t",
             "SELECT TRIM(BOTH 'x' FROM s), OVERLAY(s PLACING 'y' FROM 1), \"lower\"(s), greatest(a, b) FROM t_gray"),
            (.postgres, "INSERT INTO t (id) VALUES (nextval('t_id_seq')) ON CONFLICT (id) DO UPDATE SET a = EXCLUDED.a",
             "INSERT INTO t_gray (id) VALUES (nextval('t_id_seq')) ON CONFLICT (id) DO UPDATE SET a = EXCLUDED.a"),
            (.postgres, "SELECT pg_advisory_xact_lock(1), ARRAY(SELECT 1), ROW(1, 2), x IN (1) FROM t",
             "SELECT pg_advisory_xact_lock(1), ARRAY(SELECT 1), ROW(1, 2), x IN (1) FROM t_gray"),
        ])
    func builtinsPass(_ dialect: SQLDialect, _ sql: String, _ expected: String) {
        #expect(rewritten(sql, graySuffix, dialect) == expected)
    }

    @Test(
        "DDL, index names, type names and prepared statement names before ( are not calls",
        arguments: [
            (SQLDialect.mysql, "CREATE TABLE t (id INT, name VARCHAR(10), price DECIMAL(10, 2), kind ENUM('a', 'b'), PRIMARY KEY (id), KEY idx (name), UNIQUE KEY uk (name), INDEX (price), CONSTRAINT fk FOREIGN KEY (id) REFERENCES u (id), CHECK (price > 0))"),
            (.mysql, "CREATE TABLE t (a INT) PARTITION BY RANGE (a) (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN MAXVALUE)"),
            (.mysql, "ALTER TABLE t ADD INDEX idx (a), ADD UNIQUE u (b), ADD FULLTEXT INDEX f (c), ADD KEY k USING BTREE (d)"),
            (.mysql, "CREATE INDEX i ON t (a)"),
            (.mysql, "CREATE TABLE t (name VARCHAR(255), created DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6), doc JSON CHECK (JSON_VALID(doc)), UNIQUE KEY uk (name(100), created), KEY k (created) USING BTREE)"),
            (.mysql, "ALTER TABLE t ADD INDEX (name(10))"),
            (.postgres, "CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY (START WITH 1), a numeric(10, 2), b varchar(10), c character varying(5), d timestamp(3), e bit varying(4), EXCLUDE USING gist (id WITH =)) WITH (fillfactor = 70)"),
            (.postgres, "CREATE TABLE t (a int, b int) PARTITION BY RANGE (a)"),
            (.postgres, "CREATE INDEX i ON t USING btree (a) INCLUDE (b)"),
            (.postgres, "EXECUTE p(1, 2)"),
            (.postgres, "PREPARE p (int) AS SELECT * FROM t WHERE id = $1"),
            (.postgres, "VACUUM (VERBOSE) t"),
            (.postgres, "COPY t (a) FROM STDIN WITH (FORMAT csv, FORCE_NULL (a))"),
            (.postgres, "CREATE TABLE t (a int, b int) INHERITS (p)"),
            (.postgres, "CREATE TABLE t (a int, b int) PARTITION BY HASH (a)"),
            (.postgres, "ALTER TABLE t SET (fillfactor = 70), RESET (autovacuum_enabled)"),
            (.postgres, "MERGE INTO t USING s ON t.id = s.id WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)"),
            (.postgres, "SELECT count(*) FILTER (WHERE a > 1), rank() OVER (ORDER BY a) FROM t TABLESAMPLE SYSTEM (10) REPEATABLE (1)"),
            (.postgres, "INSERT INTO t (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET (a, b) = (1, 2)"),
            (.postgres, "SELECT a AT TIME ZONE ('UTC'), b::character varying(5), c ILIKE ('x%') FROM t GROUP BY a, ROLLUP (b), CUBE (c)"),
            (.mysql, "CREATE TABLE t (a INT) PARTITION BY HASH (a) PARTITIONS 4"),
            (.mysql, "CREATE TABLE t (a INT, b INT) PARTITION BY RANGE COLUMNS (a, b) (PARTITION p0 VALUES LESS THAN (1, 2))"),
            (.mysql, "SELECT * FROM t WHERE MATCH (a) AGAINST ('x') AND a IN (SELECT b FROM JSON_TABLE('[1]', '$[*]' COLUMNS (b INT PATH '$')) j)"),
            (.mysql, "INSERT INTO t VALUE (1), (2)"),
        ])
    func syntaxIsNotACall(_ dialect: SQLDialect, _ sql: String) {
        #expect(refusalOf(sql, dialect: dialect) == nil, "\(sql)")
    }

    @Test(
        "built-ins that act beyond the lane's tables are refused with what they reach",
        arguments: [
            ("SELECT pg_notify('orders', 'x')", "pg_notify", "listeners"),
            ("SELECT pg_catalog.pg_notify('orders', 'x')", "pg_catalog.pg_notify", "listeners"),
            ("SELECT lo_from_bytea(0, 'x')", "lo_from_bytea", "pg_largeobject"),
            ("SELECT lo_unlink(16400)", "lo_unlink", "pg_largeobject"),
            ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity", "pg_terminate_backend", "other sessions"),
            ("SELECT pg_cancel_backend(42)", "pg_cancel_backend", "other sessions"),
            ("SELECT brin_summarize_range('i', 0)", "brin_summarize_range", "index"),
            ("SELECT pg_reload_conf()", "pg_reload_conf", "server-wide"),
            ("SELECT pg_stat_reset()", "pg_stat_reset", "server-wide"),
        ])
    func sideEffectsRefused(_ sql: String, _ name: String, _ reach: String) throws {
        let refusal = try #require(refusalOf(sql, dialect: .postgres), "\(sql)")
        #expect(refusal.rule == .unsupported)
        #expect(refusal.table == name)
        #expect(refusal.message.contains("function '\(name)' refused"))
        #expect(refusal.message.contains(reach))
    }

    @Test("a routine in lanes.<lane>.routines passes: a bare entry in any schema, a qualified entry only qualified")
    func allowList() {
        var bare = graySuffix
        bare.allowedRoutines = ["f"]
        #expect(rewritten("SELECT db.f(x) FROM t", bare, .mysql) == "SELECT db.f(x) FROM t_gray")
        #expect(rewritten("SELECT F(x) FROM t", bare, .mysql) == "SELECT F(x) FROM t_gray")
        var qualified = graySuffix
        qualified.allowedRoutines = ["db.f"]
        #expect(rewritten("SELECT db.f(x) FROM t", qualified, .mysql) == "SELECT db.f(x) FROM t_gray")
        #expect(refusalOf("SELECT f(x) FROM t", qualified, dialect: .mysql)?.rule == .routines)
        #expect(refusalOf("SELECT other.f(x) FROM t", qualified, dialect: .mysql)?.rule == .routines)
        // PostgreSQL resolves the call as the server would: unquoted names fold to lower case, quoted ones do not.
        var pg = graySuffix
        pg.allowedRoutines = ["public.f", "Mixed"]
        #expect(rewritten("SELECT PUBLIC.F(1)", pg, .postgres) == "SELECT PUBLIC.F(1)")
        #expect(rewritten("SELECT \"Mixed\"(1)", pg, .postgres) == "SELECT \"Mixed\"(1)")
        #expect(refusalOf("SELECT \"F\"(1)", pg, dialect: .postgres)?.rule == .routines)
        #expect(refusalOf("SELECT Mixed(1)", pg, dialect: .postgres)?.rule == .routines)
        // The operator may also accept a built-in's side effect for the lane.
        var notify = graySuffix
        notify.allowedRoutines = ["pg_notify"]
        #expect(rewritten("SELECT pg_notify('c', 'x')", notify, .postgres) == "SELECT pg_notify('c', 'x')")
    }

    @Test("CALL of an allowed procedure: its arguments are checked and renamed like any expression", arguments: SQLDialect.allCases)
    func callArguments(_ dialect: SQLDialect) {
        var lane = graySuffix
        lane.allowedRoutines = ["p"]
        #expect(rewritten("CALL p((SELECT a FROM t LIMIT 1), lower('x'))", lane, dialect)
            == "CALL p((SELECT a FROM t_gray LIMIT 1), lower('x'))")
        #expect(rewritten("CALL p(1)", lane, dialect) == "CALL p(1)")
        #expect(refusalOf("CALL p(f_write(1))", lane, dialect: dialect)?.table == "f_write")
        #expect(refusalOf("CALL q((SELECT a FROM t))", lane, dialect: dialect)?.message.contains("CALL of routine 'q' refused") == true)
    }

    @Test("MySQL: a grammar function with a space before ( names a stored function and is refused; a native one passes")
    func spacedGrammarFunction() throws {
        let refusal = try #require(refusalOf("SELECT count (*) FROM t", dialect: .mysql))
        #expect(refusal.rule == .routines)
        #expect(refusal.message.contains("remove the space"))
        #expect(refusalOf("SELECT count(*) FROM t", dialect: .mysql) == nil)
        #expect(refusalOf("SELECT concat /* c */ ('a') FROM t", dialect: .mysql) == nil)
    }

    @Test("a rewriter that remembered a statement's shape still refuses the same shape with another function")
    func rememberedShapeStillChecksCalls() {
        var rewriter = SQLRewriter(dialect: .mysql)
        for _ in 0..<3 {
            guard case .rewritten = rewriter.rewrite("SELECT lower(a) FROM t WHERE id = 1", lane: graySuffix) else {
                Issue.record("a built-in call should pass")
                return
            }
        }
        guard case .refused(let refusal) = rewriter.rewrite("SELECT f_write(a) FROM t WHERE id = 2", lane: graySuffix) else {
            Issue.record("an unknown function should be refused by a warm rewriter")
            return
        }
        #expect(refusal.rule == .routines)
    }
}
