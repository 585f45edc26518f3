/// A token that carries SQL meaning (whitespace and comments removed), with its keyword resolved once.
struct SignificantToken: Sendable {
    var kind: TokenKind
    var keyword: Keyword
    var start: Int
    var end: Int

    /// Whether this token can name something (a bare word or a quoted identifier).
    var isName: Bool { self.kind == .word || self.kind == .quotedIdentifier }
}

/// Lexes a buffer into significant tokens, reusing the caller's array.
enum SignificantTokens {
    /// Fills `output` with the significant tokens of `bytes`. Returns whether the input had an unterminated
    /// string, comment or quoted identifier.
    @discardableResult
    static func collect(
        _ bytes: UnsafeRawBufferPointer,
        dialect: SQLDialect,
        into output: inout [SignificantToken]
    ) -> Bool {
        output.removeAll(keepingCapacity: true)
        var sawUnterminated = false
        var tokenizer = SQLTokenizer(bytes, dialect: dialect)
        while let token = tokenizer.next() {
            guard token.kind.isSignificant else { continue }
            if token.kind == .unterminated { sawUnterminated = true }
            let keyword = token.kind == .word ? Keyword.lookup(bytes, token.start, token.end) : .none
            output.append(SignificantToken(kind: token.kind, keyword: keyword, start: token.start, end: token.end))
        }
        return sawUnterminated
    }
}
