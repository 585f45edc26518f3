/// The SQL dialect a statement is written in; it decides quoting, comments and identifier folding.
public enum SQLDialect: String, Sendable, Hashable, CaseIterable {
    case mysql
    case postgres
}

/// What a lane does with statements that touch a table it has no shadow mapping for.
public enum UnmappedTablePolicy: String, Sendable, Hashable {
    /// Refuse the statement with an error naming the table, lane and rule (fail closed).
    case reject
    /// Let the statement touch the base table unchanged (shared reference data).
    case pass
}

/// How one non-base lane renames tables and databases. A pure value built by ShadowConfig and
/// consumed by ``SQLRewriter``; it carries no I/O and no configuration-file positions.
public struct LaneMapping: Sendable, Hashable {
    /// The lane's name, used in refusal messages (`gray`, `stress`).
    public var lane: String
    /// Explicit base table → shadow table entries. They win over ``tableSuffix``.
    /// Keys may be qualified (`db.t`) or bare (`t`); a bare key matches the table in any database.
    public var tables: [String: String]
    /// The default rule `T → T + suffix`, applied to tables without an explicit entry. `nil` means no rule.
    public var tableSuffix: String?
    /// Database (MySQL) or schema (PostgreSQL) redirects: `mse_demo → mse_demo_gray`.
    public var databases: [String: String]
    /// Qualify unqualified table names into this database/schema (the "shadow schema" mode). `nil` leaves them.
    public var defaultDatabase: String?
    /// What to do with writes and DDL on tables with no mapping. Default: refuse.
    public var unmappedWrites: UnmappedTablePolicy
    /// What to do with reads of tables with no mapping. Default: pass (shared reference data).
    public var unmappedReads: UnmappedTablePolicy
    /// Procedures and functions whose bodies the operator vouches for; calling any other routine in this lane is refused.
    public var allowedRoutines: Set<String>
    /// Tables that are deliberately shared with base and never renamed (reads and writes pass).
    public var sharedTables: Set<String>
    /// Whether table names compare case-sensitively (MySQL with lower_case_table_names=0). PostgreSQL folds
    /// unquoted names to lower case regardless and compares the folded form exactly.
    public var caseSensitiveNames: Bool

    public init(
        lane: String,
        tables: [String: String] = [:],
        tableSuffix: String? = nil,
        databases: [String: String] = [:],
        defaultDatabase: String? = nil,
        unmappedWrites: UnmappedTablePolicy = .reject,
        unmappedReads: UnmappedTablePolicy = .pass,
        allowedRoutines: Set<String> = [],
        sharedTables: Set<String> = [],
        caseSensitiveNames: Bool = false
    ) {
        self.lane = lane
        self.tables = tables
        self.tableSuffix = tableSuffix
        self.databases = databases
        self.defaultDatabase = defaultDatabase
        self.unmappedWrites = unmappedWrites
        self.unmappedReads = unmappedReads
        self.allowedRoutines = allowedRoutines
        self.sharedTables = sharedTables
        self.caseSensitiveNames = caseSensitiveNames
    }
}
