import NIOCore

/// Length-encoded integers and strings (https://mariadb.com/kb/en/protocol-data-types/). All readers are
/// checked: a truncated value or the 0xFF prefix (not a valid integer) throws, never traps.
extension ByteBuffer {
    /// Reads a length-encoded integer. 0xFB (SQL NULL in rows) is returned as nil.
    public mutating func readLengthEncodedIntegerOrNull() throws -> UInt64? {
        guard let first = readInteger(as: UInt8.self) else { throw MySQLWireError.truncated("length-encoded integer") }
        switch first {
        case 0..<0xFB: return UInt64(first)
        case 0xFB: return nil
        case 0xFC: return try readLE(2)
        case 0xFD: return try readLE(3)
        case 0xFE: return try readLE(8)
        default: throw MySQLWireError(.invalidValue, "0xFF is not a valid length-encoded integer prefix")
        }
    }

    /// Reads a length-encoded integer; NULL (0xFB) is an error here.
    public mutating func readLengthEncodedInteger() throws -> UInt64 {
        guard let value = try readLengthEncodedIntegerOrNull() else {
            throw MySQLWireError(.invalidValue, "unexpected NULL (0xFB) where a length-encoded integer is required")
        }
        return value
    }

    /// Reads a length-encoded string as a slice.
    public mutating func readLengthEncodedSlice() throws -> ByteBuffer {
        let length = try readLengthEncodedInteger()
        guard length <= UInt64(readableBytes), let slice = readSlice(length: Int(length)) else {
            throw MySQLWireError.truncated("length-encoded string")
        }
        return slice
    }

    /// Reads a length-encoded string as UTF-8 text.
    public mutating func readLengthEncodedString() throws -> String {
        var slice = try readLengthEncodedSlice()
        return slice.readString(length: slice.readableBytes) ?? ""
    }

    /// Reads a NUL-terminated string; a missing terminator is an error.
    public mutating func readMySQLNullTerminatedString() throws -> String {
        guard let end = readableBytesView.firstIndex(of: 0) else { throw MySQLWireError.truncated("NUL-terminated string") }
        let length = end - readableBytesView.startIndex
        let text = readString(length: length) ?? ""
        moveReaderIndex(forwardBy: 1)
        return text
    }

    /// Writes a length-encoded integer.
    public mutating func writeLengthEncodedInteger(_ value: UInt64) {
        switch value {
        case 0..<0xFB: writeInteger(UInt8(value))
        case 0xFB...0xFFFF:
            writeInteger(UInt8(0xFC)); writeInteger(UInt16(value), endianness: .little)
        case 0x1_0000...0xFF_FFFF:
            writeInteger(UInt8(0xFD))
            writeInteger(UInt8(truncatingIfNeeded: value)); writeInteger(UInt16(truncatingIfNeeded: value >> 8), endianness: .little)
        default:
            writeInteger(UInt8(0xFE)); writeInteger(value, endianness: .little)
        }
    }

    /// Writes a length-encoded string.
    public mutating func writeLengthEncodedBytes<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        writeLengthEncodedInteger(UInt64(bytes.count))
        writeBytes(bytes)
    }

    /// Writes a NUL-terminated string.
    public mutating func writeMySQLNullTerminatedString(_ text: String) {
        writeString(text)
        writeInteger(UInt8(0))
    }

    private mutating func readLE(_ count: Int) throws -> UInt64 {
        guard let bytes = readBytes(length: count) else { throw MySQLWireError.truncated("length-encoded integer") }
        var value: UInt64 = 0
        for (index, byte) in bytes.enumerated() { value |= UInt64(byte) << (8 * UInt64(index)) }
        return value
    }

    /// Reads a fixed-size little-endian integer or throws.
    mutating func readLittleEndian<T: FixedWidthInteger>(_ type: T.Type, _ what: String) throws -> T {
        guard let value = readInteger(endianness: .little, as: T.self) else { throw MySQLWireError.truncated(what) }
        return value
    }
}
