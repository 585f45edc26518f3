import ShadowSQL
import Testing

/// Inputs found by the sql-lexer fuzz target (scripts/fuzz), kept as regression tests.
@Suite("Lane hint scanner fuzz regressions")
struct LaneHintScannerFuzzRegressionTests {
    // The limit only has to tell a loop from an answer: the check takes microseconds, but in the full parallel run
    // the test can wait a minute and more for a thread while integration tests block theirs in client libraries.
    @Test("A comment with an '=' that has no key before it ends the scan instead of looping forever",
          .timeLimit(.minutes(10)))
    func equalsWithoutKeyTerminates() {
        let scanner = LaneHintScanner(key: "lane")
        for dialect in SQLDialect.allCases {
            // Found by sql-lexer as a 751-byte psql catalog query whose trailing comment held `a = b =.c`.
            #expect(scanner.lane(in: "SELECT 1 /* a = b = c */", dialect: dialect) == nil)
            #expect(scanner.lane(in: "/* =gray */ SELECT 1", dialect: dialect) == nil)
            #expect(scanner.lane(in: "SELECT 1 /* x = y =.attrelid = '16390' */", dialect: dialect) == nil)
            // A real hint after the stray '=' is still found.
            #expect(scanner.lane(in: "/* = , lane=gray */ SELECT 1", dialect: dialect) == "gray")
        }
    }
}
