import NIOCore

/// Why a MySQL packet or exchange could not be understood. Every case ends only the connection it happened on;
/// the message says what was wrong so the operator can find the misbehaving peer.
public struct MySQLWireError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The class of failure, for metrics and tests.
    public enum Code: String, Sendable, Hashable {
        /// A logical packet exceeds the configured maximum size.
        case packetTooLarge
        /// A packet ended before a field it must contain.
        case truncated
        /// A field holds a value the protocol does not allow (e.g. a 0xFF length-encoded integer).
        case invalidValue
        /// A peer sent a packet the current protocol phase does not expect.
        case unexpectedPacket
        /// A sequence id did not follow the previous one.
        case badSequence
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    static func truncated(_ what: String) -> MySQLWireError {
        MySQLWireError(.truncated, "packet ended inside \(what)")
    }
}
