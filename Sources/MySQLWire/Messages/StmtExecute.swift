import NIOCore

/// The fixed part of COM_STMT_EXECUTE (https://mariadb.com/kb/en/com_stmt_execute/): statement id, cursor flags,
/// iteration count, and — when the statement has parameters — the NULL bitmap and, if "new params bound" is set,
/// one 2-byte type (type code, then 0x80 for unsigned) per parameter. Parameter types are sent only when they
/// change, so the proxy remembers them per statement (dual-write replays need them).
public struct StmtExecuteHeader: Sendable, Hashable {
    public var statementID: UInt32
    public var flags: UInt8
    public var iterationCount: UInt32
    /// The parameter types when this execute binds new ones; nil when it reuses the previous ones.
    public var parameterTypes: [UInt16]?

    /// Parses the header of a statement with `parameterCount` parameters (known from its prepare OK).
    public init(payload: ByteBuffer, parameterCount: Int) throws {
        var buffer = payload
        guard try buffer.readLittleEndian(UInt8.self, "command") == MySQLCommand.stmtExecute.rawValue else {
            throw MySQLWireError(.unexpectedPacket, "not a COM_STMT_EXECUTE")
        }
        statementID = try buffer.readLittleEndian(UInt32.self, "statement id")
        flags = try buffer.readLittleEndian(UInt8.self, "flags")
        iterationCount = try buffer.readLittleEndian(UInt32.self, "iteration count")
        parameterTypes = nil
        guard parameterCount > 0 else { return }
        guard buffer.readSlice(length: (parameterCount + 7) / 8) != nil else { throw MySQLWireError.truncated("NULL bitmap") }
        let newParamsBound = try buffer.readLittleEndian(UInt8.self, "new-params-bound flag")
        guard newParamsBound == 1 else { return }
        var types: [UInt16] = []
        types.reserveCapacity(parameterCount)
        for _ in 0..<parameterCount { types.append(try buffer.readLittleEndian(UInt16.self, "parameter type")) }
        parameterTypes = types
    }
}
