import NIOCore

/// Finds the server thread id a `KILL` names, so the session can check which server it lives on.
///
/// Recognised: `KILL [HARD | SOFT] [CONNECTION | QUERY] <id> [;]`, with whitespace and ordinary comments anywhere
/// between words, and `COM_PROCESS_KILL`. Anything else (`KILL QUERY ID <query id>`, `KILL USER name`, an
/// expression, an executable comment) yields nil and is left to the server. Runs on every `COM_QUERY`, so it gives
/// up at the first byte that cannot start `KILL`.
public enum KillStatement {
    /// The thread id of a `COM_QUERY` payload (command byte included) that is a KILL statement.
    public static func threadID(inQuery payload: ByteBuffer) -> UInt64? {
        locate(inQuery: payload)?.id
    }

    /// The payload with the thread id of a KILL statement (or `COM_PROCESS_KILL`) replaced by `id`.
    public static func replacingThreadID(in payload: ByteBuffer, with id: UInt64) -> ByteBuffer? {
        if payload.getInteger(at: payload.readerIndex, as: UInt8.self) == MySQLCommand.processKill.rawValue {
            guard id <= UInt64(UInt32.max), payload.readableBytes >= 5 else { return nil }
            var copy = ByteBuffer(buffer: payload)
            copy.setInteger(UInt32(id), at: copy.readerIndex + 1, endianness: .little)
            return copy
        }
        guard let found = locate(inQuery: payload) else { return nil }
        var result = ByteBuffer()
        result.writeImmutableBuffer(payload.getSlice(at: payload.readerIndex, length: found.range.lowerBound) ?? ByteBuffer())
        result.writeString(String(id))
        let rest = payload.readableBytes - found.range.upperBound
        result.writeImmutableBuffer(payload.getSlice(at: payload.readerIndex + found.range.upperBound, length: rest) ?? ByteBuffer())
        return result
    }

    /// The id and where its digits are in the payload (offsets from the reader index).
    static func locate(inQuery payload: ByteBuffer) -> (id: UInt64, range: Range<Int>)? {
        payload.withUnsafeReadableBytes { raw -> (id: UInt64, range: Range<Int>)? in
            guard raw.count > 1 else { return nil }
            var scanner = Scanner(bytes: UnsafeRawBufferPointer(rebasing: raw[1...]))
            scanner.skipSpaceAndComments()
            guard scanner.keyword("kill") else { return nil }
            scanner.skipSpaceAndComments()
            if scanner.keyword("hard") || scanner.keyword("soft") { scanner.skipSpaceAndComments() }
            if scanner.keyword("connection") || scanner.keyword("query") { scanner.skipSpaceAndComments() }
            let start = scanner.position
            guard let id = scanner.number() else { return nil }
            let range = (start + 1)..<(scanner.position + 1)
            scanner.skipSpaceAndComments()
            if scanner.peek == UInt8(ascii: ";") {
                scanner.position += 1
                scanner.skipSpaceAndComments()
            }
            return scanner.atEnd ? (id, range) : nil
        }
    }

    /// The thread id of a `COM_PROCESS_KILL` payload (command byte, then a 4-byte id).
    public static func threadID(inProcessKill payload: ByteBuffer) -> UInt64? {
        payload.getInteger(at: payload.readerIndex + 1, endianness: .little, as: UInt32.self).map(UInt64.init)
    }

    struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        var atEnd: Bool { position >= bytes.count }
        var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

        func byte(at offset: Int) -> UInt8? {
            position + offset < bytes.count ? bytes[position + offset] : nil
        }

        mutating func skipSpaceAndComments() {
            while let byte = peek {
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), 0x0B, 0x0C:
                    position += 1
                case UInt8(ascii: "#"):
                    skipLine()
                case UInt8(ascii: "-") where self.byte(at: 1) == UInt8(ascii: "-")
                    && (self.byte(at: 2).map { $0 <= 0x20 } ?? true):
                    skipLine()
                case UInt8(ascii: "/") where self.byte(at: 1) == UInt8(ascii: "*"):
                    // An executable comment (`/*!`, `/*M!`) is SQL: stop, so the statement is not recognised.
                    if self.byte(at: 2) == UInt8(ascii: "!") || self.byte(at: 2) == UInt8(ascii: "M") { return }
                    position += 2
                    while position < bytes.count {
                        if bytes[position] == UInt8(ascii: "*"), self.byte(at: 1) == UInt8(ascii: "/") {
                            position += 2
                            break
                        }
                        position += 1
                    }
                    if position >= bytes.count { return }
                default:
                    return
                }
            }
        }

        private mutating func skipLine() {
            while let byte = peek, byte != UInt8(ascii: "\n") { position += 1 }
        }

        /// Consumes `word` (lower case) if it comes next, case-insensitively and as a whole word.
        mutating func keyword(_ word: StaticString) -> Bool {
            let length = word.utf8CodeUnitCount
            guard position + length <= bytes.count else { return false }
            let matches = word.withUTF8Buffer { expected in
                (0..<length).allSatisfy { bytes[position + $0] | 0x20 == expected[$0] }
            }
            guard matches else { return false }
            if let next = byte(at: length), Self.isWordByte(next) { return false }
            position += length
            return true
        }

        /// A decimal number that fits in 64 bits, as a whole word.
        mutating func number() -> UInt64? {
            var value: UInt64 = 0
            var digits = 0
            while let byte = peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { return nil }
                value = sum
                digits += 1
                position += 1
            }
            guard digits > 0 else { return nil }
            if let next = peek, Self.isWordByte(next) { return nil }
            return value
        }

        static func isWordByte(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "$")
                || byte >= 0x80
        }
    }
}
