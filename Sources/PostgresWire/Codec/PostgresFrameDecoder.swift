import NIOCore

/// Splits a stream of typed PostgreSQL messages (`type byte, Int32 length, body`) into ``PostgresFrame``s, in either
/// direction. It looks at nothing but the header, so relaying costs one length check per message.
///
/// A length below 4 or a message above ``maximumMessageSize`` is an error that ends the connection: the proxy must
/// never buffer an unbounded message just because a peer announced it.
public struct PostgresFrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = PostgresFrame

    /// Largest whole message (header included) accepted.
    public let maximumMessageSize: Int

    public init(maximumMessageSize: Int) {
        self.maximumMessageSize = maximumMessageSize
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> PostgresFrame? {
        guard let (id, length) = buffer.getMultipleIntegers(at: buffer.readerIndex, endianness: .big, as: (UInt8, Int32).self)
        else { return nil }
        guard length >= 4 else {
            throw PostgresWireError(.invalidMessageLength, "message '\(Self.printable(id))' has invalid length \(length)")
        }
        let total = Int(length) + 1
        guard total <= maximumMessageSize else {
            throw PostgresWireError(
                .messageTooLarge,
                "message '\(Self.printable(id))' of \(total) bytes exceeds the listener's max_message_size of \(maximumMessageSize) bytes; raise max_message_size if such messages are expected"
            )
        }
        guard let bytes = buffer.readSlice(length: total) else { return nil }
        return PostgresFrame(id: id, bytes: bytes)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> PostgresFrame? {
        try self.decode(buffer: &buffer)
    }

    static func printable(_ id: UInt8) -> String {
        (32..<127).contains(id) ? String(UnicodeScalar(id)) : "0x" + String(id, radix: 16)
    }
}
