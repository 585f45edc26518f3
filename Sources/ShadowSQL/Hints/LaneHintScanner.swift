/// Finds a lane label in a statement's comments: `/* lane=gray */`, sqlcommenter `/*lane='gray',traceparent='…'*/`
/// and W3C baggage carried in sqlcommenter (`baggage='lane%3Dgray'`). Scans a bounded prefix and suffix and
/// allocates nothing when there is no hint.
///
/// Only comments that lead or trail the buffer count: a `/* lane=… */` inside a string literal or in the
/// middle of a statement is data, not a label. MySQL executable comments (`/*! … */`) and optimizer hints
/// (`/*+ … */`) are SQL, not labels.
public struct LaneHintScanner: Sendable {
    /// The label key (`lane`), matched case-insensitively.
    public let key: String
    let keyBytes: [UInt8]
    /// How far from either end of the buffer comments are looked for.
    static let window = 2048
    /// Longer values are not lane names.
    static let maximumValueLength = 128

    public init(key: String) {
        self.key = key
        self.keyBytes = key.utf8.map(ByteClass.lower)
    }

    /// Returns the lane named by a hint in `sql`, or `nil`.
    public func lane(in sql: UnsafeRawBufferPointer, dialect: SQLDialect) -> String? {
        let count = sql.count
        guard count >= 4, !self.keyBytes.isEmpty else { return nil }
        let headEnd = min(Self.window, count)
        let tailStart = max(0, count - Self.window)
        guard Self.containsOpener(sql, 0, headEnd) || Self.containsOpener(sql, tailStart, count) else { return nil }
        if let lane = self.leadingHint(sql, dialect: dialect, limit: headEnd) { return lane }
        return self.trailingHint(sql, dialect: dialect, floor: tailStart)
    }

    /// Convenience over strings (tests, CLI).
    public func lane(in sql: String, dialect: SQLDialect) -> String? {
        Array(sql.utf8).withUnsafeBytes { self.lane(in: $0, dialect: dialect) }
    }

    static func containsOpener(_ sql: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
        var i = start
        while i + 1 < end {
            if sql[i] == 0x2F && sql[i + 1] == 0x2A { return true }
            i += 1
        }
        return false
    }

    /// Whether the comment starting at `open` is SQL rather than a comment (`/*!`, `/*M!`, `/*+`).
    static func isSQLComment(_ sql: UnsafeRawBufferPointer, _ open: Int, _ dialect: SQLDialect) -> Bool {
        guard dialect == .mysql, open + 2 < sql.count else { return false }
        let c = sql[open + 2]
        if c == 0x21 || c == 0x2B { return true }
        return (c | 0x20) == 0x6D && open + 3 < sql.count && sql[open + 3] == 0x21
    }

    func leadingHint(_ sql: UnsafeRawBufferPointer, dialect: SQLDialect, limit: Int) -> String? {
        var p = 0
        while p < limit {
            let b = sql[p]
            if ByteClass.isWhitespace(b) {
                p += 1
                continue
            }
            guard b == 0x2F, p + 1 < sql.count, sql[p + 1] == 0x2A else { return nil }
            // Find the closing */ (PostgreSQL comments nest).
            var depth = 0
            var q = p
            var close = -1
            while q + 1 < sql.count && q < limit + Self.window {
                if sql[q] == 0x2F && sql[q + 1] == 0x2A && (dialect == .postgres || depth == 0) {
                    depth += 1
                    q += 2
                } else if sql[q] == 0x2A && sql[q + 1] == 0x2F {
                    depth -= 1
                    q += 2
                    if depth == 0 {
                        close = q - 2
                        break
                    }
                } else {
                    q += 1
                }
            }
            guard close >= 0 else { return nil }
            if !Self.isSQLComment(sql, p, dialect), let lane = self.hint(in: sql, p + 2, close) { return lane }
            p = close + 2
        }
        return nil
    }

    /// The hint in the comments that end the statement. Looking back from the end for `/*` is cheap but cannot
    /// tell a comment from a `/*` inside a string or inside a MySQL executable comment (`/*!50000 SELECT '/* lane=x '
    /// */` ends with `*/` and holds no comment at all), so a hint found that way is only a candidate: the statement is
    /// then lexed, and the answer comes from the comments the lexer sees at its end. Statements that do not end with
    /// `*/` or whose end never mentions the key or `baggage` (sqlcommenter with only a `traceparent`) are not lexed.
    func trailingHint(_ sql: UnsafeRawBufferPointer, dialect: SQLDialect, floor: Int) -> String? {
        var end = sql.count
        while end > floor, ByteClass.isWhitespace(sql[end - 1]) || sql[end - 1] == 0x3B { end -= 1 }
        guard end - 2 >= floor, sql[end - 2] == 0x2A, sql[end - 1] == 0x2F,
            Self.mentions(self.keyBytes, in: sql, floor, end) || Self.mentions(Self.baggageKey, in: sql, floor, end)
        else { return nil }
        var tokenizer = SQLTokenizer(sql, dialect: dialect)
        var trailing: [Range<Int>] = []
        while let token = tokenizer.next() {
            switch token.kind {
            case .comment:
                trailing.append(token.start..<token.end)
            case .whitespace, .semicolon:
                break
            default:
                trailing.removeAll(keepingCapacity: true)
            }
        }
        for comment in trailing.reversed() {
            guard comment.lowerBound >= floor else { return nil }
            // A line comment (`-- …`, `# …`) is not a hint; an unterminated block comment is not a comment.
            guard comment.count >= 4, sql[comment.lowerBound] == 0x2F, sql[comment.lowerBound + 1] == 0x2A,
                sql[comment.upperBound - 2] == 0x2A, sql[comment.upperBound - 1] == 0x2F
            else { continue }
            if !Self.isSQLComment(sql, comment.lowerBound, dialect),
                let lane = self.hint(in: sql, comment.lowerBound + 2, comment.upperBound - 2)
            {
                return lane
            }
        }
        return nil
    }

    /// Whether `sql[start..<end]` contains `word` (lowercase), in any case.
    static func mentions(_ word: [UInt8], in sql: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
        guard let first = word.first, end - start >= word.count else { return false }
        var i = start
        while i + word.count <= end {
            if ByteClass.lower(sql[i]) == first {
                var j = 1
                while j < word.count, ByteClass.lower(sql[i + j]) == word[j] { j += 1 }
                if j == word.count { return true }
            }
            i += 1
        }
        return false
    }

    /// Reads `key=value` pairs (separated by commas or spaces) in `sql[start..<end]`.
    func hint(in sql: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> String? {
        var baggage: Range<Int>?
        var p = start
        while p < end {
            while p < end && (ByteClass.isWhitespace(sql[p]) || sql[p] == 0x2C) { p += 1 }
            let keyStart = p
            while p < end && sql[p] != 0x3D && sql[p] != 0x2C && !ByteClass.isWhitespace(sql[p]) { p += 1 }
            let keyEnd = p
            while p < end && ByteClass.isWhitespace(sql[p]) { p += 1 }
            guard p < end, sql[p] == 0x3D, keyEnd > keyStart else {
                p = max(p, keyStart + 1)  // always make progress, e.g. on a lone "="
                continue
            }
            p += 1
            while p < end && ByteClass.isWhitespace(sql[p]) { p += 1 }
            var valueStart = p
            var valueEnd: Int
            if p < end && (sql[p] == 0x27 || sql[p] == 0x22) {
                let quote = sql[p]
                valueStart = p + 1
                p += 1
                while p < end && sql[p] != quote { p += 1 }
                valueEnd = p
                if p < end { p += 1 }
            } else {
                while p < end && sql[p] != 0x2C && !ByteClass.isWhitespace(sql[p]) { p += 1 }
                valueEnd = p
            }
            if Self.equalsKey(sql, keyStart, keyEnd, self.keyBytes) {
                return Self.decodedLane(sql, valueStart, valueEnd)
            }
            if baggage == nil && Self.equalsKey(sql, keyStart, keyEnd, Self.baggageKey) {
                baggage = valueStart..<valueEnd
            }
        }
        guard let baggage else { return nil }
        return self.laneInBaggage(Self.percentDecoded(sql, baggage.lowerBound, baggage.upperBound))
    }

    static let baggageKey: [UInt8] = Array("baggage".utf8)

    static func equalsKey(_ sql: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ key: [UInt8]) -> Bool {
        guard end - start == key.count else { return false }
        for i in 0..<key.count where ByteClass.lower(sql[start + i]) != key[i] { return false }
        return true
    }

    /// W3C baggage: `key=value;prop, key2=value2`, values percent-encoded.
    func laneInBaggage(_ baggage: [UInt8]) -> String? {
        var p = 0
        let n = baggage.count
        while p < n {
            while p < n && (baggage[p] == 0x2C || ByteClass.isWhitespace(baggage[p])) { p += 1 }
            let keyStart = p
            while p < n && baggage[p] != 0x3D && baggage[p] != 0x2C && !ByteClass.isWhitespace(baggage[p]) { p += 1 }
            let keyEnd = p
            while p < n && ByteClass.isWhitespace(baggage[p]) { p += 1 }
            guard p < n, baggage[p] == 0x3D else {
                while p < n && baggage[p] != 0x2C { p += 1 }
                continue
            }
            p += 1
            while p < n && ByteClass.isWhitespace(baggage[p]) { p += 1 }
            let valueStart = p
            while p < n && baggage[p] != 0x2C && baggage[p] != 0x3B && !ByteClass.isWhitespace(baggage[p]) { p += 1 }
            let valueEnd = p
            while p < n && baggage[p] != 0x2C { p += 1 }
            let matches = baggage.withUnsafeBytes { Self.equalsKey($0, keyStart, keyEnd, self.keyBytes) }
            if matches {
                return baggage.withUnsafeBytes { Self.decodedLane($0, valueStart, valueEnd) }
            }
        }
        return nil
    }

    static func decodedLane(_ sql: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> String? {
        let value = self.percentDecoded(sql, start, end)
        guard !value.isEmpty, value.count <= self.maximumValueLength else { return nil }
        for b in value where b < 0x21 || b == 0x7F || b == 0x27 || b == 0x22 { return nil }
        return String(decoding: value, as: UTF8.self)
    }

    static func percentDecoded(_ sql: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        var i = start
        while i < end {
            if sql[i] == 0x25, i + 2 < end, let h = hexValue(sql[i + 1]), let l = hexValue(sql[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(sql[i])
                i += 1
            }
        }
        return out
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }
}
