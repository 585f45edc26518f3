import NIOCore
import ShadowSQL

/// What the session decided for one command that carries or runs SQL (`COM_QUERY`, `COM_STMT_PREPARE`,
/// `COM_STMT_EXECUTE`) or that the proxy refused, for metrics, statistics and logs. Read it with
/// ``MySQLSessionStateMachine/takeStatementEvent()`` after each client packet or queued command.
public struct MySQLStatementEvent: Sendable, Hashable {
    /// What happened to the statement.
    public enum Outcome: Sendable, Hashable {
        /// Sent to the server as the client wrote it.
        case forwarded
        /// Sent with renamed tables (or a mapped database); the text the server got.
        case rewritten([UInt8])
        /// Not sent; the client got this refusal as an ERR.
        case refused(Refusal)
    }

    /// The lane reported for a statement whose lane name is not configured (keeps metric labels bounded).
    public static let unknownLane = "(unknown)"

    /// The lane the statement ran (or was refused) in, or ``unknownLane``.
    public var lane: String
    /// The client's SQL text; empty for a command without text (an execute, a refused non-SQL command).
    public var sql: ByteBuffer
    public var outcome: Outcome

    public init(lane: String, sql: ByteBuffer, outcome: Outcome) {
        self.lane = lane
        self.sql = sql
        self.outcome = outcome
    }
}
