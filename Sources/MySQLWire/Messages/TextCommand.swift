import NIOCore

/// COM_QUERY (0x03) and COM_STMT_PREPARE (0x16): the command byte followed by the statement text to end of packet
/// (no query attributes: CLIENT_QUERY_ATTRIBUTES is masked). COM_INIT_DB (0x02) has the same shape with a database
/// name. https://mariadb.com/kb/en/com_query/, https://mariadb.com/kb/en/com_stmt_prepare/, https://mariadb.com/kb/en/com_init_db/
public enum TextCommand {
    /// The text after the command byte, as a slice (no copy).
    public static func text(of payload: ByteBuffer) -> ByteBuffer {
        payload.getSlice(at: payload.readerIndex + 1, length: max(0, payload.readableBytes - 1)) ?? ByteBuffer()
    }

    /// Encodes a command with new text.
    public static func encode(_ command: MySQLCommand, text: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(text.count + 1)
        buffer.writeInteger(command.rawValue)
        buffer.writeBytes(text)
        return buffer
    }
}
