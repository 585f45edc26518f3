import ShadowSQL

/// The significant words of a statement, lower-cased, with what follows each: the small view the dual-write
/// scanners need (transaction control keywords, function calls). Built on the dialect's lexer, so words inside
/// strings, quoted identifiers and comments never count.
struct StatementWords {
    struct Word: Hashable {
        /// Lower-cased text of a bare word; for a quoted identifier, its raw text including quotes.
        var text: String
        var isBareWord: Bool
        /// The next significant token is `(`.
        var isCall: Bool
        /// The previous significant token is `.` (a qualified name such as `pg_catalog.now()` keeps `now` a call).
        var isQualified: Bool
    }

    var words: [Word] = []

    init(_ sql: String, dialect: SQLDialect) {
        let bytes = Array(sql.utf8)
        let tokens = SQLTokenizer.tokenize(sql, dialect: dialect).filter { $0.kind.isSignificant }
        for (index, token) in tokens.enumerated() where token.kind == .word || token.kind == .quotedIdentifier {
            let text = String(decoding: bytes[token.start..<token.end], as: UTF8.self)
            let next = index + 1 < tokens.count ? tokens[index + 1].kind : nil
            let previous = index > 0 ? tokens[index - 1].kind : nil
            words.append(
                Word(
                    text: token.kind == .word ? text.lowercased() : text, isBareWord: token.kind == .word,
                    isCall: next == .leftParen, isQualified: previous == .dot))
        }
    }

    /// The leading bare words, lower-cased (up to `count`).
    func leading(_ count: Int) -> [String] {
        Array(words.prefix(count).map(\.text))
    }
}
