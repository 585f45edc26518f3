/// Little-endian appends to a byte array: the encoder's only primitive, so the layout in docs/dual-write.md is
/// exactly the sequence of calls in `ReplayRecordCodec.encode`.
extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        var v = value.littleEndian
        Swift.withUnsafeBytes(of: &v) { self.append(contentsOf: $0) }
    }

    mutating func setLE(_ value: UInt32, at offset: Int) {
        for i in 0..<4 { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }
}

/// A bounds-checked little-endian reader over untrusted bytes: every read returns nil instead of trapping, so a
/// hostile or torn record becomes a decode error (promise 4).
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func read<T: FixedWidthInteger>(_: T.Type) -> T? {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { return nil }
        var value: T = 0
        for i in 0..<size { value |= T(truncatingIfNeeded: bytes[offset + i]) << (8 * i) }
        offset += size
        return value
    }

    mutating func readBytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, remaining >= count else { return nil }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func readString(_ count: Int) -> String? {
        guard count >= 0, remaining >= count else { return nil }
        defer { offset += count }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
        // Invalid UTF-8 is corruption for us (the proxy logs only UTF-8 SQL), not something to repair silently.
        guard let string = String(validating: slice.bindMemory(to: UInt8.self), as: UTF8.self) else { return nil }
        return string
    }
}
