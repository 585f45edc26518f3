import NIOCore

/// A protocol violation or limit breach on one connection. It ends only that connection; ``message`` says what was
/// wrong and, where it helps, what to change (for example the listener's `max_message_size`).
public struct PostgresWireError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of violation it is, so callers can pick a SQLSTATE without matching on text.
    public enum Code: String, Sendable, Hashable {
        /// A startup-phase packet shorter than 8 or longer than 10,000 bytes.
        case invalidStartupLength
        /// A startup packet with a protocol version the proxy does not speak (not 3.x).
        case unsupportedProtocolVersion
        /// A startup packet whose parameter list is not NUL-terminated pairs.
        case malformedStartupPacket
        /// A typed message whose length field is below 4.
        case invalidMessageLength
        /// A typed message larger than the configured maximum.
        case messageTooLarge
        /// A message whose body does not match its type's layout.
        case malformedMessage
        /// A message that is not allowed in the current protocol state (e.g. CopyData outside COPY).
        case unexpectedMessage
        /// Plaintext bytes were sent after an SSLRequest was accepted and before TLS started.
        case plaintextAfterSSLRequest
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
