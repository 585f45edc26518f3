import NIOCore

/// Authentication Switch Request, header 0xFE (https://mariadb.com/kb/en/connection/#authentication-switch-request):
/// the server asks the client to authenticate with another plugin and scramble. The proxy makes one to move a
/// client onto a lane's own server after the handshake response revealed its lane.
public struct AuthSwitchRequest: Sendable, Hashable {
    public static let header: UInt8 = 0xFE
    public var pluginName: String
    public var pluginData: [UInt8]

    public init(pluginName: String, pluginData: [UInt8]) {
        self.pluginName = pluginName
        self.pluginData = pluginData
    }

    public init(payload: ByteBuffer) throws {
        var buffer = payload
        guard try buffer.readLittleEndian(UInt8.self, "header") == Self.header else {
            throw MySQLWireError(.unexpectedPacket, "not an auth switch request")
        }
        pluginName = try buffer.readMySQLNullTerminatedString()
        var data = buffer.readBytes(length: buffer.readableBytes) ?? []
        if data.last == 0 { data.removeLast() }
        pluginData = data
    }

    /// Encodes the payload; the scramble is NUL-terminated as servers send it.
    public func encode() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(Self.header)
        buffer.writeMySQLNullTerminatedString(pluginName)
        buffer.writeBytes(pluginData)
        buffer.writeInteger(UInt8(0))
        return buffer
    }
}
