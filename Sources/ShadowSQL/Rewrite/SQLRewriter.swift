/// Rewrites statements for a lane: renames every table reference to its shadow, or refuses.
/// Reuse one instance per connection: its scratch buffers keep their capacity between calls.
public struct SQLRewriter: Sendable {
    public let dialect: SQLDialect

    public init(dialect: SQLDialect) {
        self.dialect = dialect
    }

    /// Rewrites the statements in `sql` for `lane`.
    public mutating func rewrite(_ sql: UnsafeRawBufferPointer, lane: LaneMapping) -> RewriteOutcome {
        // PLACEHOLDER until the engine lands: it changes nothing.
        .unchanged(StatementSummary(kinds: []))
    }

    /// Convenience over byte arrays.
    public mutating func rewrite(_ sql: [UInt8], lane: LaneMapping) -> RewriteOutcome {
        sql.withUnsafeBytes { self.rewrite($0, lane: lane) }
    }

    /// Convenience over strings (tests, CLI).
    public mutating func rewrite(_ sql: String, lane: LaneMapping) -> RewriteOutcome {
        self.rewrite(Array(sql.utf8), lane: lane)
    }
}
