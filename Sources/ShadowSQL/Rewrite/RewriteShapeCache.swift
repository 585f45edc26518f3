/// Remembers how the statement shapes a connection sent recently were rewritten, so a statement that differs from
/// one of them only in its literal values is renamed without being analysed again.
///
/// Why this is sound: the analysis of a statement reads its token kinds and the bytes of every token that is not a
/// literal (names, keywords, operators, variables, placeholders); of a string or number it reads only the kind.
/// The renaming reads, besides the tokens it replaces, only the byte on either side of them (whether a new name
/// would fuse with its neighbour, ``NameRenderer/separated(_:replacing:_:in:)``). The key below records exactly
/// that: every significant token's kind, whether it touches the token before it, the bytes of each non-literal
/// token, and for each literal what its first and last byte can mean to a neighbour (``edgeClass(_:)``: a digit,
/// a quote, `$`, `&` or nothing), so `id=17` and `id=4242` have one shape. Two statements with the same key therefore read the same,
/// get the same edits at the same token positions, and their outputs read the same again — so the check that the
/// output reads the same as the input (the second pass of ``SQLRewriter/rewrite(_:lane:)``), done when the shape
/// was first seen, holds for every statement of that shape. Keys are compared byte for byte, never by hash alone:
/// a crafted hash collision must not borrow another statement's edits. Refusals are not remembered (they are rare,
/// and their messages name byte positions); neither are statements whose key would be long.
///
/// Bounded: at most ``maxEntries`` shapes and ``maxBytes`` bytes of keys and replacements per connection; the
/// least recently used shape makes room. Cleared whenever the lane mapping changes.
struct RewriteShapeCache: Sendable {
    /// One edit, by token position: replace the token's bytes, or insert before it.
    struct TokenEdit: Sendable, Equatable {
        var token: Int
        var insertBefore: Bool
        var replacement: [UInt8]
    }

    struct Entry: Sendable {
        var hash: UInt64
        var key: [UInt8]
        /// Empty: the statement needed no renaming (forwarded unchanged).
        var edits: [TokenEdit]
        var kinds: [StatementKind]
        var lastUse: UInt64
        var bytes: Int
    }

    static let maxEntries = 64
    static let maxBytes = 16 << 10
    /// Keys longer than this are not remembered: one long statement would evict many short ones.
    static let maxKeyBytes = 2 << 10

    private(set) var entries: [Entry] = []
    private var clock: UInt64 = 0
    private var bytes = 0
    /// Statements served from a remembered shape (tests read it).
    private(set) var hits = 0

    var isEmpty: Bool { self.entries.isEmpty }

    mutating func removeAll() {
        self.entries.removeAll()
        self.bytes = 0
    }

    /// The index in ``entries`` of the entry whose key equals `key`, marked as used.
    mutating func lookup(_ key: [UInt8], hash: UInt64) -> Int? {
        for index in self.entries.indices where self.entries[index].hash == hash && self.entries[index].key == key {
            self.clock &+= 1
            self.entries[index].lastUse = self.clock
            self.hits += 1
            return index
        }
        return nil
    }

    mutating func store(key: [UInt8], hash: UInt64, edits: [TokenEdit], kinds: [StatementKind]) {
        let size = key.count + edits.reduce(0) { $0 + $1.replacement.count + 16 } + kinds.count + 64
        guard key.count <= Self.maxKeyBytes, size <= Self.maxBytes else { return }
        while !self.entries.isEmpty && (self.entries.count >= Self.maxEntries || self.bytes + size > Self.maxBytes) {
            var oldest = 0
            for index in self.entries.indices where self.entries[index].lastUse < self.entries[oldest].lastUse {
                oldest = index
            }
            self.bytes -= self.entries[oldest].bytes
            self.entries.swapAt(oldest, self.entries.count - 1)
            self.entries.removeLast()
        }
        self.clock &+= 1
        self.entries.append(Entry(hash: hash, key: key, edits: edits, kinds: kinds, lastUse: self.clock, bytes: size))
        self.bytes += size
    }

    /// Writes the shape key of `tokens` (lexed from `bytes`) into `key` and returns its hash, or nil when the
    /// statement is too long to remember.
    static func key(of tokens: [SignificantToken], in bytes: UnsafeRawBufferPointer, into key: inout [UInt8]) -> UInt64? {
        key.removeAll(keepingCapacity: true)
        var previousEnd = -1
        for token in tokens {
            // The kind fits in seven bits; the eighth says whether the token touches the one before it.
            let touches: UInt8 = token.start == previousEnd ? 0x80 : 0
            key.append(token.kind.rawValue | touches)
            previousEnd = token.end
            switch token.kind {
            case .string, .number:
                // Never empty: a literal has at least one byte.
                key.append(Self.edgeClass(bytes[token.start]))
                key.append(Self.edgeClass(bytes[token.end - 1]))
            default:
                let length = token.end - token.start
                guard length < 0xFF else { return nil }
                key.append(UInt8(length))
                key.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[token.start..<token.end]))
            }
            if key.count > Self.maxKeyBytes { return nil }
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    /// What a literal's first or last byte can mean to a name renamed next to it (the tests of
    /// ``NameRenderer/separated(_:replacing:_:in:)``): a digit, one of the quotes, `$`, `&`, or nothing.
    static func edgeClass(_ byte: UInt8) -> UInt8 {
        if ByteClass.isDigit(byte) { return 0x30 }
        switch byte {
        case 0x27, 0x22, 0x60, 0x24, 0x26: return byte
        default: return 0x2E
        }
    }
}
