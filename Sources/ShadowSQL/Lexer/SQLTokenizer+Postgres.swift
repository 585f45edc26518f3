/// PostgreSQL token rules: `"…"` identifiers, `U&"…"`/`U&'…'`, standard strings, `E'…'` with backslash
/// escapes, `B'…'`/`X'…'`/`N'…'`, dollar quoting `$tag$…$tag$`, nested `/* */` comments, `--` comments and
/// `$1` parameters.
extension SQLTokenizer {
    mutating func scanPostgres() -> TokenKind {
        let b = self.current
        switch b {
        case _ where ByteClass.isWhitespace(b):
            return self.scanWhitespace()
        case 0x2D where self.byte(at: self.position + 1) == 0x2D:
            return self.scanLineComment()
        case 0x2F where self.byte(at: self.position + 1) == 0x2A:
            return self.scanNestedComment()
        case 0x22:
            return self.scanQuoted(quote: 0x22, backslash: false, success: .quotedIdentifier)
        case 0x27:
            return self.scanQuoted(quote: 0x27, backslash: false, success: .string)
        case 0x24:  // '$'
            return self.scanDollar()
        case 0x2E where self.dotStartsNumber():
            return self.scanNumber()
        case _ where ByteClass.isDigit(b):
            return self.scanPostgresNumber()
        case _ where ByteClass.isIdentifierStart(b):
            return self.scanPostgresWordOrPrefixedLiteral()
        default:
            if let kind = self.scanPunctuation(b) { return kind }
            self.position += 1
            return .other
        }
    }

    private mutating func scanNestedComment() -> TokenKind {
        var depth = 0
        while self.position < self.bytes.count {
            let c = self.bytes[self.position]
            let n = self.byte(at: self.position + 1)
            if c == 0x2F && n == 0x2A {
                depth += 1
                self.position += 2
            } else if c == 0x2A && n == 0x2F {
                depth -= 1
                self.position += 2
                if depth == 0 { return .comment }
            } else {
                self.position += 1
            }
        }
        return .unterminated
    }

    /// `$1` parameters, `$tag$ … $tag$` / `$$ … $$` strings, or a lone `$` operator byte.
    private mutating func scanDollar() -> TokenKind {
        let start = self.position
        var p = start + 1
        if let d = self.byte(at: p), ByteClass.isDigit(d) {
            while let d = self.byte(at: p), ByteClass.isDigit(d) { p += 1 }
            self.position = p
            return .placeholder
        }
        if let t = self.byte(at: p), ByteClass.isIdentifierStart(t) {
            while let t = self.byte(at: p), ByteClass.isIdentifierStart(t) || ByteClass.isDigit(t) { p += 1 }
        }
        guard self.byte(at: p) == 0x24 else {
            self.position = start + 1
            return .operator
        }
        let tagLength = p + 1 - start
        p += 1
        while p + tagLength <= self.bytes.count {
            if self.bytes[p] == 0x24 {
                var matches = true
                for i in 0..<tagLength where self.bytes[p + i] != self.bytes[start + i] {
                    matches = false
                    break
                }
                if matches {
                    self.position = p + tagLength
                    return .string
                }
            }
            p += 1
        }
        self.position = self.bytes.count
        return .unterminated
    }

    private mutating func scanPostgresNumber() -> TokenKind {
        let start = self.position
        if self.current == 0x30, let x = self.byte(at: start + 1), x | 0x20 == 0x78 || x | 0x20 == 0x6F || x | 0x20 == 0x62 {
            var p = start + 2
            while let d = self.byte(at: p), ByteClass.isHexDigit(d) || d == 0x5F { p += 1 }
            if p > start + 2 {
                self.position = p
                return .number
            }
        }
        return self.scanNumber()
    }

    private mutating func scanPostgresWordOrPrefixedLiteral() -> TokenKind {
        let start = self.position
        let first = self.current | 0x20
        // U&"…" and U&'…'
        if first == 0x75, self.byte(at: start + 1) == 0x26, let q = self.byte(at: start + 2), q == 0x22 || q == 0x27 {
            self.position = start + 2
            return self.scanQuoted(quote: q, backslash: false, success: q == 0x22 ? .quotedIdentifier : .string)
        }
        _ = self.scanWord()
        guard self.position == start + 1, self.byte(at: self.position) == 0x27 else { return .word }
        switch first {
        case 0x65:  // E'…'
            return self.scanQuoted(quote: 0x27, backslash: true, success: .string)
        case 0x62, 0x78, 0x6E:  // B'…', X'…', N'…'
            return self.scanQuoted(quote: 0x27, backslash: false, success: .string)
        default:
            return .word
        }
    }
}
