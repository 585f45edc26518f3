/// One row fetched for comparison: its key, and per compared column the canonical field and the plain value.
public struct FetchedRow: Sendable, Hashable {
    public var key: KeyValue
    /// Canonical encodings (`N`, `V3:abc`), compared for equality.
    public var fields: [String]
    /// Values in the server's text form (binary as hex), for reports and repair.
    public var values: [String?]

    public init(key: KeyValue, fields: [String], values: [String?]) {
        self.key = key
        self.fields = fields
        self.values = values
    }

    /// Reads a row of ``TableQueries/rows(_:)``: `keyCount` key values, then field and value per column.
    public init(columns row: [String?], keyCount: Int) {
        key = row.prefix(keyCount).map { $0 ?? "" }
        var fields: [String] = []
        var values: [String?] = []
        var index = keyCount
        while index < row.count {
            fields.append(row[index] ?? "N")
            values.append(index + 1 < row.count ? row[index + 1] : nil)
            index += 2
        }
        self.fields = fields
        self.values = values
    }
}

/// A row that is not the same on both sides.
public struct RowDifference: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// In base, not in the shadow.
        case missing
        /// In the shadow, not in base.
        case extra
        /// In both, with different values.
        case changed
    }

    public var kind: Kind
    /// The key (for keyless tables: the row digest).
    public var key: KeyValue
    /// For `changed`: the columns whose values differ, in column order.
    public var columns: [String]
    /// Base values (nil for `extra`), one per compared column.
    public var baseValues: [String?]?
    /// Shadow values (nil for `missing`), one per compared column.
    public var shadowValues: [String?]?
    /// How many identical rows this stands for (keyless tables with duplicate rows); 1 otherwise.
    public var count: Int

    public init(
        kind: Kind, key: KeyValue, columns: [String] = [], baseValues: [String?]? = nil, shadowValues: [String?]? = nil,
        count: Int = 1
    ) {
        self.kind = kind
        self.key = key
        self.columns = columns
        self.baseValues = baseValues
        self.shadowValues = shadowValues
        self.count = count
    }
}

/// Compares the rows of one small range, matching them by key (not by position, so the two servers' collation
/// order never matters).
public enum RowComparison {
    public static func compare(base: [FetchedRow], shadow: [FetchedRow], columnNames: [String]) -> [RowDifference] {
        var shadowByKey: [KeyValue: FetchedRow] = [:]
        for row in shadow { shadowByKey[row.key] = row }
        var differences: [RowDifference] = []
        var seen = Set<KeyValue>()
        for row in base {
            seen.insert(row.key)
            guard let other = shadowByKey[row.key] else {
                differences.append(RowDifference(kind: .missing, key: row.key, baseValues: row.values))
                continue
            }
            let changed = zip(columnNames.indices, zip(row.fields, other.fields)).compactMap { index, pair in
                pair.0 == pair.1 ? nil : columnNames[index]
            }
            if !changed.isEmpty {
                differences.append(
                    RowDifference(kind: .changed, key: row.key, columns: changed, baseValues: row.values, shadowValues: other.values)
                )
            }
        }
        for row in shadow where !seen.contains(row.key) {
            differences.append(RowDifference(kind: .extra, key: row.key, shadowValues: row.values))
        }
        return differences
    }
}
