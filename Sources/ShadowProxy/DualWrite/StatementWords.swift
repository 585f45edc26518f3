import ShadowSQL

/// The significant words of a statement, lower-cased, with what follows each: the small view the dual-write
/// scanners need (transaction control keywords, function calls). Built on the dialect's lexer, so words inside
/// strings, quoted identifiers and comments never count. Built once per captured statement and shared by the
/// scanners (this runs for every statement of a mirrored lane, on the event loop).
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
            let slice = bytes[token.start..<token.end]
            let next = index + 1 < tokens.count ? tokens[index + 1].kind : nil
            let previous = index > 0 ? tokens[index - 1].kind : nil
            words.append(
                Word(
                    text: token.kind == .word ? Self.lowercased(slice) : String(decoding: slice, as: UTF8.self),
                    isBareWord: token.kind == .word, isCall: next == .leftParen, isQualified: previous == .dot))
        }
    }

    /// ASCII words (all SQL keywords and most names) are lower-cased byte by byte straight into the string, which
    /// for words of up to 15 bytes is stored inline, without a heap allocation; `String.lowercased()` would take the
    /// Unicode path and allocate twice.
    static func lowercased(_ bytes: ArraySlice<UInt8>) -> String {
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return String(decoding: bytes, as: UTF8.self).lowercased() }
        return String(unsafeUninitializedCapacity: bytes.count) { buffer in
            for (offset, byte) in bytes.enumerated() { buffer[offset] = (0x41...0x5A).contains(byte) ? byte | 0x20 : byte }
            return bytes.count
        }
    }

    /// The leading bare words, lower-cased (up to `count`).
    func leading(_ count: Int) -> [String] {
        Array(words.prefix(count).map(\.text))
    }
}
