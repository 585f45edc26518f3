/// A single-pass, allocation-free scanner that yields the tokens of a buffer one at a time, in order,
/// tiling the input exactly. The dialect decides quoting, comments and literal forms; see
/// `SQLTokenizer+MySQL.swift` and `SQLTokenizer+Postgres.swift`.
///
/// The buffer must outlive the tokenizer. Nothing here traps on any input: NUL bytes, invalid UTF-8 and
/// unterminated constructs produce `.other` or `.unterminated` tokens.
public struct SQLTokenizer {
    public let dialect: SQLDialect
    @usableFromInline let bytes: UnsafeRawBufferPointer
    @usableFromInline var position: Int = 0
    /// Inside a MySQL `/*! … */` executable comment: its content is lexed as SQL until `*/`.
    @usableFromInline var inExecutableComment = false
    /// The kind of the previous token, to tell `t.5` (dot) from `.5` (number).
    @usableFromInline var previousKind: TokenKind = .whitespace

    public init(_ bytes: UnsafeRawBufferPointer, dialect: SQLDialect) {
        self.bytes = bytes
        self.dialect = dialect
    }

    /// The next token, or `nil` at the end of the input.
    public mutating func next() -> Token? {
        let start = self.position
        guard start < self.bytes.count else {
            if self.inExecutableComment {
                // An executable comment that never closes: report it once, as an empty error token.
                self.inExecutableComment = false
                return Token(kind: .unterminated, start: start, end: start)
            }
            return nil
        }
        let kind: TokenKind
        switch self.dialect {
        case .mysql: kind = self.scanMySQL()
        case .postgres: kind = self.scanPostgres()
        }
        self.previousKind = kind
        return Token(kind: kind, start: start, end: self.position)
    }

    /// Appends every token of `bytes` to `tokens` (which keeps its capacity between calls).
    public static func tokenize(_ bytes: UnsafeRawBufferPointer, dialect: SQLDialect, into tokens: inout [Token]) {
        var tokenizer = SQLTokenizer(bytes, dialect: dialect)
        while let token = tokenizer.next() {
            tokens.append(token)
        }
    }

    /// Convenience for tests and tools.
    public static func tokenize(_ sql: String, dialect: SQLDialect) -> [Token] {
        var tokens: [Token] = []
        var copy = Array(sql.utf8)
        copy.withUnsafeMutableBytes { tokenize(UnsafeRawBufferPointer($0), dialect: dialect, into: &tokens) }
        return tokens
    }

    // MARK: Shared scanning helpers

    @inlinable
    func byte(at offset: Int) -> UInt8? {
        offset < self.bytes.count ? self.bytes[offset] : nil
    }

    @inlinable
    var current: UInt8 { self.bytes[self.position] }

    mutating func scanWhitespace() -> TokenKind {
        while let b = self.byte(at: self.position), ByteClass.isWhitespace(b) { self.position += 1 }
        return .whitespace
    }

    mutating func scanLineComment() -> TokenKind {
        while let b = self.byte(at: self.position), b != 0x0A { self.position += 1 }
        return .comment
    }

    mutating func scanWord() -> TokenKind {
        while let b = self.byte(at: self.position), ByteClass.isIdentifierPart(b) { self.position += 1 }
        return .word
    }

    /// Scans a quoted run starting at the opening quote. `backslash` enables `\x` escapes; a doubled quote is
    /// always an escape. Returns `success` or `.unterminated`.
    mutating func scanQuoted(quote: UInt8, backslash: Bool, success: TokenKind) -> TokenKind {
        self.position += 1
        while let b = self.byte(at: self.position) {
            if backslash && b == 0x5C {
                self.position += 2
                continue
            }
            self.position += 1
            if b == quote {
                if self.byte(at: self.position) == quote {
                    self.position += 1
                    continue
                }
                return success
            }
        }
        self.position = self.bytes.count
        return .unterminated
    }

    /// Digits, an optional fraction and an optional exponent, starting at a digit or a `.`.
    mutating func scanNumber() -> TokenKind {
        while let b = self.byte(at: self.position), ByteClass.isDigit(b) || b == 0x5F && self.dialect == .postgres {
            self.position += 1
        }
        if self.byte(at: self.position) == 0x2E {
            self.position += 1
            while let b = self.byte(at: self.position), ByteClass.isDigit(b) { self.position += 1 }
        }
        if let e = self.byte(at: self.position), e | 0x20 == 0x65 {
            var p = self.position + 1
            if let s = self.byte(at: p), s == 0x2B || s == 0x2D { p += 1 }
            if let d = self.byte(at: p), ByteClass.isDigit(d) {
                self.position = p
                while let b = self.byte(at: self.position), ByteClass.isDigit(b) { self.position += 1 }
            }
        }
        return .number
    }

    /// Whether a `.` at the current position starts a number (`.5`) rather than a qualifier dot (`t.5`).
    func dotStartsNumber() -> Bool {
        guard let next = self.byte(at: self.position + 1), ByteClass.isDigit(next) else { return false }
        switch self.previousKind {
        case .word, .quotedIdentifier, .rightParen, .variable: return false
        default: return true
        }
    }

    /// Punctuation common to both dialects; `nil` when the byte is not one of them.
    mutating func scanPunctuation(_ b: UInt8) -> TokenKind? {
        let kind: TokenKind
        switch b {
        case 0x28: kind = .leftParen
        case 0x29: kind = .rightParen
        case 0x2C: kind = .comma
        case 0x3B: kind = .semicolon
        case 0x2E: kind = .dot
        case 0x3F: kind = .placeholder
        case 0x21, 0x25, 0x26, 0x2A, 0x2B, 0x2D, 0x2F, 0x3A, 0x3C, 0x3D, 0x3E, 0x5E, 0x7C, 0x7E, 0x40, 0x23, 0x5C,
            0x5B, 0x5D, 0x7B, 0x7D:
            kind = .operator
        default: return nil
        }
        self.position += 1
        return kind
    }
}
