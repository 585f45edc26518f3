import NIOCore

/// The first byte of a command-phase client packet (https://mariadb.com/kb/en/2-text-protocol/ and
/// https://mariadb.com/kb/en/3-binary-protocol-prepared-statements/).
public enum MySQLCommand: UInt8, Sendable, Hashable {
    case quit = 0x01
    case initDB = 0x02
    case query = 0x03
    case fieldList = 0x04
    case createDB = 0x05
    case dropDB = 0x06
    case refresh = 0x07
    case shutdown = 0x08
    case statistics = 0x09
    case processInfo = 0x0A
    case processKill = 0x0C
    case debug = 0x0D
    case ping = 0x0E
    case changeUser = 0x11
    case binlogDump = 0x12
    case stmtPrepare = 0x16
    case stmtExecute = 0x17
    case stmtSendLongData = 0x18
    case stmtClose = 0x19
    case stmtReset = 0x1A
    case setOption = 0x1B
    case stmtFetch = 0x1C
    case resetConnection = 0x1F
    case stmtBulkExecute = 0xFA
}

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

/// COM_CHANGE_USER (0x11) (https://mariadb.com/kb/en/com_change_user/): re-authenticates as another user and
/// resets the session; the proxy re-evaluates the lane from the new user and attributes.
public struct ChangeUser: Sendable, Hashable {
    public var username: String
    public var database: String?
    public var attributes: [String: String]

    public init(payload: ByteBuffer, capabilities: MySQLCapabilities) throws {
        var buffer = payload
        _ = try buffer.readLittleEndian(UInt8.self, "command")
        username = try buffer.readMySQLNullTerminatedString()
        if capabilities.contains(.secureConnection) {
            let length = try buffer.readLittleEndian(UInt8.self, "auth length")
            guard buffer.readSlice(length: Int(length)) != nil else { throw MySQLWireError.truncated("auth response") }
        } else {
            _ = try buffer.readMySQLNullTerminatedString()
        }
        let db = buffer.readableBytes > 0 ? try buffer.readMySQLNullTerminatedString() : ""
        database = db.isEmpty ? nil : db
        attributes = [:]
        guard buffer.readableBytes >= 2 else { return }
        _ = buffer.readInteger(endianness: .little, as: UInt16.self)
        if capabilities.contains(.pluginAuth), buffer.readableBytes > 0 { _ = try buffer.readMySQLNullTerminatedString() }
        if capabilities.contains(.connectAttributes), buffer.readableBytes > 0 {
            var attrs = try buffer.readLengthEncodedSlice()
            while attrs.readableBytes > 0 {
                let key = try attrs.readLengthEncodedString()
                attributes[key] = try attrs.readLengthEncodedString()
            }
        }
    }
}
