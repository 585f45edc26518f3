import ShadowSQL

/// How the chunk checksum hashes each row and folds the hashes. Every form hashes the whole row (key included) with
/// a non-linear hash and adds the results — never XOR — next to the row count, so swapped values and equal deltas do
/// not cancel (docs/diff.md). The forms differ in cost per row, which is what a full-table diff spends its time on.
public enum ChunkHash: String, Sendable, Hashable {
    /// MySQL/MariaDB, portable: the first 64 bits of the row's SHA-1, summed exactly and taken modulo 2^64.
    case sha1Prefix
    /// MariaDB 10.8+: `CRC32` and `CRC32C` of the row's SHA-1 (two 32-bit digests of a non-linear 160-bit hash),
    /// each summed exactly. Cheaper than converting 16 hex digits to an integer, which costs as much as the hash.
    case sha1Crc
    /// PostgreSQL: `hashtextextended` (the 64-bit Jenkins hash PostgreSQL uses for hash partitioning) of the row's
    /// composite text form, summed exactly as numeric.
    case hashTextExtended

    /// The form used when nothing better is known about the servers.
    public static func `default`(_ dialect: SQLDialect) -> ChunkHash {
        dialect == .mysql ? .sha1Prefix : .hashTextExtended
    }
}

extension TableQueries {
    /// The row text the chunk checksum hashes. Unambiguous without length prefixes:
    /// - MySQL: fields joined by `,`; text and binary values through `QUOTE` (quotes and backslashes escaped, NULL as
    ///   the bare word `NULL`), other values as their text (which never holds a comma or a quote); a NULL in a
    ///   nullable column is skipped and flagged in a last field of `IS NULL` flags (canonical values: `N`);
    /// - PostgreSQL: the composite text `ROW(…)::text`, which quotes what needs quoting and leaves NULL empty.
    /// Columns of the same type on both sides are hashed in their server text form; the rest in canonical form.
    public var checksumEncoding: String {
        let values = columns.map { column -> String in
            guard sameTypeColumns.contains(column.name) else { return canonicalValue(column) }
            // Binary, so text columns of different character sets never meet in one CONCAT_WS.
            return dialect == .mysql && column.valueClass(.mysql) == .text ? "CAST(\(quoted(column.name)) AS BINARY)" : quoted(column.name)
        }
        switch dialect {
        case .mysql:
            var nullFlags: [String] = []
            var fields = zip(columns, values).map { column, value -> String in
                switch column.valueClass(.mysql) {
                case .text, .binary: return "QUOTE(\(value))"
                case _ where !sameTypeColumns.contains(column.name): return "IFNULL(\(value), 'N')"
                default:
                    // CONCAT_WS skips a NULL; a trailing field of IS NULL flags says which were skipped (cheaper
                    // than IFNULL, which turns every value into a string first).
                    if column.isNullable { nullFlags.append("\(value) IS NULL") }
                    return value
                }
            }
            if !nullFlags.isEmpty { fields.append("CONCAT(\(nullFlags.joined(separator: ", ")))") }
            return "CONCAT_WS(',', \(fields.joined(separator: ", ")))"
        case .postgres:
            return "ROW(\(values.joined(separator: ", ")))::text"
        }
    }

    /// Row count and checksum of a range: one row, two columns (count, checksum text). Equal data gives equal text
    /// on both sides of a table pair as long as both use the same ``chunkHash``.
    public func checksum(_ range: KeyRange) -> String {
        "SELECT \(checksumAggregates) FROM \(table.sql(dialect)) WHERE \(predicate(range))"
    }

    /// Count and checksum text, as aggregates over the selected rows.
    var checksumAggregates: String {
        let encoding = checksumEncoding
        switch chunkHash {
        case .sha1Prefix:
            return "COUNT(*), CAST(MOD(COALESCE(SUM(CAST(CONV(LEFT(SHA1(\(encoding)), 16), 16, 10) AS UNSIGNED)), 0), "
                + "\(Self.modulus)) AS CHAR)"
        case .sha1Crc:
            return "COUNT(*), CONCAT(COALESCE(SUM(CRC32(SHA1(\(encoding)))), 0), '/', COALESCE(SUM(CRC32C(SHA1(\(encoding)))), 0))"
        case .hashTextExtended:
            return "COUNT(*), COALESCE(SUM(hashtextextended(\(encoding), 0)), 0)::text"
        }
    }

    /// Picks the cheapest form both servers support: `CRC32C` exists on MariaDB 10.8 and later, not on MySQL.
    static func cheapestChunkHash(for connections: [any DiffConnection]) -> ChunkHash {
        guard let first = connections.first else { return .sha1Prefix }
        guard first.dialect == .mysql else { return .hashTextExtended }
        let crc32c = connections.allSatisfy { (try? $0.scalar("SELECT CRC32C('')")) != nil }
        return crc32c ? .sha1Crc : .sha1Prefix
    }
}
