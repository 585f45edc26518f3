/// Byte-range edits over one input buffer, applied once. An empty plan means "forward the input untouched".
struct RewritePlan: Sendable {
    /// Replace `start..<end` with `replacement` (`start == end` inserts).
    struct Edit: Sendable {
        var start: Int
        var end: Int
        var replacement: [UInt8]
    }

    private(set) var edits: [Edit] = []

    var isEmpty: Bool { self.edits.isEmpty }

    mutating func removeAll() { self.edits.removeAll(keepingCapacity: true) }

    mutating func replace(_ start: Int, _ end: Int, with replacement: [UInt8]) {
        self.edits.append(Edit(start: start, end: end, replacement: replacement))
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
        if token.kind == .quotedIdentifier {
            return self.quote(name, with: bytes[token.start])
        }
        return self.needsQuoting(name, dialect: dialect) ? self.quote(name, with: dialect == .mysql ? 0x60 : 0x22) : name
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
