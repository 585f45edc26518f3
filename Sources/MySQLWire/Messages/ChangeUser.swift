import NIOCore

/// COM_CHANGE_USER (0x11) (https://mariadb.com/kb/en/com_change_user/): re-authenticates as another user and
/// resets the session; the proxy re-evaluates the lane from the new user and attributes.
public struct ChangeUser: Sendable, Hashable {
    public var username: String
    public var database: String?
    /// Where the database name lies in the payload (offsets from its reader index, NUL excluded); nil when the
    /// packet ends before the database field.
    public var databaseRange: Range<Int>?
    public var attributes: [String: String]
    /// The collation id the client asks for (`character_set_client`); nil when the packet ends before it.
    public var characterSet: UInt16?

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
        let start = buffer.readerIndex - payload.readerIndex
        let db = buffer.readableBytes > 0 ? try buffer.readMySQLNullTerminatedString() : ""
        let end = buffer.readerIndex - payload.readerIndex  // past the NUL, when the field was there
        databaseRange = end > start ? start..<(end - 1) : nil
        database = db.isEmpty ? nil : db
        attributes = [:]
        guard buffer.readableBytes >= 2 else { return }
        characterSet = buffer.readInteger(endianness: .little, as: UInt16.self)
        if capabilities.contains(.pluginAuth), buffer.readableBytes > 0 { _ = try buffer.readMySQLNullTerminatedString() }
        if capabilities.contains(.connectAttributes), buffer.readableBytes > 0 {
            var attrs = try buffer.readLengthEncodedSlice()
            while attrs.readableBytes > 0 {
                let key = try attrs.readLengthEncodedString()
                attributes[key] = try attrs.readLengthEncodedString()
            }
        }
    }

    /// `payload` (the bytes this packet was read from) with the database name replaced by `database`, every other
    /// byte kept; nil when the packet has no database field.
    public func replacingDatabase(in payload: ByteBuffer, with database: String) -> ByteBuffer? {
        guard let range = databaseRange,
            let head = payload.getSlice(at: payload.readerIndex, length: range.lowerBound),
            let tail = payload.getSlice(at: payload.readerIndex + range.upperBound, length: payload.readableBytes - range.upperBound)
        else { return nil }
        var out = ByteBuffer()
        out.reserveCapacity(head.readableBytes + database.utf8.count + tail.readableBytes)
        out.writeImmutableBuffer(head)
        out.writeString(database)
        out.writeImmutableBuffer(tail)
        return out
    }
}
