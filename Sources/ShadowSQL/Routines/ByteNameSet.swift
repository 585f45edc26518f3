/// A fixed set of ASCII names that answers "is this byte range one of them?" without allocating: an
/// open-addressing table over FNV-1a hashes of the spellings, built once. The routine catalogues are a few thousand
/// names, and a lane statement looks up every `name(` it contains on the rewriter's slow path.
struct ByteNameSet: Sendable {
    private var slots: [Int32]
    private var hashes: [UInt64] = []
    private var offsets: [Int] = [0]
    private var flat: [UInt8] = []
    private let mask: Int

    /// `names` is whitespace-separated; each is stored exactly as written.
    init(_ names: String...) {
        var words: [[UInt8]] = []
        for list in names {
            for word in list.utf8.split(whereSeparator: { $0 == 0x20 || $0 == 0x0A || $0 == 0x09 }) {
                words.append(Array(word))
            }
        }
        var size = 64
        while size < words.count * 2 { size <<= 1 }
        self.slots = Array(repeating: -1, count: size)
        self.mask = size - 1
        for word in words where !self.contains(word, foldingCase: false) {
            let h = Self.hash(word, foldingCase: false)
            var slot = Int(truncatingIfNeeded: h) & self.mask
            while self.slots[slot] >= 0 { slot = (slot + 1) & self.mask }
            self.slots[slot] = Int32(self.hashes.count)
            self.hashes.append(h)
            self.flat += word
            self.offsets.append(self.flat.count)
        }
    }

    var count: Int { self.hashes.count }

    /// Whether `bytes` spells a member; with `foldingCase` ASCII upper case matches the stored lower case.
    func contains<Bytes: Collection>(_ bytes: Bytes, foldingCase: Bool) -> Bool where Bytes.Element == UInt8 {
        let h = Self.hash(bytes, foldingCase: foldingCase)
        var slot = Int(truncatingIfNeeded: h) & self.mask
        while true {
            let index = Int(self.slots[slot])
            if index < 0 { return false }
            if self.hashes[index] == h && self.offsets[index + 1] - self.offsets[index] == bytes.count {
                var offset = self.offsets[index]
                var same = true
                for byte in bytes {
                    if self.flat[offset] != (foldingCase ? ByteClass.lower(byte) : byte) {
                        same = false
                        break
                    }
                    offset += 1
                }
                if same { return true }
            }
            slot = (slot + 1) & self.mask
        }
    }

    private static func hash<Bytes: Collection>(_ bytes: Bytes, foldingCase: Bool) -> UInt64 where Bytes.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { h = (h ^ UInt64(foldingCase ? ByteClass.lower(byte) : byte)) &* 0x100_0000_01b3 }
        return h
    }
}
