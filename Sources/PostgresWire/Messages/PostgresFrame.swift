import NIOCore

/// One typed protocol message as it travelled on the wire: the type byte, the length word and the body.
/// ``bytes`` is a slice of the receive buffer, so forwarding a frame unchanged copies nothing.
public struct PostgresFrame: Sendable, Hashable {
    /// The message type byte (`Q`, `P`, `D`, …).
    public var id: UInt8
    /// The whole message: type byte, length and body.
    public var bytes: ByteBuffer

    public init(id: UInt8, bytes: ByteBuffer) {
        self.id = id
        self.bytes = bytes
    }

    /// The body after the 5-byte header.
    public var body: ByteBuffer {
        bytes.getSlice(at: bytes.readerIndex + 5, length: bytes.readableBytes - 5) ?? ByteBuffer()
    }

    /// The type byte as a character, for logs and error messages.
    public var name: String { String(UnicodeScalar(id)) }
}

extension ByteBuffer {
    /// Reads a NUL-terminated string; nil when there is no terminator.
    @inlinable
    public mutating func readPostgresCString() -> String? {
        guard let end = self.readableBytesView.firstIndex(of: 0) else { return nil }
        let string = self.readString(length: end - self.readerIndex)
        self.moveReaderIndex(forwardBy: 1)
        return string
    }

    /// Reads a NUL-terminated byte string as a slice (no copy); nil when there is no terminator.
    @inlinable
    public mutating func readPostgresCStringSlice() -> ByteBuffer? {
        guard let end = self.readableBytesView.firstIndex(of: 0) else { return nil }
        let slice = self.readSlice(length: end - self.readerIndex)
        self.moveReaderIndex(forwardBy: 1)
        return slice
    }

    /// Writes `string` followed by a NUL byte.
    @inlinable
    public mutating func writePostgresCString(_ string: String) {
        self.writeString(string)
        self.writeInteger(UInt8(0))
    }
}
