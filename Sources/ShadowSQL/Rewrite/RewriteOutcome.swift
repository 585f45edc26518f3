/// The result of rewriting one buffer (one or more statements) for a lane.
public enum RewriteOutcome: Sendable, Hashable {
    /// Nothing needed renaming: forward the original bytes untouched.
    case unchanged(StatementSummary)
    /// The rewritten statement text; every byte that was not renamed is preserved.
    case rewritten([UInt8], StatementSummary)
    /// The lane cannot run this safely; answer the client with an error instead of sending anything.
    case refused(Refusal)
}

/// What the rewriter learned about the statements in a buffer, in order.
public struct StatementSummary: Sendable, Hashable {
    /// One entry per statement in the buffer.
    public var kinds: [StatementKind]

    public init(kinds: [StatementKind]) {
        self.kinds = kinds
    }
}

/// Why a statement was refused in a lane. Rendered by the proxies as a MySQL ERR packet or a PostgreSQL
/// ErrorResponse; ``message`` names the table, the lane and the rule, and says how to allow it.
public struct Refusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// The configuration rule that caused the refusal.
    public enum Rule: String, Sendable, Hashable {
        /// A write or DDL touches a table without a shadow mapping (`unmapped_writes: reject`).
        case unmappedWrites = "unmapped_writes"
        /// A read touches a table without a shadow mapping (`unmapped_reads: reject`).
        case unmappedReads = "unmapped_reads"
        /// A procedure or function whose body cannot be seen is called (`routines`).
        case routines
        /// The statement could not be analysed with confidence (unterminated input, unknown shape).
        case unanalysable
        /// The statement needs something the lane cannot provide per statement (e.g. another server).
        case unsupported
    }

    public var lane: String
    public var table: String?
    public var rule: Rule
    public var message: String

    public init(lane: String, table: String?, rule: Rule, message: String) {
        self.lane = lane
        self.table = table
        self.rule = rule
        self.message = message
    }

    public var description: String { message }
}
