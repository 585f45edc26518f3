/// What a lexed byte range is. The lexers classify every byte of the input into exactly one token.
public enum TokenKind: UInt8, Sendable, Hashable {
    /// Spaces, tabs, newlines.
    case whitespace
    /// An ordinary comment (`#`, `-- `, `/* */`, MySQL optimizer hints `/*+ */`). Never SQL.
    case comment
    /// The opening of a MySQL executable comment (`/*!`, `/*!50700`, `/*M!100100`): what follows is SQL.
    case executableCommentStart
    /// The `*/` that closes a MySQL executable comment.
    case executableCommentEnd
    /// A bare word: a keyword or an unquoted identifier.
    case word
    /// A quoted identifier: `` `x` `` (MySQL), `"x"` or `U&"x"` (PostgreSQL).
    case quotedIdentifier
    /// A string literal in any of the dialect's forms (including introducers and dollar quoting).
    case string
    /// A numeric literal.
    case number
    /// A `?` placeholder or a PostgreSQL `$1` parameter.
    case placeholder
    /// A MySQL `@user` or `@@system` variable.
    case variable
    /// An operator byte (`=`, `<`, `+`, `:` …).
    case `operator`
    case leftParen
    case rightParen
    case comma
    case semicolon
    case dot
    /// A byte that has no meaning in SQL here (NUL, control bytes).
    case other
    /// An unterminated string, quoted identifier or comment, running to the end of the input.
    case unterminated

    /// Whether the token carries SQL meaning (not whitespace, comments or executable-comment brackets).
    @inlinable
    public var isSignificant: Bool {
        switch self {
        case .whitespace, .comment, .executableCommentStart, .executableCommentEnd: return false
        default: return true
        }
    }
}

/// One lexed byte range `start..<end` of the input. Tokens tile the input exactly.
public struct Token: Sendable, Hashable {
    public var kind: TokenKind
    public var start: Int
    public var end: Int

    @inlinable
    public init(kind: TokenKind, start: Int, end: Int) {
        self.kind = kind
        self.start = start
        self.end = end
    }
}
