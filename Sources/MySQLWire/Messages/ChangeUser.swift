import NIOCore

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
