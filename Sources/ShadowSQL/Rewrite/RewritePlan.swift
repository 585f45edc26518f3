/// Byte-range edits over one input buffer, applied once. An empty plan means "forward the input untouched".
struct RewritePlan: Sendable {
    /// Replace `start..<end` with `replacement` (`start == end` inserts).
    struct Edit: Sendable {
        var start: Int
        var end: Int
        var replacement: [UInt8]
    }

    private(set) var edits: [Edit] = []
    /// The same edits by token position, for ``RewriteShapeCache``: filled by ``replace(token:in:insertBefore:with:)``.
    private(set) var tokenEdits: [RewriteShapeCache.TokenEdit] = []

    var isEmpty: Bool { self.edits.isEmpty }

    mutating func removeAll() {
        self.edits.removeAll(keepingCapacity: true)
        self.tokenEdits.removeAll(keepingCapacity: true)
    }

    mutating func replace(_ start: Int, _ end: Int, with replacement: [UInt8]) {
        self.edits.append(Edit(start: start, end: end, replacement: replacement))
    }

    /// Replaces token `index` of `tokens` (or inserts before it), and remembers the edit by token position.
    mutating func replace(token index: Int, in tokens: [SignificantToken], insertBefore: Bool, with replacement: [UInt8]) {
        let token = tokens[index]
        self.replace(token.start, insertBefore ? token.start : token.end, with: replacement)
        self.tokenEdits.append(.init(token: index, insertBefore: insertBefore, replacement: replacement))
    }

    /// Applies the edits; `nil` if two edits overlap (an analyzer bug: the caller refuses rather than guess).
    mutating func apply(to input: UnsafeRawBufferPointer) -> [UInt8]? {
        self.edits.sort { $0.start != $1.start ? $0.start < $1.start : $0.end < $1.end }
        var size = input.count
        var previousEnd = 0
        for edit in self.edits {
            guard edit.start >= previousEnd, edit.end <= input.count else { return nil }
            previousEnd = edit.end
            size += edit.replacement.count - (edit.end - edit.start)
        }
        let edits = self.edits
        let output = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var written = 0
            var position = 0
            func copy(_ source: UnsafeRawBufferPointer) {
                guard let base = source.baseAddress, source.count > 0, let target = buffer.baseAddress else { return }
                UnsafeMutableRawPointer(target + written).copyMemory(from: base, byteCount: source.count)
                written += source.count
            }
            for edit in edits {
                copy(UnsafeRawBufferPointer(rebasing: input[position..<edit.start]))
                edit.replacement.withUnsafeBytes { copy($0) }
                position = edit.end
            }
            copy(UnsafeRawBufferPointer(rebasing: input[position..<input.count]))
            initialized = written
        }
        return output
    }
}

/// Spells names for output in the style of the token they replace.
enum NameRenderer {
    /// `name` quoted like `token` (backticks stay backticks, "x" stays "x"); a bare token stays bare unless the
    /// new name needs quoting in `dialect`.
    static func render(_ name: [UInt8], like token: SignificantToken, in bytes: UnsafeRawBufferPointer,
        dialect: SQLDialect) -> [UInt8]
    {
        self.separated(self.styled(name, like: token, in: bytes, dialect: dialect), replacing: token.start, token.end, in: bytes)
    }

    /// `qualifier.` to insert before the name token `token`.
    static func renderQualifier(_ qualifier: [UInt8], before token: SignificantToken, in bytes: UnsafeRawBufferPointer,
        dialect: SQLDialect) -> [UInt8]
    {
        // Quoted like the name it qualifies, so `` `b` `` gets `` `shadow`.`b` ``.
        let out = self.styled(qualifier, like: token, in: bytes, dialect: dialect) + [0x2E]
        return self.separated(out, replacing: token.start, token.start, in: bytes)
    }

    /// `name` quoted as `token` is, or bare when it needs no quoting.
    private static func styled(_ name: [UInt8], like token: SignificantToken, in bytes: UnsafeRawBufferPointer,
        dialect: SQLDialect) -> [UInt8]
    {
        if token.kind == .quotedIdentifier {
            // The closing quote says which quote this is: the first byte is not one for PostgreSQL's `U&"…"`.
            return self.quote(name, with: bytes[token.end - 1])
        }
        guard self.needsQuoting(name, dialect: dialect) else { return name }
        return self.quote(name, with: dialect == .mysql ? 0x60 : 0x22)
    }

    /// `out` with a space before or after it where, written in place of `start..<end` with no space, it would fuse
    /// with its neighbour into another token: a quote next to the same quote reads as one doubled quote (`` t`x` ``
    /// would merge both names), a bare name before a string can become its prefix (PostgreSQL `e'…'` is an escape
    /// string, `u&'…'` a Unicode one, MySQL `x'…'` a hex literal), a name after a number can continue it (`1.5`
    /// then `e5x` reads as `1.5e5` then `x`), and a name next to `$` can start or end a dollar quote. A space
    /// between two tokens never changes what they mean.
    static func separated(_ out: [UInt8], replacing start: Int, _ end: Int, in bytes: UnsafeRawBufferPointer) -> [UInt8] {
        guard let first = out.first, let last = out.last else { return out }
        var result = out
        if end < bytes.count, start < end {
            let next = bytes[end]
            let fuses = self.isQuote(last) ? next == last : ByteClass.isIdentifierPart(last) && self.startsLiteral(next)
            if fuses { result.append(0x20) }
        }
        if start > 0 {
            let previous = bytes[start - 1]
            let fuses = self.isQuote(first)
                ? previous == first
                : ByteClass.isIdentifierPart(first) && (ByteClass.isDigit(previous) || self.startsLiteral(previous))
            if fuses { result.insert(0x20, at: 0) }
        }
        return result
    }

    private static func isQuote(_ byte: UInt8) -> Bool { byte == 0x60 || byte == 0x22 || byte == 0x27 }

    /// String quotes (MySQL's `_charset"…"` takes double quotes too), `$` (dollar quotes, parameters) and `&`
    /// (PostgreSQL's `U&` prefix). A backtick is not among them: no literal begins with a name before one.
    private static func startsLiteral(_ byte: UInt8) -> Bool {
        byte == 0x27 || byte == 0x22 || byte == 0x24 || byte == 0x26
    }

    static func quote(_ name: [UInt8], with quote: UInt8) -> [UInt8] {
        var out: [UInt8] = [quote]
        for b in name {
            out.append(b)
            if b == quote { out.append(quote) }
        }
        out.append(quote)
        return out
    }

    static func needsQuoting(_ name: [UInt8], dialect: SQLDialect) -> Bool {
        guard let first = name.first else { return true }
        if dialect == .postgres && (ByteClass.isDigit(first) || first == 0x24) { return true }
        var allDigits = true
        for b in name {
            if !ByteClass.isIdentifierPart(b) { return true }
            if dialect == .postgres && b >= 0x41 && b <= 0x5A { return true }
            if !ByteClass.isDigit(b) { allDigits = false }
        }
        if allDigits { return true }
        return name.withUnsafeBytes { Keyword.lookup($0, 0, name.count) != .none }
    }
}
