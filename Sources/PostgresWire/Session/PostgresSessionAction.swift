import NIOCore
import ShadowConfig
import ShadowSQL

/// What the glue must do after a startup-phase packet.
public enum PostgresStartupAction: Sendable {
    /// Write these bytes to the client and keep reading startup packets (`N` to SSLRequest/GSSENCRequest).
    case reply(ByteBuffer)
    /// Write `S`, then start TLS on the client connection and read startup packets again.
    case startTLS
    /// Forward a cancel to the backend that owns this proxy-issued key, then close.
    case cancel(processID: Int32, secretKey: Int32)
    /// Connect to `backend`, send `startup`; write `clientPreamble` (NegotiateProtocolVersion) to the client first.
    case connect(backend: Endpoint, startup: ByteBuffer, clientPreamble: ByteBuffer?)
    /// Write this FATAL ErrorResponse to the client and close.
    case reject(ByteBuffer)
}

/// What the glue must do with a client message in the authentication or command phase.
public enum PostgresFrontendAction: Sendable {
    /// Send the message's original bytes to the backend.
    case forward
    /// Send these bytes to the backend instead of the message.
    case send(ByteBuffer)
    /// Send nothing: copy data the server would drop anyway, after the proxy failed the COPY it belonged to.
    case discard
    /// Send the original bytes (Terminate), then close both connections.
    case forwardAndClose
    /// Answer the client with an 08P01 ErrorResponse carrying this error, then close both connections.
    case protocolViolation(PostgresWireError)
}

/// What the glue must do with a backend message.
public enum PostgresBackendAction: Sendable {
    /// Relay the original bytes to the client.
    case forward
    /// Relay these bytes instead.
    case replace(ByteBuffer)
    /// Record the backend's real key, issue the client a proxy key (BackendKeyData) instead.
    case issueCancelKey(processID: Int32, secretKey: Int32)
    /// Relay the original bytes; the session just became ready for the first time (handshake done).
    case forwardHandshakeComplete
    /// The backend broke the protocol: close both connections.
    case protocolViolation(PostgresWireError)
}
