import NIOCore

/// OK packet, header 0x00 (or 0xFE when it ends a result set under CLIENT_DEPRECATE_EOF)
/// (https://mariadb.com/kb/en/ok_packet/). The proxy reads only the status flags: transaction state and
/// SERVER_MORE_RESULTS_EXISTS.
public struct OKPacket: Sendable, Hashable {
    public var affectedRows: UInt64
    public var lastInsertID: UInt64
    public var status: MySQLServerStatus
    public var warnings: UInt16

    public init(affectedRows: UInt64 = 0, lastInsertID: UInt64 = 0, status: MySQLServerStatus = [.autocommit], warnings: UInt16 = 0) {
        self.affectedRows = affectedRows
        self.lastInsertID = lastInsertID
        self.status = status
        self.warnings = warnings
    }

    public init(payload: ByteBuffer) throws {
        var buffer = payload
        let header = try buffer.readLittleEndian(UInt8.self, "OK header")
        guard header == 0x00 || header == 0xFE else { throw MySQLWireError(.unexpectedPacket, "not an OK packet") }
        affectedRows = try buffer.readLengthEncodedInteger()
        lastInsertID = try buffer.readLengthEncodedInteger()
        status = MySQLServerStatus(rawValue: try buffer.readLittleEndian(UInt16.self, "OK status"))
        warnings = buffer.readInteger(endianness: .little, as: UInt16.self) ?? 0
    }

    public func encode(header: UInt8 = 0x00) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(header)
        buffer.writeLengthEncodedInteger(affectedRows)
        buffer.writeLengthEncodedInteger(lastInsertID)
        buffer.writeInteger(status.rawValue, endianness: .little)
        buffer.writeInteger(warnings, endianness: .little)
        return buffer
    }
}
