import NIOCore

/// The server greeting, Initial Handshake Packet protocol version 10
/// (https://mariadb.com/kb/en/connection/#initial-handshake-packet). The proxy relays the base server's greeting
/// with capabilities masked, and reads a lane server's scramble from it for the handshake-time server switch.
public struct HandshakeV10: Sendable, Hashable {
    public var serverVersion: String
    public var connectionID: UInt32
    /// The full scramble (auth-plugin-data part 1 + part 2, without the trailing NUL).
    public var authPluginData: [UInt8]
    /// Capabilities including MariaDB's extended high word when the server is MariaDB.
    public var capabilities: MySQLCapabilities
    public var characterSet: UInt8
    public var statusFlags: UInt16
    public var authPluginName: String?

    public init(payload: ByteBuffer) throws {
        var buffer = payload
        let version = try buffer.readLittleEndian(UInt8.self, "protocol version")
        guard version == 10 else {
            throw MySQLWireError(.unexpectedPacket, "server greeting has protocol version \(version), expected 10")
        }
        serverVersion = try buffer.readMySQLNullTerminatedString()
        connectionID = try buffer.readLittleEndian(UInt32.self, "connection id")
        guard let part1 = buffer.readBytes(length: 8) else { throw MySQLWireError.truncated("scramble") }
        _ = try buffer.readLittleEndian(UInt8.self, "filler")
        let lowCaps = try buffer.readLittleEndian(UInt16.self, "capabilities")
        characterSet = try buffer.readLittleEndian(UInt8.self, "character set")
        statusFlags = try buffer.readLittleEndian(UInt16.self, "status flags")
        let highCaps = try buffer.readLittleEndian(UInt16.self, "capabilities")
        let pluginDataLength = try buffer.readLittleEndian(UInt8.self, "auth data length")
        guard buffer.readBytes(length: 6) != nil else { throw MySQLWireError.truncated("filler") }
        let extended = try buffer.readLittleEndian(UInt32.self, "extended capabilities")
        var caps = UInt64(lowCaps) | UInt64(highCaps) << 16
        if caps & MySQLCapabilities.clientMySQL.rawValue == 0 { caps |= UInt64(extended) << 32 }
        capabilities = MySQLCapabilities(rawValue: caps)
        var scramble = part1
        if capabilities.contains(.secureConnection) {
            let part2Length = max(13, Int(pluginDataLength) - 8)
            guard let part2 = buffer.readBytes(length: min(part2Length, buffer.readableBytes)) else {
                throw MySQLWireError.truncated("scramble part 2")
            }
            scramble += part2
            if scramble.last == 0 { scramble.removeLast() }
        }
        authPluginData = scramble
        if capabilities.contains(.pluginAuth), buffer.readableBytes > 0 {
            if buffer.readableBytesView.contains(0) {
                authPluginName = try buffer.readMySQLNullTerminatedString()
            } else {
                authPluginName = buffer.readString(length: buffer.readableBytes)
            }
        } else {
            authPluginName = nil
        }
    }

    /// Rewrites only the capability words of a greeting payload, keeping every other byte. Throws when the
    /// payload is too short to hold them.
    public static func maskCapabilities(in payload: ByteBuffer, tls: Bool) throws -> ByteBuffer {
        var probe = payload
        _ = try probe.readLittleEndian(UInt8.self, "protocol version")
        _ = try probe.readMySQLNullTerminatedString()
        let lowOffset = probe.readerIndex - payload.readerIndex + 4 + 8 + 1
        guard payload.readableBytes >= lowOffset + 2 + 1 + 2 + 2 + 1 + 6 + 4 else {
            throw MySQLWireError.truncated("server greeting")
        }
        var out = ByteBuffer()
        out.writeImmutableBuffer(payload)
        let base = out.readerIndex
        let low = out.getInteger(at: base + lowOffset, endianness: .little, as: UInt16.self) ?? 0
        let high = out.getInteger(at: base + lowOffset + 5, endianness: .little, as: UInt16.self) ?? 0
        let extendedOffset = lowOffset + 2 + 1 + 2 + 2 + 1 + 6
        let extended = out.getInteger(at: base + extendedOffset, endianness: .little, as: UInt32.self) ?? 0
        var caps = UInt64(low) | UInt64(high) << 16
        let isMariaDB = caps & MySQLCapabilities.clientMySQL.rawValue == 0
        if isMariaDB { caps |= UInt64(extended) << 32 }
        let masked = MySQLCapabilities(rawValue: caps).masked(tls: tls).rawValue
        out.setInteger(UInt16(truncatingIfNeeded: masked), at: base + lowOffset, endianness: .little)
        out.setInteger(UInt16(truncatingIfNeeded: masked >> 16), at: base + lowOffset + 5, endianness: .little)
        if isMariaDB {
            out.setInteger(UInt32(truncatingIfNeeded: masked >> 32), at: base + extendedOffset, endianness: .little)
        }
        return out
    }
}
