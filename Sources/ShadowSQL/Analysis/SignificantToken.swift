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
    /// What the lexer met besides the significant tokens.
    struct Findings: OptionSet {
        let rawValue: UInt8
        /// An unterminated string, comment or quoted identifier.
        static let unterminated = Findings(rawValue: 1)
        /// A MySQL executable comment (`/*! … */`, `/*M! … */`, with or without a version).
        static let executableComment = Findings(rawValue: 2)
    }

    /// Fills `output` with the significant tokens of `bytes`; with `keywords: false` every token's keyword is
    /// `.none` until ``resolveKeywords(_:in:)`` (a statement whose shape was seen before needs none).
    @discardableResult
    static func collect(
        _ bytes: UnsafeRawBufferPointer,
        dialect: SQLDialect,
        into output: inout [SignificantToken],
        keywords: Bool = true
    ) -> Findings {
        output.removeAll(keepingCapacity: true)
        var findings: Findings = []
        var tokenizer = SQLTokenizer(bytes, dialect: dialect)
        while let token = tokenizer.next() {
            if token.kind == .executableCommentStart { findings.insert(.executableComment) }
            guard token.kind.isSignificant else { continue }
            if token.kind == .unterminated { findings.insert(.unterminated) }
            let keyword = keywords && token.kind == .word ? Keyword.lookup(bytes, token.start, token.end) : .none
            output.append(SignificantToken(kind: token.kind, keyword: keyword, start: token.start, end: token.end))
        }
        return findings
    }

    /// Looks up the keyword of every word in `tokens`, collected from `bytes` with `keywords: false`.
    static func resolveKeywords(_ tokens: inout [SignificantToken], in bytes: UnsafeRawBufferPointer) {
        for index in tokens.indices where tokens[index].kind == .word {
            tokens[index].keyword = Keyword.lookup(bytes, tokens[index].start, tokens[index].end)
        }
    }
}
