import ShadowSQL
import Testing

@testable import ShadowProxy


@Suite struct CaptureScanningTests {
    @Test("the statement kind read from a row write's leading word is the classifier's, for both dialects")
    func leadingWordKindMatchesClassifier() {
        let statements = [
            "INSERT INTO t VALUES (1)", "  update t SET a = 1 WHERE id = 2", "/* c */ DELETE FROM t", "REPLACE INTO t VALUES (1)",
            "insert into t select * from u", "SELECT 1", "SELECT * FROM t FOR UPDATE", "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x",
            "CREATE TABLE t (a int)", "BEGIN", "SET @a = 1", "CALL p()",
        ]
        for dialect in [SQLDialect.mysql, .postgres] {
            for sql in statements {
                let words = StatementWords(sql, dialect: dialect)
                #expect(ConnectionCapture.kind(of: sql, words: words, dialect: dialect) == ConnectionCapture.kind(of: sql, dialect: dialect), "\(sql)")
            }
        }
    }

    @Test("words are lower-cased without changing non-ASCII text or quoted identifiers")
    func lowercasing() {
        let words = StatementWords("INSERT INTO Tbl (Ärger, \"MiXed\") VALUES (NOW())", dialect: .postgres).words
        #expect(words.map(\.text) == ["insert", "into", "tbl", "ärger", "\"MiXed\"", "values", "now"])
        #expect(words.first { $0.text == "now" }?.isCall == true)
    }
}
