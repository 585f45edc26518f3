/// A table named by a statement: `[qualifier.]name`, as indices into the significant-token array.
struct TableReference: Sendable {
    /// Index of the database/schema token, or -1.
    var qualifier: Int
    /// Index of the table-name token.
    var name: Int
    /// Paren depth where it appeared (aliases only hide deferred targets at the same depth).
    var depth: Int
    /// The new name of `RENAME … TO` / `ALTER TABLE … RENAME TO`: PostgreSQL forbids a schema there.
    var isRenameTarget: Bool
    /// A MySQL multi-table DELETE target, which may be an alias declared later in the statement.
    var mayBeAlias: Bool
    /// Whether the reference declared an alias (then `name.col` cannot refer to it).
    var hasAlias: Bool
}

/// `t.col`, `db.t.col` or `FOR UPDATE OF t`: a place where a table name qualifies something else.
struct QualifierReference: Sendable {
    /// Index of the database token, or -1.
    var database: Int
    /// Index of the table token.
    var table: Int
}

/// Why a statement cannot be analysed or run in a lane; turned into a ``Refusal`` by the rewriter.
enum AnalysisProblem: Sendable, Equatable {
    /// Unterminated input, an unknown statement, or a token where a table name must be.
    case unanalysable(String)
    /// A statement shape the lane cannot isolate (CREATE FUNCTION, GRANT, PREPARE … FROM, DO).
    case unsupported(String)
}

/// `name(…)` or `schema.name(…)` in an expression or a FROM list: a function the statement calls, unless the name
/// turns out to be SQL syntax (`IN (`, `varchar(10)`), which ``BuiltinRoutines`` tells apart.
struct RoutineCall: Sendable {
    /// Index of the schema/database token, or -1.
    var qualifier: Int
    /// Index of the name token.
    var name: Int
}

/// What the analyzer learned about one statement. Arrays keep their capacity between statements.
struct StatementAnalysis: Sendable {
    var kind: StatementKind = .other
    /// Whether unmapped tables follow `unmapped_writes` (true) or `unmapped_reads` (false).
    var policyIsWrite = false
    var problem: AnalysisProblem?
    var tables: [TableReference] = []
    var qualifiers: [QualifierReference] = []
    /// Every `name(` that may be a function call, in statement order.
    var calls: [RoutineCall] = []
    /// The procedure of a `CALL` (the rewriter checks it against the lane's allow-list; its arguments are walked
    /// like any expression, so their calls and subqueries are checked and renamed too).
    var procedure: RoutineCall?
    /// Alias tokens and their depth.
    var aliases: [(token: Int, depth: Int)] = []
    /// The verb's spelling for messages (`INSERT`, `UPDATE`…), as a keyword.
    var verb: Keyword = .none

    mutating func reset() {
        self.kind = .other
        self.policyIsWrite = false
        self.problem = nil
        self.tables.removeAll(keepingCapacity: true)
        self.qualifiers.removeAll(keepingCapacity: true)
        self.calls.removeAll(keepingCapacity: true)
        self.procedure = nil
        self.aliases.removeAll(keepingCapacity: true)
        self.verb = .none
    }
}
