import Testing

@testable import ShadowSQL

/// Inputs found by the fuzz targets in scripts/fuzz (sql-lexer, sql-rewrite), kept as regression tests.
@Suite("Rewriter fuzz regressions")
struct RewriterFuzzRegressionTests {
    @Test("An empty quoted table name is left for the server to reject, so rewriting stays idempotent")
    func emptyQuotedTableNameIsKept() {
        let lane = LaneMapping(lane: "fuzz", tableSuffix: "_fz", unmappedWrites: .pass)
        // Found by sql-lexer: `INTO ""` became `INTO "_fz"`, which a second pass renamed to `"_fz_fz"`.
        #expect(rewritten(#"INSERT INTO "" VALUES (1)"#, lane, .postgres) == #"INSERT INTO "" VALUES (1)"#)
        #expect(rewritten("INSERT INTO `` VALUES (1)", lane, .mysql) == "INSERT INTO `` VALUES (1)")
        let found: [UInt8] = Array(#"SELECT a.x, b.yNSERT INTO"""#.utf8) + [0xFF] + Array("e_d".utf8)
            + [0x85, 0x85, 0x85, 0x85, 0x85, 0x4E, 0, 0, 0] + Array("TO mse_d_table(location) VALUES(?)\n*".utf8)
            + [0xDB, 0x0A]
        var rewriter = SQLRewriter(dialect: .postgres)
        if case .rewritten(let once, _) = rewriter.rewrite(found, lane: lane) {
            if case .rewritten(let twice, _) = rewriter.rewrite(once, lane: lane) { #expect(twice == once) }
        }
        // A real name next to the empty one is still renamed.
        #expect(rewritten(#"SELECT * FROM t JOIN "" ON true"#, lane, .postgres) == #"SELECT * FROM t_fz JOIN "" ON true"#)
    }

    @Test("A bare name that must be quoted is kept apart from a quoted name it touches")
    func quotedRenameDoesNotMergeWithNeighbour() {
        let lane = LaneMapping(lane: "quoted", tableSuffix: "-Gray x", unmappedWrites: .pass, caseSensitiveNames: true)
        // Found by sql-rewrite: `LATER44…`mse_dem`` became `` `LATER44…-Gray x``mse_dem` ``, one identifier.
        #expect(rewritten("SELECT * FROM t, LATER44`mse_dem`.`t`", lane, .mysql)
                == "SELECT * FROM `t-Gray x`, `LATER44-Gray x` `mse_dem`.`t`")
        #expect(rewritten("SELECT * FROM t`x`", lane, .mysql) == "SELECT * FROM `t-Gray x` `x`")
        #expect(rewritten(#"SELECT * FROM t"x""#, lane, .postgres) == #"SELECT * FROM "t-Gray x" "x""#)
        // Names that need no quoting are not padded.
        #expect(rewritten("SELECT * FROM t`x`", graySuffix, .mysql) == "SELECT * FROM t_gray`x`")
    }

    @Test("A renamed name that touches a literal is set apart by a space, so the two cannot fuse into another token")
    func renamedNameDoesNotFuseWithLiteral() {
        let toE = LaneMapping(lane: "e", tables: ["t": "e"], tableSuffix: "_gray")
        // Without the space, PostgreSQL would read `e'x'` as an escape string and MySQL `x'…'` as a hex literal.
        #expect(rewritten("SELECT * FROM t'x'", toE, .postgres) == "SELECT * FROM e 'x'")
        // MySQL has no string after a table name (an ANSI_QUOTES alias at most), so it is refused there.
        let toX = LaneMapping(lane: "x", tables: ["t": "x"], tableSuffix: "_gray")
        #expect(rewritten("SELECT * FROM t'41'", toX, .mysql).hasPrefix("REFUSED:"))
        let spacedHex = Array("SELECT t'41'".utf8).withUnsafeBytes {
            NameRenderer.separated(Array("x".utf8), replacing: 7, 8, in: $0)
        }
        #expect(spacedHex == Array("x ".utf8))
        let toU = LaneMapping(lane: "u", tables: ["t": "u"], tableSuffix: "_gray")
        #expect(rewritten("SELECT * FROM t&'x'", toU, .postgres) == "SELECT * FROM u &'x'")
        // A name after a number could continue it (`1.5` then `e5x` would read as `1.5e5` then `x`).
        let after = Array("SELECT 1.5t".utf8)
        let spaced = after.withUnsafeBytes { NameRenderer.separated(Array("e5x".utf8), replacing: 10, 11, in: $0) }
        #expect(spaced == Array(" e5x".utf8))
        // Names next to operators, dots and parentheses are not padded.
        #expect(rewritten("SELECT t.a FROM t,u WHERE (t.a)=1", graySuffix, .mysql)
                == "SELECT t_gray.a FROM t_gray,u_gray WHERE (t_gray.a)=1")
    }

    @Test("A PostgreSQL Unicode-escaped qualifier (U&\"t\") is renamed as a quoted name, not quoted with its U")
    func unicodeQualifierKeepsItsQuote() {
        // Found in review: the quote was taken from the token's first byte, giving `Ut_grayU.c`.
        #expect(rewritten(#"SELECT U&"t".c FROM t"#, graySuffix, .postgres) == #"SELECT "t_gray".c FROM t_gray"#)
    }

    @Test("A reserved word where a table name must be is refused, never renamed as if it were the table")
    func reservedWordAsTableNameIsRefused() {
        let lane = LaneMapping(lane: "fuzz", tableSuffix: "_fz", unmappedWrites: .pass)
        // Found by sql-lexer (10-minute run): `TABLE FROM` took FROM as the table (`FROM_fz`), which misread the
        // rest, so a second pass renamed `a` that the first had missed.
        for dialect in [SQLDialect.mysql, .postgres] {
            #expect(rewritten("SELECT FROM table FROM m,a", lane, dialect).hasPrefix("REFUSED"))
            #expect(rewritten("TABLE where", lane, dialect).hasPrefix("REFUSED"))
        }
        // Non-reserved words stay usable as names.
        #expect(rewritten("INSERT INTO value VALUES (1)", lane, .mysql) == "INSERT INTO value_fz VALUES (1)")
        #expect(rewritten("TABLE t", lane, .postgres) == "TABLE t_fz")
    }

    @Test("A statement that reads differently once its tables are renamed is refused")
    func statementThatReadsDifferentlyAfterRenamingIsRefused() {
        let lane = LaneMapping(lane: "fuzz", tableSuffix: "_fz", unmappedWrites: .pass)
        // Found by sql-lexer (10-minute run after finding 4): `OF` in garbage after `UPDATE(` was taken for a table,
        // `OF_fz.p` then read as a qualified name, so a second pass renamed `p`, which the first had missed.
        let found: [UInt8] = Array("UPDATE(OF.p".utf8) + [0] + Array("(UPDATE OF".utf8)
        var rewriter = SQLRewriter(dialect: .postgres)
        guard case .refused = rewriter.rewrite(found, lane: lane) else {
            Issue.record("expected a refusal")
            return
        }
        // Ordinary rewrites are fixpoints and pass the check.
        #expect(rewritten("UPDATE t SET a = 1 FROM u WHERE t.id = u.id", lane, .postgres)
            == "UPDATE t_fz SET a = 1 FROM u_fz WHERE t_fz.id = u_fz.id")
    }
}
