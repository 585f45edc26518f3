/// Classifies each `;`-separated statement of a buffer (read, write, DDL, transaction control, session, other).
public struct StatementClassifier: Sendable {
    public let dialect: SQLDialect
    var tokens: [SignificantToken] = []
    var analyzer = StatementAnalyzer()

    public init(dialect: SQLDialect) {
        self.dialect = dialect
    }

    /// The kind of every statement in `sql`, in order; empty statements are skipped.
    public mutating func classify(_ sql: UnsafeRawBufferPointer) -> [StatementKind] {
        SignificantTokens.collect(sql, dialect: self.dialect, into: &self.tokens)
        let text = IdentifierText(bytes: sql, dialect: self.dialect, caseSensitive: false)
        var kinds: [StatementKind] = []
        var start = 0
        for index in 0...self.tokens.count where index == self.tokens.count || self.tokens[index].kind == .semicolon {
            if index > start {
                self.analyzer.analyze(self.tokens, range: start..<index, text: text)
                kinds.append(self.analyzer.result.kind)
            }
            start = index + 1
        }
        return kinds
    }

    /// One-shot convenience.
    public static func classify(_ sql: UnsafeRawBufferPointer, dialect: SQLDialect) -> [StatementKind] {
        var classifier = StatementClassifier(dialect: dialect)
        return classifier.classify(sql)
    }

    /// One-shot convenience over a string (tests, CLI).
    public static func classify(_ sql: String, dialect: SQLDialect) -> [StatementKind] {
        Array(sql.utf8).withUnsafeBytes { classify($0, dialect: dialect) }
    }
}
