import ShadowSQL

/// Builds every statement the diff runs against one side of a table pair. Pure text generation, unit-tested per
/// dialect; the server does the heavy work (canonical values, hashes, sums), only small results come back.
///
/// Row hash: each row's canonical fields — the key first, then every compared column — are encoded without
/// ambiguity (`N` for NULL, `V<bytes>:<text>` otherwise, so NULL ≠ '' and no separator can be forged), hashed with
/// MD5, and the first 64 bits taken as an unsigned integer. A chunk's checksum is the row count and the sum of its
/// row hashes modulo 2^64. See docs/diff.md for why this does not cancel the way `BIT_XOR(CRC32(row))` does.
public struct TableQueries: Sendable {
    public let dialect: SQLDialect
    public let table: TableName
    /// The compared columns, in the same order on both sides.
    public let columns: [ColumnInfo]
    /// The key columns (also among ``columns``); empty for a table without a usable key.
    public let key: [ColumnInfo]
    /// Columns declared with the same type (and collation) on both sides: the chunk checksum hashes their server
    /// text form as is, skipping the canonical rewrite (same type, same dialect, same session settings give the same
    /// text). The others go through ``canonicalValue(_:)``.
    public let sameTypeColumns: Set<String>
    /// How a chunk's rows are hashed and folded (see ``ChunkHash``).
    public let chunkHash: ChunkHash
    /// Whether fetched rows carry canonical values instead of the server's text form: when the two sides are
    /// different engines, so reports show one spelling and repair writes values the other engine reads (`1`, not
    /// PostgreSQL's `true`, for a boolean; UTC instants).
    public var canonicalValues = false

    public init(
        dialect: SQLDialect, table: TableName, columns: [ColumnInfo], key: [ColumnInfo], sameTypeColumns: Set<String> = [],
        chunkHash: ChunkHash? = nil
    ) {
        self.dialect = dialect
        self.table = table
        self.columns = columns
        self.key = key
        self.sameTypeColumns = sameTypeColumns
        self.chunkHash = chunkHash ?? ChunkHash.default(dialect)
    }

    static let modulus = "18446744073709551616"

    func quoted(_ name: String) -> String { SQLText.identifier(name, dialect) }

    // MARK: Canonical values

    /// The canonical text of a column's value (NULL stays NULL): equal data gives equal text on either side.
    public func canonicalValue(_ column: ColumnInfo) -> String {
        let c = quoted(column.name)
        switch dialect {
        case .mysql:
            let text = "CAST(\(c) AS CHAR)"
            switch column.valueClass(.mysql) {
            case .integer, .float, .boolean: return text
            case .decimal:
                // Scale normalised: 1.50 (DECIMAL(10,2)) and 1.5000 (DECIMAL(12,4)) are the same number.
                return "IF(LOCATE('.', \(text)) > 0, TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM \(text))), \(text))"
            case .instant, .dateTime: return "DATE_FORMAT(\(c), '%Y-%m-%d %H:%i:%s.%f')"
            case .date: return "DATE_FORMAT(\(c), '%Y-%m-%d')"
            case .time: return "TIME_FORMAT(\(c), '%H:%i:%s.%f')"
            case .binary: return "LOWER(HEX(\(c)))"
            case .text: return "CONVERT(\(c) USING utf8mb4)"
            }
        case .postgres:
            switch column.valueClass(.postgres) {
            case .integer, .float, .text: return "\(c)::text"
            // As MySQL spells them (its booleans are integers; its TIME keeps six fraction digits).
            case .boolean: return "CASE WHEN \(c) THEN '1' WHEN NOT \(c) THEN '0' END"
            case .time:
                return column.dataType.lowercased() == "time" ? "to_char(\(c)::interval, 'HH24:MI:SS.US')" : "\(c)::text"
            case .decimal: return "trim_scale(\(c))::text"
            case .instant: return "to_char(\(c) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
            case .dateTime: return "to_char(\(c), 'YYYY-MM-DD HH24:MI:SS.US')"
            case .date: return "to_char(\(c), 'YYYY-MM-DD')"
            case .binary: return "encode(\(c), 'hex')"
            }
        }
    }

    /// One unambiguous field of the row encoding: `N` for NULL, else `V`, the byte length, `:`, the canonical text.
    /// MySQL fields are binary strings so columns of different collations never meet in one CONCAT.
    public func field(_ column: ColumnInfo) -> String {
        let c = quoted(column.name)
        let value = canonicalValue(column)
        switch dialect {
        case .mysql:
            return "IF(\(c) IS NULL, 'N', CONCAT('V', LENGTH(\(value)), ':', CAST(\(value) AS BINARY)))"
        case .postgres:
            return "CASE WHEN \(c) IS NULL THEN 'N' ELSE 'V' || octet_length(\(value))::text || ':' || \(value) END"
        }
    }

    /// The row's encoding: key fields first, then every compared column.
    public var rowEncoding: String {
        let fields = (key + columns).map(field)
        switch dialect {
        case .mysql: return "CONCAT(\(fields.joined(separator: ", ")))"
        case .postgres: return "(" + fields.joined(separator: " || ") + ")"
        }
    }

    /// The row's 64-bit hash as an unsigned (MySQL) or signed (PostgreSQL) integer.
    public var rowHash: String {
        switch dialect {
        case .mysql: return "CAST(CONV(SUBSTRING(MD5(\(rowEncoding)), 1, 16), 16, 10) AS UNSIGNED)"
        case .postgres: return "('x' || substr(md5(\(rowEncoding)), 1, 16))::bit(64)::bigint"
        }
    }

    /// Selects the value of a column as repair and reports need it: the server's text form, binary as hex.
    public func fetchValue(_ column: ColumnInfo) -> String {
        if column.valueClass(dialect) == .binary {
            return dialect == .mysql ? "LOWER(HEX(\(quoted(column.name))))" : "encode(\(quoted(column.name)), 'hex')"
        }
        return quoted(column.name)
    }

    /// A literal for a value fetched with ``fetchValue(_:)``.
    public func literal(_ value: String?, for column: ColumnInfo) -> String {
        guard let value else { return "NULL" }
        if column.valueClass(dialect) == .binary { return SQLText.binaryLiteral(hexDigits: value, dialect) }
        return SQLText.literal(value, dialect)
    }

    /// A key value in a range condition. MySQL compares an integer column with a quoted literal as floating point
    /// numbers, row by row inside the part CASE trees (a seventh of a grouped checksum's time) and inexactly past
    /// 2^53; an integer key's values go unquoted there. PostgreSQL types a quoted literal as the column's type when
    /// it parses the statement, and an unquoted one above int4 as numeric, which an int4 index cannot use: quoted.
    func keyLiteral(_ value: String, for column: ColumnInfo) -> String {
        if dialect == .mysql, column.valueClass(dialect) == .integer, SQLText.isIntegerText(value) { return value }
        return literal(value, for: column)
    }

    // MARK: Ranges

    /// The WHERE condition selecting `range`; `TRUE` for the whole table.
    public func predicate(_ range: KeyRange) -> String {
        var parts: [String] = []
        if let lower = range.lower { parts.append(compare(lower, strict: true, greater: true)) }
        if let upper = range.upper { parts.append(compare(upper, strict: false, greater: false)) }
        return parts.isEmpty ? "1=1" : parts.joined(separator: " AND ")
    }

    /// `key > value` / `key <= value`. PostgreSQL compares row values natively and uses the index; for MySQL the
    /// comparison is expanded (`a > x OR (a = x AND b > y)`) behind a plain bound on the first column, which the
    /// range optimiser always understands.
    func compare(_ value: KeyValue, strict: Bool, greater: Bool) -> String {
        let names = key.map { quoted($0.name) }
        let literals = zip(value, key).map { keyLiteral($0, for: $1) }
        let op = greater ? (strict ? ">" : ">=") : (strict ? "<" : "<=")
        if names.count == 1 { return "\(names[0]) \(op) \(literals[0])" }
        switch dialect {
        case .postgres:
            return "(\(names.joined(separator: ", "))) \(op) (\(literals.joined(separator: ", ")))"
        case .mysql:
            let strictOp = greater ? ">" : "<"
            var alternatives: [String] = []
            for i in 0..<names.count {
                var terms = (0..<i).map { "\(names[$0]) = \(literals[$0])" }
                let last = i == names.count - 1
                terms.append("\(names[i]) \(last ? op : strictOp) \(literals[i])")
                alternatives.append(terms.count == 1 ? terms[0] : "(" + terms.joined(separator: " AND ") + ")")
            }
            let leading = "\(names[0]) \(greater ? ">=" : "<=") \(literals[0])"
            return "(\(leading) AND (\(alternatives.joined(separator: " OR "))))"
        }
    }

    var orderBy: String {
        key.map { quoted($0.name) }.joined(separator: ", ")
    }

    // MARK: Statements

    /// The largest value of a single-column key (NULL for an empty table); an index lookup, not a scan.
    public var lastKey: String {
        "SELECT MAX(\(orderBy)) FROM \(table.sql(dialect))"
    }

    /// The key of the row `offset` rows into `range` in key order (0-based); no row when the range is shorter.
    public func keyAt(offset: Int, in range: KeyRange) -> String {
        "SELECT \(key.map(fetchValue).joined(separator: ", ")) FROM \(table.sql(dialect)) WHERE \(predicate(range)) "
            + "ORDER BY \(orderBy) LIMIT 1 OFFSET \(max(0, offset))"
    }

    /// Every row of a (small) range: key values, then per compared column its canonical field and its value.
    public func rows(_ range: KeyRange) -> String { rows([range]) }

    /// Every row of several small, disjoint ranges in one statement (their conditions OR-ed), in key order: the
    /// differing leaves of a bisection fetched in one round trip.
    public func rows(_ ranges: [KeyRange]) -> String {
        let keys = key.map(fetchValue)
        // Canonical values are aliased: PostgreSQL names `"id"::text` `id`, which would make ORDER BY "id" ambiguous.
        let perColumn = columns.enumerated().flatMap { index, column in
            [field(column), canonicalValues ? "\(canonicalValue(column)) AS c\(index)" : fetchValue(column)]
        }
        let condition = ranges.count == 1 ? predicate(ranges[0]) : ranges.map { "(\(predicate($0)))" }.joined(separator: " OR ")
        return "SELECT \((keys + perColumn).joined(separator: ", ")) FROM \(table.sql(dialect)) "
            + "WHERE \(condition) ORDER BY \(orderBy)"
    }

    // MARK: Tables without a key

    /// The row's full MD5, used to compare keyless tables as multisets.
    public var rowDigest: String {
        switch dialect {
        case .mysql: return "MD5(\(rowEncoding))"
        case .postgres: return "md5(\(rowEncoding))"
        }
    }

    /// A page of (row digest, how many rows have it) after `digest`, in digest order. Hex digests order the same
    /// in every collation, so both sides page identically.
    public func digestPage(after digest: String?, limit: Int) -> String {
        let condition = digest.map { "WHERE d > \(SQLText.literal($0, dialect))" } ?? ""
        return "SELECT d, COUNT(*) FROM (SELECT \(rowDigest) AS d FROM \(table.sql(dialect))) AS digests \(condition) "
            + "GROUP BY d ORDER BY d LIMIT \(limit)"
    }

    /// How many rows have each of `digests` (digests no row has are absent from the result).
    public func digestCounts(_ digests: [String]) -> String {
        let list = digests.map { SQLText.literal($0, dialect) }.joined(separator: ", ")
        return "SELECT d, COUNT(*) FROM (SELECT \(rowDigest) AS d FROM \(table.sql(dialect))) AS digests "
            + "WHERE d IN (\(list)) GROUP BY d"
    }

    /// The rows whose digest is one of `digests`: digest, then per compared column its canonical field and value.
    public func rows(withDigests digests: [String]) -> String {
        let list = digests.map { SQLText.literal($0, dialect) }.joined(separator: ", ")
        let perColumn = columns.flatMap { [field($0), fetchValue($0)] }.enumerated().map { "\($1) AS v\($0)" }
        return "SELECT * FROM (SELECT \(rowDigest) AS d, \(perColumn.joined(separator: ", ")) FROM \(table.sql(dialect))) "
            + "AS r WHERE d IN (\(list)) ORDER BY d"
    }
}
