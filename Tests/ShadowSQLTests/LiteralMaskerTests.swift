import ShadowSQL
import Testing

@Suite("LiteralMasker")
struct LiteralMaskerTests {
    @Test(
        "PostgreSQL string, escape, bit, hex, unicode, dollar-quoted and numeric literals become ?",
        arguments: [
            ("SELECT * FROM t WHERE a = 'secret'", "SELECT * FROM t WHERE a = ?"),
            ("INSERT INTO t VALUES (E'it\\'s', 42, 3.5e-2)", "INSERT INTO t VALUES (?, ?, ?)"),
            ("SELECT B'1010', X'1F', U&'d\\0061t'", "SELECT ?, ?, ?"),
            ("DO $body$ BEGIN PERFORM 'x'; END $body$", "DO ?"),
            ("SELECT $$a 'quoted' b$$ || $tag$x$tag$", "SELECT ? || ?"),
            ("ALTER ROLE app PASSWORD 'hunter2'", "ALTER ROLE app PASSWORD ?"),
            ("SELECT 'a''b', .5, 1_000", "SELECT ?, ?, ?"),
        ])
    func postgresLiterals(sql: String, expected: String) {
        #expect(LiteralMasker.mask(sql, dialect: .postgres) == expected)
    }

    @Test(
        "MySQL quoted, hex, bit, introducer and numeric literals become ?",
        arguments: [
            ("SELECT * FROM t WHERE a = 'secret' AND b = \"x\"", "SELECT * FROM t WHERE a = ? AND b = ?"),
            ("INSERT INTO t VALUES (X'CAFE', x'00', 0xFF, b'101', 0b11)", "INSERT INTO t VALUES (?, ?, ?, ?, ?)"),
            ("SELECT N'nat', _utf8mb4'intro', 'it\\'s'", "SELECT ?, ?, ?"),
            ("UPDATE t SET price = -12.50 WHERE id = 7", "UPDATE t SET price = -? WHERE id = ?"),
            ("SET PASSWORD = 'hunter2'", "SET PASSWORD = ?"),
        ])
    func mysqlLiterals(sql: String, expected: String) {
        #expect(LiteralMasker.mask(sql, dialect: .mysql) == expected)
    }

    @Test("identifiers, quoted identifiers, placeholders and comments are kept byte for byte")
    func keepsStructure() {
        let pg = "/* lane=gray */ SELECT \"Col 1\", t1.c2 FROM s.t1 WHERE id = $1 -- trailing"
        #expect(LiteralMasker.mask(pg, dialect: .postgres) == pg)
        let my = "SELECT `col 1`, t2 FROM db.t WHERE id = ? AND v = @v # c"
        #expect(LiteralMasker.mask(my, dialect: .mysql) == my)
    }

    @Test("an unterminated string is masked to the end of the input")
    func unterminated() {
        #expect(LiteralMasker.mask("SELECT 'never closed secret", dialect: .postgres) == "SELECT ?")
        #expect(LiteralMasker.mask("SELECT 'never closed secret", dialect: .mysql) == "SELECT ?")
    }

    @Test("words that start like literals are not masked")
    func wordsStayWords() {
        #expect(LiteralMasker.mask("SELECT x1, e, b2 FROM t9", dialect: .postgres) == "SELECT x1, e, b2 FROM t9")
        #expect(LiteralMasker.mask("SELECT 0xZZ, n, _x FROM t", dialect: .mysql) == "SELECT 0xZZ, n, _x FROM t")
    }
}
