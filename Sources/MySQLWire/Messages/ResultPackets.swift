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

/// ERR packet, header 0xFF (https://mariadb.com/kb/en/err_packet/). The proxy makes its own for refusals with
/// the SQLSTATE marker '#'. Codes it uses:
/// - 1142 / 42000 (ER_TABLEACCESS_DENIED_ERROR): a lane refuses a statement on an unmapped table — drivers treat
///   it as a permission error, which is what it is;
/// - 1105 / HY000 (ER_UNKNOWN_ERROR): other refusals (unknown lane, lane on another server, prepared statement
///   used in another lane, unanalysable statement);
/// - 1429 / HY000 (ER_CONNECT_TO_FOREIGN_DATA_SOURCE): the backend server cannot be reached. Not 2003: codes in
///   the 2000–2999 range are client-side codes, and libmariadb rejects an ERR carrying one as a malformed packet.
public struct ERRPacket: Sendable, Hashable, Error {
    public static let header: UInt8 = 0xFF
    public var code: UInt16
    public var sqlState: String
    public var message: String

    public init(code: UInt16, sqlState: String, message: String) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
    }

    public init(payload: ByteBuffer) throws {
        var buffer = payload
        guard try buffer.readLittleEndian(UInt8.self, "ERR header") == Self.header else {
            throw MySQLWireError(.unexpectedPacket, "not an ERR packet")
        }
        code = try buffer.readLittleEndian(UInt16.self, "error code")
        if buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) == UInt8(ascii: "#") {
            buffer.moveReaderIndex(forwardBy: 1)
            sqlState = buffer.readString(length: min(5, buffer.readableBytes)) ?? ""
        } else {
            sqlState = "HY000"
        }
        message = buffer.readString(length: buffer.readableBytes) ?? ""
    }

    /// Encodes the packet. Before the handshake (instead of a greeting) clients expect no SQLSTATE marker.
    public func encode(withSQLState: Bool = true) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(Self.header)
        buffer.writeInteger(code, endianness: .little)
        if withSQLState {
            buffer.writeInteger(UInt8(ascii: "#"))
            let state = Array(sqlState.utf8.prefix(5))
            buffer.writeBytes(state + Array(repeating: UInt8(ascii: "0"), count: 5 - state.count))
        }
        buffer.writeString(message)
        return buffer
    }

    /// A refusal of a statement on an unmapped table.
    public static func tableRefusal(_ message: String) -> ERRPacket { ERRPacket(code: 1142, sqlState: "42000", message: message) }
    /// Any other refusal by the proxy.
    public static func proxyRefusal(_ message: String) -> ERRPacket { ERRPacket(code: 1105, sqlState: "HY000", message: message) }
    /// The backend server cannot be reached.
    public static func backendUnreachable(_ message: String) -> ERRPacket { ERRPacket(code: 1429, sqlState: "HY000", message: message) }
}

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
