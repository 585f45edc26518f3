import ShadowSQL

/// Writes the statements that make the shadow table match base: INSERT for rows missing in the shadow, UPDATE of
/// the changed columns, DELETE for extra rows. Only the shadow side is ever written. Values are the base side's
/// own text forms, escaped by ``SQLText`` (binary as hex); generated columns are left to the server.
public struct RepairPlanner: Sendable {
    /// Statements for the shadow side, built against its own column types.
    public let shadow: TableQueries
    /// The compared columns (same order as the values in each ``RowDifference``).
    public let columns: [ColumnInfo]
    /// The names a ``RowDifference`` gives the compared columns, in the same order: base's names, which differ from
    /// the shadow's under a column map (a dual-write mirror's `columns:`).
    public let differenceColumnNames: [String]

    /// `columnNames`: base's names of the compared columns, when they differ from the shadow's.
    public init(shadow: TableQueries, columnNames: [String]? = nil) {
        self.shadow = shadow
        self.columns = shadow.columns
        self.differenceColumnNames = columnNames.flatMap { $0.count == shadow.columns.count ? $0 : nil } ?? shadow.columns.map(\.name)
    }

    private var dialect: SQLDialect { shadow.dialect }
    private var target: String { shadow.table.sql(dialect) }

    /// The statements for one difference (several for a duplicated keyless row).
    public func statements(for difference: RowDifference) -> [String] {
        switch difference.kind {
        case .missing:
            guard let values = difference.baseValues else { return [] }
            return Array(repeating: insert(values), count: max(1, difference.count))
        case .extra:
            if shadow.key.isEmpty { return [deleteByDigest(difference.key.first ?? "", count: difference.count)] }
            return ["DELETE FROM \(target) WHERE \(keyCondition(difference.key))"]
        case .changed:
            guard let values = difference.baseValues else { return [] }
            let assignments = difference.columns.compactMap { name -> String? in
                guard let index = differenceColumnNames.firstIndex(of: name), !columns[index].isGenerated else { return nil }
                let column = columns[index]
                return "\(SQLText.identifier(column.name, dialect)) = \(shadow.literal(values[index], for: column))"
            }
            guard !assignments.isEmpty else { return [] }
            return ["UPDATE \(target) SET \(assignments.joined(separator: ", ")) WHERE \(keyCondition(difference.key))"]
        }
    }

    func insert(_ values: [String?]) -> String {
        let writable = columns.indices.filter { !columns[$0].isGenerated }
        let names = writable.map { SQLText.identifier(columns[$0].name, dialect) }.joined(separator: ", ")
        let literals = writable.map { shadow.literal(values[$0], for: columns[$0]) }.joined(separator: ", ")
        // A PostgreSQL GENERATED ALWAYS identity column refuses explicit values unless told to take them.
        let overriding = dialect == .postgres && columns.contains { $0.identity == "a" } ? " OVERRIDING SYSTEM VALUE" : ""
        return "INSERT INTO \(target) (\(names))\(overriding) VALUES (\(literals))"
    }

    func keyCondition(_ key: KeyValue) -> String {
        zip(shadow.key, key).map { column, value in
            "\(SQLText.identifier(column.name, dialect)) = \(shadow.literal(value, for: column))"
        }.joined(separator: " AND ")
    }

    /// Deletes `count` of the identical keyless rows with this digest, and no more.
    func deleteByDigest(_ digest: String, count: Int) -> String {
        let literal = SQLText.literal(digest, dialect)
        switch dialect {
        case .mysql:
            return "DELETE FROM \(target) WHERE \(shadow.rowDigest) = \(literal) LIMIT \(max(1, count))"
        case .postgres:
            return "DELETE FROM \(target) WHERE ctid IN (SELECT ctid FROM \(target) WHERE \(shadow.rowDigest) = \(literal) "
                + "LIMIT \(max(1, count)))"
        }
    }

    /// Groups statements into transactions of at most `batchSize` statements each.
    public static func batches(_ statements: [String], batchSize: Int) -> [[String]] {
        stride(from: 0, to: statements.count, by: max(1, batchSize)).map {
            Array(statements[$0..<min($0 + max(1, batchSize), statements.count)])
        }
    }

    /// The printable script: the session's time zone set to UTC (instants are written as UTC text, as the diff's
    /// sessions read them), then each batch wrapped in a transaction, statements terminated by `;`.
    public static func script(_ batches: [[String]], dialect: SQLDialect) -> String {
        guard !batches.isEmpty else { return "" }
        let begin = dialect == .mysql ? "START TRANSACTION;" : "BEGIN;"
        let zone = dialect == .mysql ? "SET time_zone = '+00:00';" : "SET TIME ZONE 'UTC';"
        return ([zone] + batches.map { batch in
            ([begin] + batch.map { $0 + ";" } + ["COMMIT;"]).joined(separator: "\n")
        }).joined(separator: "\n") + "\n"
    }
}
