import NIOCore

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
