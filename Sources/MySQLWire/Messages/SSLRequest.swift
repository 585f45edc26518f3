import NIOCore

/// SSLRequest: the first 32 bytes of a handshake response with CLIENT_SSL set, sent before the TLS handshake
/// (https://mariadb.com/kb/en/connection/#sslrequest-packet).
public enum SSLRequest {
    /// The payload length of an SSLRequest.
    public static let length = 32

    /// Whether a client's first packet after the greeting is an SSLRequest rather than a full response.
    public static func isSSLRequest(_ payload: ByteBuffer) -> Bool {
        guard payload.readableBytes == length,
              let caps = payload.getInteger(at: payload.readerIndex, endianness: .little, as: UInt32.self)
        else { return false }
        return caps & UInt32(MySQLCapabilities.ssl.rawValue) != 0
    }

    /// Encodes an SSLRequest carrying `response`'s capabilities, for TLS towards a backend.
    public static func encode(from response: HandshakeResponse41) -> ByteBuffer {
        var full = response.encode()
        return full.readSlice(length: length) ?? ByteBuffer()
    }
}
