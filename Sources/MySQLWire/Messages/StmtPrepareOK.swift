import NIOCore

/// COM_STMT_PREPARE's OK answer, header 0x00 (https://mariadb.com/kb/en/com_stmt_prepare/#COM_STMT_PREPARE_OK):
/// the statement id, then `numParams` parameter definitions and `numColumns` column definitions follow.
public struct StmtPrepareOK: Sendable, Hashable {
    public var statementID: UInt32
    public var numColumns: UInt16
    public var numParams: UInt16
    public var warnings: UInt16

    public init(statementID: UInt32, numColumns: UInt16, numParams: UInt16, warnings: UInt16 = 0) {
        self.statementID = statementID
        self.numColumns = numColumns
        self.numParams = numParams
        self.warnings = warnings
    }

    public init(payload: ByteBuffer) throws {
        var buffer = payload
        guard try buffer.readLittleEndian(UInt8.self, "prepare OK header") == 0 else {
            throw MySQLWireError(.unexpectedPacket, "not a COM_STMT_PREPARE OK")
        }
        statementID = try buffer.readLittleEndian(UInt32.self, "statement id")
        numColumns = try buffer.readLittleEndian(UInt16.self, "column count")
        numParams = try buffer.readLittleEndian(UInt16.self, "parameter count")
        _ = buffer.readInteger(as: UInt8.self)
        warnings = buffer.readInteger(endianness: .little, as: UInt16.self) ?? 0
    }

    public func encode() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(statementID, endianness: .little)
        buffer.writeInteger(numColumns, endianness: .little)
        buffer.writeInteger(numParams, endianness: .little)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(warnings, endianness: .little)
        return buffer
    }
}
