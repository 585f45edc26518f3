import NIOCore

/// The fixed part of COM_STMT_EXECUTE (https://mariadb.com/kb/en/com_stmt_execute/): statement id, cursor flags,
/// iteration count, and — when the statement has parameters — the NULL bitmap and, if "new params bound" is set,
/// one 2-byte type (type code, then 0x80 for unsigned) per parameter. The relay only checks that it is whole; the
/// dual-write capture decodes the values (``MySQLStatementCapture``).
public enum StmtExecuteHeader {
    /// Whether `payload` holds the whole header of an execute of a statement with `parameterCount` parameters
    /// (known from its prepare OK). Checked without building anything: it runs for every execute.
    public static func isComplete(payload: ByteBuffer, parameterCount: Int) -> Bool {
        let fixed = 10  // command, statement id, flags, iteration count
        guard payload.readableBytes >= fixed,
            payload.getInteger(at: payload.readerIndex, as: UInt8.self) == MySQLCommand.stmtExecute.rawValue
        else { return false }
        guard parameterCount > 0 else { return true }
        let bitmapEnd = fixed + (parameterCount + 7) / 8
        guard payload.readableBytes > bitmapEnd,
            let newParamsBound = payload.getInteger(at: payload.readerIndex + bitmapEnd, as: UInt8.self)
        else { return false }
        return newParamsBound != 1 || payload.readableBytes >= bitmapEnd + 1 + 2 * parameterCount
    }
}
