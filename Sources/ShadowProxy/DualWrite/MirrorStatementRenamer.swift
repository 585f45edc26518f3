import ShadowConfig
import ShadowSQL

/// How one stream spells a captured statement for its mirror: the columns of tables in `columns:` renamed first
/// (the keys are the names the primary ran), then the tables in `tables:`. Pure; one per stream.
public struct MirrorStatementRenamer: Sendable {
    /// The statement for the mirror, or why it cannot be translated faithfully.
    public enum Outcome: Sendable, Equatable {
        case sql(String)
        /// A renamed column's table could not be determined: mirroring this statement could silently diverge, so the
        /// stream stops (`RESYNC_NEEDED`) with this reason.
        case uncertain(String)
    }

    private let dialect: SQLDialect
    private let columns: ColumnRenamer
    /// Only writes are renamed; every other table keeps its name on the mirror.
    private let tables: LaneMapping?

    public init(configuration: DualWriteConfiguration, dialect: SQLDialect) {
        self.dialect = dialect
        self.columns = ColumnRenamer(dialect: dialect, columns: configuration.columns)
        self.tables =
            configuration.tables.isEmpty
            ? nil
            : LaneMapping(
                lane: "mirror of \(configuration.lane)", tables: configuration.tables, unmappedWrites: .pass,
                unmappedReads: .pass, caseSensitiveNames: dialect == .postgres)
    }

    /// `sql` as the mirror must run it. `warn` receives the reason when the table renamer cannot read a statement
    /// (it is then mirrored with its tables as executed, as a statement it cannot read names no table it could map).
    public func rename(_ sql: String, warn: (String) -> Void) -> Outcome {
        var text = sql
        switch self.columns.rename(sql) {
        case .unchanged: break
        case .rewritten(let renamed): text = renamed
        case .uncertain(let reason): return .uncertain(reason)
        }
        guard let tables else { return .sql(text) }
        var rewriter = SQLRewriter(dialect: self.dialect)
        switch rewriter.rewrite(Array(text.utf8), lane: tables) {
        case .unchanged: return .sql(text)
        case .rewritten(let bytes, _): return .sql(String(decoding: bytes, as: UTF8.self))
        case .refused(let refusal):
            warn(refusal.message)
            return .sql(text)
        }
    }
}
