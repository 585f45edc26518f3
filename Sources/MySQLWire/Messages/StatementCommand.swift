import NIOCore

/// The statement-id header shared by COM_STMT_EXECUTE (0x17), COM_STMT_SEND_LONG_DATA (0x18), COM_STMT_CLOSE
/// (0x19), COM_STMT_RESET (0x1A) and COM_STMT_FETCH (0x1C): command byte then a 4-byte statement id
/// (https://mariadb.com/kb/en/com_stmt_execute/). MariaDB's id 0xFFFFFFFF means "the statement just prepared".
public enum StatementCommand {
    /// The id MariaDB clients use to execute the statement prepared just before, without waiting for its id.
    public static let lastPrepared: UInt32 = 0xFFFF_FFFF

    /// The statement id of a statement command, or nil when the packet is too short.
    public static func statementID(of payload: ByteBuffer) -> UInt32? {
        payload.getInteger(at: payload.readerIndex + 1, endianness: .little, as: UInt32.self)
    }

    public static func encode(_ command: MySQLCommand, statementID: UInt32) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(command.rawValue)
        buffer.writeInteger(statementID, endianness: .little)
        return buffer
    }
}
