import NIOCore

/// EOF packet (https://mariadb.com/kb/en/eof_packet/): header 0xFE with a payload shorter than 9 bytes; a longer
/// 0xFE packet is a row or an OK, never an EOF.
public struct EOFPacket: Sendable, Hashable {
    public var warnings: UInt16
    public var status: MySQLServerStatus

    public init(warnings: UInt16 = 0, status: MySQLServerStatus) {
        self.warnings = warnings
        self.status = status
    }

    /// Whether `payload` is an EOF packet.
    public static func isEOF(_ payload: ByteBuffer) -> Bool {
        payload.readableBytes < 9 && payload.getInteger(at: payload.readerIndex, as: UInt8.self) == 0xFE
    }

    public init(payload: ByteBuffer) throws {
        guard Self.isEOF(payload) else { throw MySQLWireError(.unexpectedPacket, "not an EOF packet") }
        var buffer = payload
        buffer.moveReaderIndex(forwardBy: 1)
        warnings = buffer.readInteger(endianness: .little, as: UInt16.self) ?? 0
        status = MySQLServerStatus(rawValue: buffer.readInteger(endianness: .little, as: UInt16.self) ?? 0)
    }

    public func encode() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(0xFE))
        buffer.writeInteger(warnings, endianness: .little)
        buffer.writeInteger(status.rawValue, endianness: .little)
        return buffer
    }
}
