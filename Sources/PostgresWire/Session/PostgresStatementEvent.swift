import NIOCore
import ShadowSQL

/// What the session state machine decided about the last SQL text a client sent (Query, Parse or FunctionCall),
/// for metrics, statistics and logs. The state machine only records it; the glue reads it after each step.
public struct PostgresStatementEvent: Sendable {
    /// What happened to the statement.
    public enum Outcome: Sendable {
        /// Sent to the server as the client wrote it.
        case forwarded
        /// Sent with renamed tables; `rewritten` is the text the server got.
        case rewritten([UInt8])
        /// Not sent; the client gets this refusal.
        case refused(Refusal)
    }

    /// The lane the statement ran (or was refused) in.
    public var lane: String
    /// The client's SQL text (empty for a FunctionCall).
    public var sql: ByteBuffer
    public var outcome: Outcome
    /// Whether the lane came from a per-statement hint.
    public var hinted: Bool
}
