import ShadowSQL
import Testing

/// (dialect, statement, expected lane)
let hintCases: [(SQLDialect, String, String?)] = [
    (.mysql, "/* lane=gray */ SELECT 1", "gray"),
    (.mysql, "/*lane=gray*/SELECT 1", "gray"),
    (.mysql, "/*  LANE = stress  */ SELECT 1", "stress"),
    (.mysql, "/* user=x, lane=gray */ SELECT 1", "gray"),
    (.mysql, "/* user=x lane=canary-v2 */ SELECT 1", "canary-v2"),
    (.mysql, "SELECT 1 /*lane='gray',traceparent='00-abc-def-01'*/", "gray"),
    (.mysql, "SELECT 1 /*traceparent='00-abc',lane='gr%61y'*/;", "gray"),
    (.postgres, "SELECT 1 /*baggage='lane%3Dgray%2Cuser%3Dx'*/", "gray"),
    (.postgres, "SELECT 1 /*baggage='user=x,lane=stress;p=1'*/", "stress"),
    (.postgres, "SELECT 1 /*baggage='lane=gray'*/  \n", "gray"),
    (.postgres, "SELECT 1 /*lane='gray',baggage='lane%3Dstress'*/", "gray"),
    (.postgres, "/* a /* nested */ lane=gray */ SELECT 1", "gray"),
    (.mysql, "/* other=1 */ /* lane=gray */ SELECT 1", "gray"),
    (.mysql, "SELECT '/* lane=gray */'", nil),
    (.mysql, "SELECT 1 /* lane=gray */ FROM t", nil),
    (.mysql, "SELECT 1", nil),
    (.mysql, "/*!50700 lane=gray */ SELECT 1", nil),
    (.mysql, "/*+ lane=gray */ SELECT 1", nil),
    (.mysql, "/* lanes=gray */ SELECT 1", nil),
    (.mysql, "/* lane= */ SELECT 1", nil),
    (.mysql, "/* lane=gray SELECT 1", nil),
    (.mysql, "-- lane=gray\nSELECT 1", nil),
    (.mysql, "/* = lane=gray */ SELECT 1", "gray"),
    (.postgres, "SELECT 1 /* a = , == lane = stress */", "stress"),
    (.mysql, "SELECT b.y = 'a''b' /* lane.id = \u{0} ne=gray */\n", nil),
    // A `/*` inside a string inside an executable comment that ends the statement is not a comment.
    (.mysql, "/*!50000 SELECT '/* lane=gray ' */", nil),
    (.mysql, "SELECT 1 /*!50000 , '/* lane=gray ' */;", nil),
    (.postgres, "SELECT '/* lane=gray ', 1 /* other=1 */", nil),
    // The comment the lexer sees is read whole: PostgreSQL nests, MySQL does not.
    (.postgres, "SELECT 1 /* lane=gray /* nested */ */", "gray"),
    (.mysql, "SELECT 1 /* other=1 */ /* lane=gray */;", "gray"),
    (.mysql, "SELECT 1 /* lane=gray */ /*+ BKA(t) */", "gray"),
]

@Suite struct LaneHintScannerTests {
    @Test("lane hints are read from leading and trailing comments only", arguments: hintCases)
    func hints(_ dialect: SQLDialect, _ sql: String, _ expected: String?) {
        #expect(LaneHintScanner(key: "lane").lane(in: sql, dialect: dialect) == expected)
    }

    @Test("the hint key is configurable and case-insensitive")
    func configurableKey() {
        let scanner = LaneHintScanner(key: "X-Env")
        #expect(scanner.lane(in: "/* x-env=gray */ SELECT 1", dialect: .mysql) == "gray")
        #expect(scanner.lane(in: "/* lane=gray */ SELECT 1", dialect: .mysql) == nil)
    }

    @Test("only a bounded prefix and suffix are scanned")
    func boundedScan() {
        let padding = String(repeating: " ", count: 5000)
        #expect(LaneHintScanner(key: "lane").lane(in: padding + "/* lane=gray */ SELECT 1", dialect: .mysql) == nil)
        let long = "SELECT '" + String(repeating: "x", count: 10_000) + "' /* lane=gray */"
        #expect(LaneHintScanner(key: "lane").lane(in: long, dialect: .mysql) == "gray")
    }
}
