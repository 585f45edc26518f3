/// MySQL/MariaDB token rules: backtick identifiers, `'…'`/`"…"` strings with backslash escapes, `#` and `-- `
/// comments, executable comments `/*! … */` and `/*M! … */` whose content is SQL, optimizer hints `/*+ … */`,
/// introducers (`N'…'`, `X'…'`, `b'…'`, `_utf8mb4'…'`), `0x…`/`0b…` literals, and `@`/`@@` variables.
extension SQLTokenizer {
    mutating func scanMySQL() -> TokenKind {
        let b = self.current
        switch b {
        case _ where ByteClass.isWhitespace(b):
            return self.scanWhitespace()
        case 0x23:  // '#'
            return self.scanLineComment()
        case 0x2D where self.byte(at: self.position + 1) == 0x2D:
            // "--" starts a comment only when followed by whitespace, a control byte (DEL, 0x7F, is one) or the end.
            if let third = self.byte(at: self.position + 2), third > 0x20, third != 0x7F {
                self.position += 1
                return .operator
            }
            return self.scanLineComment()
        case 0x2F where self.byte(at: self.position + 1) == 0x2A:
            return self.scanMySQLBlockComment()
        case 0x2A where self.inExecutableComment && self.byte(at: self.position + 1) == 0x2F:
            self.position += 2
            self.inExecutableComment = false
            return .executableCommentEnd
        case 0x60:  // '`'
            return self.scanQuoted(quote: 0x60, backslash: false, success: .quotedIdentifier)
        case 0x27, 0x22:
            return self.scanQuoted(quote: b, backslash: true, success: .string)
        case 0x40:  // '@'
            return self.scanMySQLVariable()
        case 0x2E where self.dotStartsNumber():
            return self.scanNumber()
        case _ where ByteClass.isDigit(b):
            return self.scanMySQLNumberOrWord()
        case _ where ByteClass.isIdentifierStart(b) || b == 0x24:
            return self.scanMySQLWordOrIntroducer()
        default:
            if let kind = self.scanPunctuation(b) { return kind }
            self.position += 1
            return .other
        }
    }

    private mutating func scanMySQLBlockComment() -> TokenKind {
        let third = self.byte(at: self.position + 2)
        let isExecutable =
            third == 0x21 || (third.map { $0 | 0x20 == 0x6D } == true && self.byte(at: self.position + 3) == 0x21)
        if isExecutable && !self.inExecutableComment {
            self.position += third == 0x21 ? 3 : 4
            // An optional version number: /*!50700 or /*M!100100.
            while let d = self.byte(at: self.position), ByteClass.isDigit(d) { self.position += 1 }
            self.inExecutableComment = true
            return .executableCommentStart
        }
        self.position += 2
        while self.position < self.bytes.count {
            if self.bytes[self.position] == 0x2A && self.byte(at: self.position + 1) == 0x2F {
                self.position += 2
                return .comment
            }
            self.position += 1
        }
        return .unterminated
    }

    private mutating func scanMySQLVariable() -> TokenKind {
        self.position += 1
        if self.byte(at: self.position) == 0x40 { self.position += 1 }
        if let q = self.byte(at: self.position), q == 0x60 || q == 0x27 || q == 0x22 {
            let kind = self.scanQuoted(quote: q, backslash: q != 0x60, success: .variable)
            return kind
        }
        while let b = self.byte(at: self.position), ByteClass.isIdentifierPart(b) || b == 0x2E {
            self.position += 1
        }
        return .variable
    }

    /// Digits may start an identifier in MySQL (`1abc`), a hex/bit literal (`0x1F`, `0b01`) or a number (`1e10`).
    private mutating func scanMySQLNumberOrWord() -> TokenKind {
        let start = self.position
        if self.current == 0x30, let x = self.byte(at: start + 1), x | 0x20 == 0x78 || x | 0x20 == 0x62 {
            var p = start + 2
            let hex = x | 0x20 == 0x78
            while let d = self.byte(at: p), hex ? ByteClass.isHexDigit(d) : (d == 0x30 || d == 0x31) { p += 1 }
            if p > start + 2, self.byte(at: p).map(ByteClass.isIdentifierPart) != true {
                self.position = p
                return .number
            }
            self.position = start
            return self.scanWord()
        }
        _ = self.scanNumber()
        if let b = self.byte(at: self.position), ByteClass.isIdentifierPart(b) {
            // "123abc" is an identifier, unless the digits had a fraction or exponent.
            var p = start
            while let d = self.byte(at: p), ByteClass.isDigit(d) { p += 1 }
            if p == self.position {
                return self.scanWord()
            }
        }
        return .number
    }

    private mutating func scanMySQLWordOrIntroducer() -> TokenKind {
        let start = self.position
        _ = self.scanWord()
        guard self.byte(at: self.position) == 0x27 else { return .word }
        let length = self.position - start
        let first = self.bytes[start] | 0x20
        // N'…', X'…', B'…' and _charset'…' are single literals.
        if (length == 1 && (first == 0x6E || first == 0x78 || first == 0x62)) || self.bytes[start] == 0x5F {
            return self.scanQuoted(quote: 0x27, backslash: true, success: .string)
        }
        return .word
    }
}
