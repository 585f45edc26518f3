import NIOCore

/// The untyped packets a client may send before the typed protocol starts.
public enum PostgresStartupPacket: Sendable, Hashable {
    /// SSLRequest (80877103): the client asks for TLS.
    case sslRequest
    /// GSSENCRequest (80877104): the client asks for GSSAPI encryption.
    case gssEncryptionRequest
    /// CancelRequest (80877102) with the key the client got in BackendKeyData.
    case cancelRequest(processID: Int32, secretKey: Int32)
    /// StartupMessage: protocol version and parameters in the order sent.
    case startup(StartupMessage)
}

/// A StartupMessage: protocol version (major << 16 | minor) and `name → value` parameters in wire order.
public struct StartupMessage: Sendable, Hashable {
    public var protocolVersion: Int32
    public var parameters: [(name: String, value: String)]

    public init(protocolVersion: Int32 = 0x0003_0000, parameters: [(name: String, value: String)]) {
        self.protocolVersion = protocolVersion
        self.parameters = parameters
    }

    public var majorVersion: Int32 { protocolVersion >> 16 }
    public var minorVersion: Int32 { protocolVersion & 0xFFFF }

    /// The value of the first parameter called `name`.
    public func value(of name: String) -> String? {
        parameters.first { $0.name == name }?.value
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.protocolVersion == rhs.protocolVersion && lhs.parameters.elementsEqual(rhs.parameters) { $0 == $1 }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(protocolVersion)
        for p in parameters {
            hasher.combine(p.name)
            hasher.combine(p.value)
        }
    }
}

/// Decodes the startup phase: `Int32 length, Int32 code, …`. Lengths below 8 or above 10,000 bytes are errors (the
/// server's own limit), so a hostile first packet cannot make the proxy buffer much.
public struct PostgresStartupDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = PostgresStartupPacket

    public static let sslRequestCode: Int32 = 80_877_103
    public static let gssEncryptionRequestCode: Int32 = 80_877_104
    public static let cancelRequestCode: Int32 = 80_877_102
    public static let maximumLength = 10_000

    public init() {}

    public mutating func decode(buffer: inout ByteBuffer) throws -> PostgresStartupPacket? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Int32.self) else { return nil }
        guard length >= 8, length <= Self.maximumLength else {
            throw PostgresWireError(.invalidStartupLength, "invalid startup packet length \(length)")
        }
        guard var packet = buffer.readSlice(length: Int(length)) else { return nil }
        packet.moveReaderIndex(forwardBy: 4)
        guard let code = packet.readInteger(endianness: .big, as: Int32.self) else {
            throw PostgresWireError(.malformedStartupPacket, "startup packet truncated")
        }
        switch code {
        case Self.sslRequestCode:
            return .sslRequest
        case Self.gssEncryptionRequestCode:
            return .gssEncryptionRequest
        case Self.cancelRequestCode:
            guard let (pid, secret) = packet.readMultipleIntegers(endianness: .big, as: (Int32, Int32).self) else {
                throw PostgresWireError(.malformedStartupPacket, "cancel request too short")
            }
            return .cancelRequest(processID: pid, secretKey: secret)
        default:
            guard code >> 16 == 3 else {
                throw PostgresWireError(
                    .unsupportedProtocolVersion,
                    "unsupported frontend protocol \(code >> 16).\(code & 0xFFFF): server supports 3.0 to 3.0"
                )
            }
            var parameters: [(name: String, value: String)] = []
            while true {
                guard let name = packet.readPostgresCString() else {
                    throw PostgresWireError(.malformedStartupPacket, "startup packet parameters are not NUL-terminated")
                }
                if name.isEmpty { break }
                guard let value = packet.readPostgresCString() else {
                    throw PostgresWireError(.malformedStartupPacket, "startup parameter \"\(name)\" has no value")
                }
                parameters.append((name, value))
            }
            return .startup(StartupMessage(protocolVersion: code, parameters: parameters))
        }
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> PostgresStartupPacket? {
        try self.decode(buffer: &buffer)
    }
}
