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
        var sql = sql
        var found: [Word] = []
        // The string's own UTF-8 storage, lexed in place (no copy of the text).
        sql.withUTF8 { utf8 in
            var all: [Token] = []
            all.reserveCapacity(utf8.count / 4)
            SQLTokenizer.tokenize(UnsafeRawBufferPointer(utf8), dialect: dialect, into: &all)
            var previous: TokenKind?
            var index = 0
            while index < all.count {
                let token = all[index]
                index += 1
                guard token.kind.isSignificant else { continue }
                defer { previous = token.kind }
                guard token.kind == .word || token.kind == .quotedIdentifier else { continue }
                var next = index
                while next < all.count && !all[next].kind.isSignificant { next += 1 }
                let slice = UnsafeBufferPointer(rebasing: utf8[token.start..<token.end])
                found.append(
                    Word(
                        text: token.kind == .word ? Self.lowercased(slice) : String(decoding: slice, as: UTF8.self),
                        isBareWord: token.kind == .word, isCall: next < all.count && all[next].kind == .leftParen,
                        isQualified: previous == .dot))
            }
        }
        words = found
    }

    /// ASCII words (all SQL keywords and most names) are lower-cased byte by byte straight into the string, which
    /// for words of up to 15 bytes is stored inline, without a heap allocation; `String.lowercased()` would take the
    /// Unicode path and allocate twice.
    static func lowercased(_ bytes: some Collection<UInt8>) -> String {
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
