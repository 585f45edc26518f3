import ShadowSQL

/// Compares an existing shadow table's shape with its base table: columns (type, nullability, default, generated,
/// identity), keys and indexes (by shape, not name), and foreign keys (which must point at the parents' shadows).
/// Differences are reported, never fixed silently.
public enum SchemaComparison {
    /// `sameDatabase`: whether base's sequences are reachable from the shadow (a default naming the same sequence in
    /// another database draws from that database's own sequence, not base's).
    public static func differences(
        base: TableSchema, shadow: TableSchema, dialect: SQLDialect, sameDatabase: Bool = true,
        expectedParent: (TableName) -> TableName?
    ) -> [String] {
        var out: [String] = []
        let prefix = "\(shadow.table) (shadow of \(base.table)):"
        let shadowColumns = Dictionary(shadow.columns.map { ($0.name, $0) }) { first, _ in first }
        let baseNames = Set(base.columns.map(\.name))
        for column in base.columns {
            guard let other = shadowColumns[column.name] else {
                out.append("\(prefix) column \(column.name) is missing")
                continue
            }
            if column.columnType != other.columnType {
                out.append("\(prefix) column \(column.name) is \(other.columnType), base has \(column.columnType)")
            }
            if column.isNullable != other.isNullable {
                out.append("\(prefix) column \(column.name) is \(other.isNullable ? "" : "NOT ")NULL, base is \(column.isNullable ? "" : "NOT ")NULL")
            }
            if column.isGenerated != other.isGenerated {
                out.append("\(prefix) column \(column.name) is \(other.isGenerated ? "" : "not ")generated, base is \(column.isGenerated ? "" : "not ")generated")
            }
            if column.identity != other.identity {
                out.append("\(prefix) column \(column.name) identity is '\(other.identity)', base has '\(column.identity)'")
            }
            out += defaultDifference(column, other, sameDatabase: sameDatabase, prefix: prefix)
        }
        for column in shadow.columns where !baseNames.contains(column.name) {
            out.append("\(prefix) column \(column.name) is not in base")
        }
        let baseIndexes = base.indexes.map(signature).sorted()
        let shadowIndexes = shadow.indexes.map(signature).sorted()
        for index in baseIndexes where !shadowIndexes.contains(index) { out.append("\(prefix) missing \(index)") }
        for index in shadowIndexes where !baseIndexes.contains(index) { out.append("\(prefix) has \(index), base does not") }

        let expected = base.foreignKeys.compactMap { key -> String? in
            guard let parent = expectedParent(key.referencedTable) else { return nil }
            return foreignKeySignature(key, parent: parent)
        }.sorted()
        let actual = shadow.foreignKeys.map { foreignKeySignature($0, parent: $0.referencedTable) }.sorted()
        for key in expected where !actual.contains(key) { out.append("\(prefix) missing \(key)") }
        for key in actual where !expected.contains(key) { out.append("\(prefix) has \(key), which base's keys do not map to") }
        return out
    }

    /// Defaults must match, except that a sequence default must draw from the shadow's own sequence.
    private static func defaultDifference(_ column: ColumnInfo, _ other: ColumnInfo, sameDatabase: Bool, prefix: String) -> [String] {
        let baseDefault = column.defaultExpression ?? ""
        let shadowDefault = other.defaultExpression ?? ""
        if baseDefault.lowercased().contains("nextval("), shadowDefault.lowercased().contains("nextval(") {
            if baseDefault == shadowDefault, sameDatabase {
                return [
                    "\(prefix) column \(column.name) default \(shadowDefault) draws from base's sequence — every insert "
                        + "into the shadow writes to base; give the shadow its own sequence (see docs/shadow-ddl.md)"
                ]
            }
            return []
        }
        if baseDefault != shadowDefault {
            return ["\(prefix) column \(column.name) default is \(shadowDefault.isEmpty ? "none" : shadowDefault), base has \(baseDefault.isEmpty ? "none" : baseDefault)"]
        }
        return []
    }

    private static func signature(_ index: IndexInfo) -> String {
        let kind = index.isPrimary ? "primary key" : index.isUnique ? "unique index" : "index"
        let columns = index.columns.map { $0 ?? "<expression>" }.joined(separator: ", ")
        return "\(kind) (\(columns))" + (index.detail.isEmpty ? "" : " [\(index.detail)]")
    }

    private static func foreignKeySignature(_ key: ForeignKeyInfo, parent: TableName) -> String {
        "foreign key (\(key.columns.joined(separator: ", "))) → \(parent)(\(key.referencedColumns.joined(separator: ", "))) "
            + "on update \(key.onUpdate) on delete \(key.onDelete)"
    }
}
