/// Renames the columns of configured tables in a statement, for a dual-write mirror whose tables have new column
/// names (`dual_write.columns`). It runs on the statement as the primary executed it — table and column keys are the
/// primary's names — before the tables themselves are renamed.
///
/// It never guesses. A column it cannot attribute to exactly one table is reported as ``Outcome/uncertain(_:)`` with
/// the reason, and the caller stops mirroring rather than send the mirror a statement that may be silently wrong:
/// an unqualified mapped column in a statement naming several tables, a qualifier that is not a table of the
/// statement (a derived table or CTE), an INSERT without a column list into a mapped table, `*` in a select list, and
/// DDL that names a mapped column.
public struct ColumnRenamer: Sendable {
    /// What became of one statement text.
    public enum Outcome: Sendable, Equatable {
        /// No mapped column appears: mirror the text as it is.
        case unchanged
        /// The text with mapped columns renamed.
        case rewritten(String)
        /// A mapped column's table could not be determined; the reason names the column and what to change.
        case uncertain(String)
    }

    public let dialect: SQLDialect
    /// Normalized table name → (normalized column → the mirror's column name as configured).
    let maps: [[UInt8]: [[UInt8]: [UInt8]]]

    /// `columns`: table name (as the primary runs it; a `db.` prefix is ignored) → (column → mirror column).
    /// Names compare as the server compares them: MySQL case-insensitively, PostgreSQL after folding unquoted names.
    public init(dialect: SQLDialect, columns: [String: [String: String]]) {
        self.dialect = dialect
        var maps: [[UInt8]: [[UInt8]: [UInt8]]] = [:]
        for (table, renames) in columns where !renames.isEmpty {
            let bare = table.split(separator: ".").last.map(String.init) ?? table
            var map: [[UInt8]: [UInt8]] = [:]
            for (from, to) in renames { map[Self.normalize(from, dialect)] = Array(to.utf8) }
            maps[Self.normalize(bare, dialect), default: [:]].merge(map) { first, _ in first }
        }
        self.maps = maps
    }

    /// Whether no column is renamed (then ``rename(_:)`` always answers ``Outcome/unchanged``).
    public var isEmpty: Bool { self.maps.isEmpty }

    /// Renames the mapped columns of every statement in `sql`.
    public func rename(_ sql: String) -> Outcome {
        guard !self.maps.isEmpty else { return .unchanged }
        let bytes = Array(sql.utf8)
        return bytes.withUnsafeBytes { buffer -> Outcome in
            var tokens: [SignificantToken] = []
            if SignificantTokens.collect(buffer, dialect: self.dialect, into: &tokens).contains(.unterminated) {
                return .uncertain("the statement has an unterminated string, quoted name or comment")
            }
            let text = IdentifierText(bytes: buffer, dialect: self.dialect, caseSensitive: false)
            var analyzer = StatementAnalyzer()
            var plan = RewritePlan()
            var start = 0
            for index in 0...tokens.count where index == tokens.count || tokens[index].kind == .semicolon {
                if index > start {
                    analyzer.analyze(tokens, range: start..<index, text: text)
                    var statement = ColumnStatement(
                        renamer: self, tokens: tokens, range: start..<index, analysis: analyzer.result, text: text)
                    if let reason = statement.plan(into: &plan) { return .uncertain(reason) }
                }
                start = index + 1
            }
            guard !plan.isEmpty else { return .unchanged }
            guard let output = plan.apply(to: buffer) else {
                return .uncertain("overlapping column references could not be renamed")
            }
            return .rewritten(String(decoding: output, as: UTF8.self))
        }
    }

    static func normalize(_ name: String, _ dialect: SQLDialect) -> [UInt8] {
        dialect == .mysql ? Array(name.utf8).map(ByteClass.lower) : Array(name.utf8)
    }
}
