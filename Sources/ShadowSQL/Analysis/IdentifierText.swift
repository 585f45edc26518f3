/// Reads identifier tokens the way the server does: quotes removed, doubled quotes collapsed and, where the
/// dialect folds case, lower-cased. Nothing here allocates unless asked for an array.
/// Holds a borrowed buffer only for the duration of one call (the analyzer clears it afterwards), hence the
/// unchecked conformance.
struct IdentifierText: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
    let dialect: SQLDialect
    /// MySQL `lower_case_table_names=0`: compare names exactly.
    let caseSensitive: Bool

    /// Whether the token is a PostgreSQL `U&"…"` identifier, whose escapes we do not decode.
    func isUnicodeEscaped(_ token: SignificantToken) -> Bool {
        token.kind == .quotedIdentifier && self.bytes[token.start] != 0x22 && self.bytes[token.start] != 0x60
    }

    /// Calls `body` with each logical byte of the name (quotes removed); `normalized` applies case folding.
    @inline(__always)
    func forEachByte(_ token: SignificantToken, normalized: Bool, _ body: (UInt8) -> Void) {
        if token.kind == .quotedIdentifier {
            let quoteOffset = self.isUnicodeEscaped(token) ? 2 : 0
            let quote = self.bytes[token.start + quoteOffset]
            var i = token.start + quoteOffset + 1
            let end = token.end - 1
            while i < end {
                let b = self.bytes[i]
                body(normalized && !self.caseSensitive && self.dialect == .mysql ? ByteClass.lower(b) : b)
                i += (b == quote && i + 1 < end && self.bytes[i + 1] == quote) ? 2 : 1
            }
        } else {
            let fold = normalized && (self.dialect == .postgres || !self.caseSensitive)
            for i in token.start..<token.end {
                body(fold ? ByteClass.lower(self.bytes[i]) : self.bytes[i])
            }
        }
    }

    /// FNV-1a over the normalized bytes.
    func hash(_ token: SignificantToken) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        self.forEachByte(token, normalized: true) { h = (h ^ UInt64($0)) &* 0x100_0000_01b3 }
        return h
    }

    /// Whether the normalized name equals `key` (already normalized).
    func equals(_ token: SignificantToken, _ key: [UInt8]) -> Bool {
        var index = 0
        var same = true
        self.forEachByte(token, normalized: true) { b in
            if index >= key.count || key[index] != b { same = false }
            index += 1
        }
        return same && index == key.count
    }

    /// Whether two name tokens denote the same name (without allocating).
    func same(_ a: SignificantToken, _ b: SignificantToken) -> Bool {
        guard self.hash(a) == self.hash(b) else { return false }
        var left = Cursor(text: self, token: a)
        var right = Cursor(text: self, token: b)
        while true {
            let l = left.next()
            let r = right.next()
            if l != r { return false }
            if l == nil { return true }
        }
    }

    /// Walks the normalized bytes of one name token.
    struct Cursor {
        let text: IdentifierText
        let token: SignificantToken
        var position: Int
        let end: Int
        let quote: UInt8?
        let fold: Bool

        init(text: IdentifierText, token: SignificantToken) {
            self.text = text
            self.token = token
            if token.kind == .quotedIdentifier {
                let offset = text.isUnicodeEscaped(token) ? 2 : 0
                self.quote = text.bytes[token.start + offset]
                self.position = token.start + offset + 1
                self.end = token.end - 1
                self.fold = text.dialect == .mysql && !text.caseSensitive
            } else {
                self.quote = nil
                self.position = token.start
                self.end = token.end
                self.fold = text.dialect == .postgres || !text.caseSensitive
            }
        }

        mutating func next() -> UInt8? {
            guard self.position < self.end else { return nil }
            let b = self.text.bytes[self.position]
            if let quote = self.quote, b == quote, self.position + 1 < self.end, self.text.bytes[self.position + 1] == quote {
                self.position += 2
            } else {
                self.position += 1
            }
            return self.fold ? ByteClass.lower(b) : b
        }
    }

    /// Whether the normalized name ends with `suffix` (normalized).
    func hasSuffix(_ token: SignificantToken, _ suffix: [UInt8]) -> Bool {
        guard !suffix.isEmpty else { return false }
        // Keep a ring of the last suffix.count bytes without allocating per byte.
        var count = 0
        var matchedFromEnd = true
        var total = 0
        self.forEachByte(token, normalized: true) { _ in total += 1 }
        guard total > suffix.count else { return false }
        let offset = total - suffix.count
        self.forEachByte(token, normalized: true) { b in
            if count >= offset && suffix[count - offset] != b { matchedFromEnd = false }
            count += 1
        }
        return matchedFromEnd
    }

    /// The logical name as written (quotes removed, case kept), for building a new name.
    func logical(_ token: SignificantToken) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(token.end - token.start)
        self.forEachByte(token, normalized: false) { out.append($0) }
        return out
    }

    /// Normalizes a configured name for comparison with ``equals(_:_:)``.
    static func normalize(_ name: String, dialect: SQLDialect, caseSensitive: Bool) -> [UInt8] {
        let raw = Array(name.utf8)
        if dialect == .mysql && !caseSensitive { return raw.map(ByteClass.lower) }
        return raw
    }

    static func hash(_ normalized: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in normalized { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}
