import NIOCore

/// A typed frontend (client → server) message of the command phase, parsed only as far as the proxy needs.
/// SQL text stays a ``ByteBuffer`` slice so the hint scan and the rewriter read it in place.
public enum FrontendMessage: Sendable, Hashable {
    /// `Q`: simple query; the SQL without its NUL terminator.
    case query(sql: ByteBuffer)
    /// `P`: Parse; `parameterTypes` is the raw tail (Int16 count + OIDs), re-sent verbatim after a rewrite.
    case parse(statement: String, sql: ByteBuffer, parameterTypes: ByteBuffer)
    /// `B`: Bind; only the names are parsed, the rest is forwarded verbatim.
    case bind(portal: String, statement: String)
    /// `D`: Describe a statement (`S`) or portal (`P`).
    case describe(kind: UInt8, name: String)
    /// `E`: Execute a portal.
    case execute(portal: String, maxRows: Int32)
    /// `C`: Close a statement (`S`) or portal (`P`).
    case close(kind: UInt8, name: String)
    /// `S`: Sync.
    case sync
    /// `H`: Flush.
    case flush
    /// `d`: CopyData (opaque).
    case copyData
    /// `c`: CopyDone.
    case copyDone
    /// `f`: CopyFail.
    case copyFail
    /// `F`: FunctionCall (opaque).
    case functionCall
    /// `p`: PasswordMessage, SASLInitialResponse or SASLResponse (opaque: the proxy never reads passwords).
    case authenticationResponse
    /// `X`: Terminate.
    case terminate

    /// Parses a frame's body. Unknown type bytes and bodies that do not match their layout are errors.
    public init(frame: PostgresFrame) throws {
        var body = frame.body
        func malformed() -> PostgresWireError {
            PostgresWireError(.malformedMessage, "malformed '\(frame.name)' message")
        }
        switch frame.id {
        case UInt8(ascii: "Q"):
            guard let sql = body.readPostgresCStringSlice() else { throw malformed() }
            self = .query(sql: sql)
        case UInt8(ascii: "P"):
            guard let name = body.readPostgresCString(), let sql = body.readPostgresCStringSlice(),
                body.readableBytes >= 2
            else { throw malformed() }
            self = .parse(statement: name, sql: sql, parameterTypes: body)
        case UInt8(ascii: "B"):
            guard let portal = body.readPostgresCString(), let statement = body.readPostgresCString() else {
                throw malformed()
            }
            self = .bind(portal: portal, statement: statement)
        case UInt8(ascii: "D"), UInt8(ascii: "C"):
            guard let kind = body.readInteger(as: UInt8.self), kind == UInt8(ascii: "S") || kind == UInt8(ascii: "P"),
                let name = body.readPostgresCString()
            else { throw malformed() }
            self = frame.id == UInt8(ascii: "D") ? .describe(kind: kind, name: name) : .close(kind: kind, name: name)
        case UInt8(ascii: "E"):
            guard let portal = body.readPostgresCString(), let rows = body.readInteger(endianness: .big, as: Int32.self)
            else { throw malformed() }
            self = .execute(portal: portal, maxRows: rows)
        case UInt8(ascii: "S"): self = .sync
        case UInt8(ascii: "H"): self = .flush
        case UInt8(ascii: "d"): self = .copyData
        case UInt8(ascii: "c"): self = .copyDone
        case UInt8(ascii: "f"): self = .copyFail
        case UInt8(ascii: "F"): self = .functionCall
        case UInt8(ascii: "p"): self = .authenticationResponse
        case UInt8(ascii: "X"): self = .terminate
        default:
            throw PostgresWireError(
                .unexpectedMessage, "invalid frontend message type \(PostgresFrameDecoder.printable(frame.id))")
        }
    }
}
