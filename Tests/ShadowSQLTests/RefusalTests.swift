import ShadowSQL
import Testing

/// Statements a lane must refuse (dialect, SQL, expected rule).
let refusalCases: [(SQLDialect, String, Refusal.Rule)] = [
    (.mysql, "SELECT 'unterminated FROM t", .unanalysable),
    (.mysql, "SELECT * FROM t /* never closed", .unanalysable),
    (.mysql, "SELECT * FROM `t", .unanalysable),
    (.mysql, "SELECT * FROM t /*!50700 JOIN u", .unanalysable),
    (.postgres, "SELECT $$ never closed", .unanalysable),
    (.postgres, "SELECT * FROM \"t", .unanalysable),
    (.postgres, "SELECT /* /* nested */ still open", .unanalysable),
    (.postgres, "SELECT * FROM U&\"d\\0061t\"", .unanalysable),
    (.mysql, "INSERT INTO \"t\" VALUES (1)", .unanalysable),
    (.mysql, "INSERT INTO ? VALUES (1)", .unanalysable),
    (.mysql, "FROBNICATE t", .unanalysable),
    (.mysql, "PREPARE s FROM 'DELETE FROM t'", .unsupported),
    (.mysql, "EXECUTE IMMEDIATE 'DELETE FROM t'", .unsupported),
    (.postgres, "DO $$ BEGIN DELETE FROM t; END $$", .unsupported),
    (.mysql, "CREATE PROCEDURE p() BEGIN DELETE FROM t; END", .unsupported),
    (.mysql, "CREATE DEFINER = 'a'@'%' TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1", .unsupported),
    (.mysql, "CREATE DATABASE d", .unsupported),
    (.postgres, "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql", .unsupported),
    (.postgres, "DROP INDEX i", .unsupported),
    (.mysql, "GRANT SELECT ON t TO u", .unsupported),
    (.mysql, "RENAME USER a TO b", .unsupported),
    (.postgres, "CALL p()", .routines),
    (.mysql, "BEGIN NOT ATOMIC DELETE FROM t; END", .unsupported),
    (.mysql, "INSERT INTO t VALUES (1); INSERT INTO 'x' VALUES (1)", .unanalysable),
    (.mysql, "CALL db.p(1, 2)", .routines),
]

@Suite struct RefusalTests {
    @Test("statements that cannot be isolated are refused with the matching rule", arguments: refusalCases)
    func refused(_ dialect: SQLDialect, _ sql: String, _ rule: Refusal.Rule) {
        guard case .refused(let refusal) = outcome(sql, graySuffix, dialect) else {
            Issue.record("expected a refusal for \(sql)")
            return
        }
        #expect(refusal.rule == rule)
        #expect(refusal.lane == "gray")
        #expect(refusal.message.hasPrefix("lane 'gray': "))
    }

    @Test("a refusal in any statement of a multi-statement buffer refuses the buffer")
    func multiStatementRefusal() {
        guard case .refused = outcome("SELECT * FROM t; DELETE FROM orders", grayStrictMap, .mysql) else {
            Issue.record("expected a refusal")
            return
        }
    }

    @Test("a megabyte of nested parentheses is refused without exhausting the stack")
    func deepNesting() {
        let depth = 500_000
        let sql = "SELECT * FROM t WHERE a = " + String(repeating: "(", count: depth) + "1" + String(repeating: ")", count: depth)
        guard case .refused(let r) = outcome(sql, graySuffix, .mysql) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(r.rule == .unanalysable)
        #expect(StatementClassifier.classify(sql, dialect: .postgres) == [.read])
    }

    @Test("moderately nested parentheses are analysed")
    func moderateNesting() {
        let sql = "SELECT * FROM " + String(repeating: "(SELECT * FROM ", count: 200) + "t" + String(repeating: ") x", count: 200)
        let expected = "SELECT * FROM " + String(repeating: "(SELECT * FROM ", count: 200) + "t_gray" + String(repeating: ") x", count: 200)
        #expect(rewritten(sql, graySuffix, .postgres) == expected)
    }

    @Test("NUL bytes and invalid UTF-8 never crash and never hide a table from the lane")
    func hostileBytes() {
        var bytes = Array("SELECT * FROM t WHERE a = '".utf8) + [0x00, 0xFF, 0xC3] + Array("' AND b = 1".utf8)
        var rewriter = SQLRewriter(dialect: .mysql)
        guard case .rewritten(let out, _) = rewriter.rewrite(bytes, lane: graySuffix) else {
            Issue.record("expected a rewrite")
            return
        }
        #expect(out.count == bytes.count + 5)
        bytes = [0x00, 0x01, 0xFF, 0xFE] + Array(" DELETE FROM t".utf8)
        guard case .refused = rewriter.rewrite(bytes, lane: graySuffix) else {
            Issue.record("garbage before a statement must be refused")
            return
        }
    }
}
