import NIOCore

/// The client's answer to the greeting, Handshake Response Packet (protocol 4.1)
/// (https://mariadb.com/kb/en/connection/#client-handshake-response). The proxy reads the user, database and
/// connection attributes (where the lane label lives), masks capabilities, and may replace the auth response or
/// database before forwarding it to the server.
public struct HandshakeResponse41: Sendable, Hashable {
    public var capabilities: MySQLCapabilities
    public var maxPacketSize: UInt32
    public var characterSet: UInt8
    public var username: String
    public var authResponse: [UInt8]
    public var database: String?
    public var authPluginName: String?
    /// Connection attributes in the order the client sent them.
    public var attributes: [(key: String, value: String)]

    public init(
        capabilities: MySQLCapabilities, maxPacketSize: UInt32 = 1 << 24, characterSet: UInt8 = 45, username: String,
        authResponse: [UInt8], database: String? = nil, authPluginName: String? = nil,
        attributes: [(key: String, value: String)] = []
    ) {
        self.capabilities = capabilities
        self.maxPacketSize = maxPacketSize
        self.characterSet = characterSet
        self.username = username
        self.authResponse = authResponse
        self.database = database
        self.authPluginName = authPluginName
        self.attributes = attributes
    }

    /// The value of connection attribute `key`, if sent.
    public func attribute(_ key: String) -> String? {
        attributes.first { $0.key == key }?.value
    }

    public init(payload: ByteBuffer) throws {
        var buffer = payload
        let low = try buffer.readLittleEndian(UInt32.self, "capabilities")
        maxPacketSize = try buffer.readLittleEndian(UInt32.self, "max packet size")
        characterSet = try buffer.readLittleEndian(UInt8.self, "character set")
        guard buffer.readBytes(length: 19) != nil else { throw MySQLWireError.truncated("reserved bytes") }
        let extended = try buffer.readLittleEndian(UInt32.self, "extended capabilities")
        var caps = UInt64(low)
        if caps & MySQLCapabilities.clientMySQL.rawValue == 0 { caps |= UInt64(extended) << 32 }
        capabilities = MySQLCapabilities(rawValue: caps)
        username = try buffer.readMySQLNullTerminatedString()
        if capabilities.contains(.pluginAuthLengthEncodedData) {
            var slice = try buffer.readLengthEncodedSlice()
            authResponse = slice.readBytes(length: slice.readableBytes) ?? []
        } else if capabilities.contains(.secureConnection) {
            let length = try buffer.readLittleEndian(UInt8.self, "auth response length")
            guard let bytes = buffer.readBytes(length: Int(length)) else { throw MySQLWireError.truncated("auth response") }
            authResponse = bytes
        } else {
            authResponse = Array(try buffer.readMySQLNullTerminatedString().utf8)
        }
        database = nil
        authPluginName = nil
        attributes = []
        if capabilities.contains(.connectWithDB), buffer.readableBytes > 0 {
            database = try buffer.readMySQLNullTerminatedString()
        }
        if capabilities.contains(.pluginAuth), buffer.readableBytes > 0 {
            authPluginName = try buffer.readMySQLNullTerminatedString()
        }
        if capabilities.contains(.connectAttributes), buffer.readableBytes > 0 {
            var attrs = try buffer.readLengthEncodedSlice()
            while attrs.readableBytes > 0 {
                let key = try attrs.readLengthEncodedString()
                let value = try attrs.readLengthEncodedString()
                attributes.append((key, value))
            }
        }
    }

    /// Encodes the response payload.
    public func encode() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(truncatingIfNeeded: capabilities.rawValue), endianness: .little)
        buffer.writeInteger(maxPacketSize, endianness: .little)
        buffer.writeInteger(characterSet)
        buffer.writeRepeatingByte(0, count: 19)
        let isMariaDB = !capabilities.contains(.clientMySQL)
        buffer.writeInteger(isMariaDB ? UInt32(truncatingIfNeeded: capabilities.rawValue >> 32) : 0, endianness: .little)
        buffer.writeMySQLNullTerminatedString(username)
        if capabilities.contains(.pluginAuthLengthEncodedData) {
            buffer.writeLengthEncodedBytes(authResponse)
        } else if capabilities.contains(.secureConnection) {
            buffer.writeInteger(UInt8(truncatingIfNeeded: authResponse.count))
            buffer.writeBytes(authResponse.prefix(255))
        } else {
            buffer.writeBytes(authResponse)
            buffer.writeInteger(UInt8(0))
        }
        if capabilities.contains(.connectWithDB) { buffer.writeMySQLNullTerminatedString(database ?? "") }
        if capabilities.contains(.pluginAuth) { buffer.writeMySQLNullTerminatedString(authPluginName ?? "") }
        if capabilities.contains(.connectAttributes) {
            var attrs = ByteBuffer()
            for (key, value) in attributes {
                attrs.writeLengthEncodedBytes(Array(key.utf8))
                attrs.writeLengthEncodedBytes(Array(value.utf8))
            }
            buffer.writeLengthEncodedInteger(UInt64(attrs.readableBytes))
            buffer.writeBuffer(&attrs)
        }
        return buffer
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.encode() == rhs.encode()
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(encode())
    }
}
