/// A log sequence number: the position of a record in the replay log. Strictly increasing, starting at 1;
/// 0 means "nothing" (an empty log, a checkpoint before the first record).
public typealias LSN = UInt64

/// One write the primary acknowledged, to be replayed into a mirror: the unit of append, CRC and apply.
///
/// A record is applied in one mirror transaction, so a client transaction's statements belong in one record.
public struct ReplayRecord: Sendable, Hashable {
    /// Assigned by the writer at append time; the value passed to `append` is ignored.
    public var lsn: LSN
    /// When the primary acknowledged the write, in microseconds since the Unix epoch.
    public var timestampMicros: Int64
    /// The proxy's client connection id, for tracing a record back to a session.
    public var connectionID: UInt64
    /// The proxy's transaction counter for that connection (0 for autocommit statements).
    public var transactionID: UInt64
    /// Which protocol the statements are written in.
    public var dialect: ReplayDialect
    /// Which mirror the record is for (a name from the configuration).
    public var target: String
    /// Facts the applier and operators need to know, e.g. that a statement is non-deterministic.
    public var flags: ReplayRecordFlags
    /// The statements, in the order the primary executed them. Never empty in a valid record.
    public var statements: [ReplayStatement]

    public init(
        lsn: LSN = 0, timestampMicros: Int64, connectionID: UInt64, transactionID: UInt64,
        dialect: ReplayDialect, target: String, flags: ReplayRecordFlags = [], statements: [ReplayStatement]
    ) {
        self.lsn = lsn
        self.timestampMicros = timestampMicros
        self.connectionID = connectionID
        self.transactionID = transactionID
        self.dialect = dialect
        self.target = target
        self.flags = flags
        self.statements = statements
    }
}

/// The SQL dialect of a record's statements; decides how the applier talks to the mirror.
public enum ReplayDialect: UInt8, Sendable, Hashable, CaseIterable {
    case mysql = 1
    case postgres = 2
}

/// Flags describing a record. Stored as 16 bits; unknown bits are kept so a newer writer's flags survive a round trip.
public struct ReplayRecordFlags: OptionSet, Sendable, Hashable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// A statement calls something whose result the mirror will compute differently (RAND(), UUID(), NOW() without
    /// a logged timestamp, nextval() on PostgreSQL): the mirror may diverge, so operators see it flagged.
    public static let nonDeterministic = ReplayRecordFlags(rawValue: 1 << 0)
    /// The statements ran as an explicit multi-statement transaction on the primary.
    public static let explicitTransaction = ReplayRecordFlags(rawValue: 1 << 1)
}

/// One statement of a record, with the parameters and session context it needs to replay identically.
public struct ReplayStatement: Sendable, Hashable {
    /// The SQL text as the primary received it (placeholders `?` or `$n` when `parameters` is not nil).
    public var sql: String
    /// Bound values of a prepared statement; nil for a plain text statement.
    public var parameters: [ReplayValue]?
    /// Session state the statement depended on.
    public var context: ReplayContext

    public init(sql: String, parameters: [ReplayValue]? = nil, context: ReplayContext = ReplayContext()) {
        self.sql = sql
        self.parameters = parameters
        self.context = context
    }
}

/// A typed parameter value of a prepared statement.
public enum ReplayValue: Sendable, Hashable {
    case null
    case int64(Int64)
    case double(Double)
    case text(String)
    case bytes([UInt8])
}

/// Session state a statement depended on, replayed before it so the mirror computes the same values.
public struct ReplayContext: Sendable, Hashable {
    /// MySQL: the auto-increment value the primary used (`SET INSERT_ID`).
    public var insertID: UInt64?
    /// MySQL: `LAST_INSERT_ID()` as the statement saw it (`SET LAST_INSERT_ID`).
    public var lastInsertID: UInt64?
    /// MySQL: the statement's `NOW()` in microseconds since the epoch (`SET TIMESTAMP`).
    public var timestampMicros: Int64?
    /// The current database (MySQL) or schema (PostgreSQL `search_path`) when the statement ran.
    public var schema: String?

    public init(insertID: UInt64? = nil, lastInsertID: UInt64? = nil, timestampMicros: Int64? = nil, schema: String? = nil) {
        self.insertID = insertID
        self.lastInsertID = lastInsertID
        self.timestampMicros = timestampMicros
        self.schema = schema
    }
}
