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
    /// MariaDB 10.8+, the default there: one row text and one SHA-1 per row — the digest kept in a user variable —
    /// read as one 64-bit value (`CRC32` low, `CRC32C` high) and summed exactly. About a quarter less server CPU
    /// than ``sha1Crc``, which evaluates the row text and the hash twice (MariaDB does not share a repeated
    /// expression). Relies on a function's arguments being evaluated left to right, which the server is probed for.
    case sha1Crc64
    /// PostgreSQL: `hashtextextended` (the 64-bit Jenkins hash PostgreSQL uses for hash partitioning) of the row's
    /// composite text form, summed exactly as numeric.
    case hashTextExtended
    /// Across engines (a MySQL table against a PostgreSQL one): the first 64 bits of the MD5 of the row's canonical
    /// encoding (``TableQueries/rowEncoding``, the same bytes on both engines), read as a signed integer and summed
    /// exactly. MD5, `CONV(…, 16, -10)` and `::bit(64)::bigint` give the same number on both servers, so equal rows
    /// give equal sums and only counts and sums travel, as between two servers of one engine.
    case canonicalMD5

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
        case .sha1Crc64:
            return "COUNT(*), COALESCE(SUM(CRC32(\(Self.rowHashVariable) := SHA1(\(encoding))) | CRC32C(\(Self.rowHashVariable)) << 32), 0)"
        case .sha1Crc:
            return "COUNT(*), CONCAT(COALESCE(SUM(CRC32(SHA1(\(encoding)))), 0), '/', COALESCE(SUM(CRC32C(SHA1(\(encoding)))), 0))"
        case .hashTextExtended:
            return "COUNT(*), COALESCE(SUM(hashtextextended(\(encoding), 0)), 0)::text"
        case .canonicalMD5:
            switch dialect {
            case .mysql:
                return "COUNT(*), CAST(COALESCE(SUM(CAST(CONV(LEFT(MD5(\(rowEncoding)), 16), 16, -10) AS SIGNED)), 0) AS CHAR)"
            case .postgres:
                return "COUNT(*), COALESCE(SUM(('x' || left(md5(\(rowEncoding)), 16))::bit(64)::bigint), 0)::text"
            }
        }
    }

    /// The session variable ``ChunkHash/sha1Crc64`` keeps each row's digest in (one per session; the two sides of a
    /// comparison always have sessions of their own).
    static let rowHashVariable = "@shadowgate_row_sha1"

    /// Picks the cheapest form both servers support: `CRC32C` exists on MariaDB 10.8 and later, not on MySQL; the
    /// single-hash form also needs the server to evaluate `CRC32(@h := SHA1(x))` before `CRC32C(@h)` inside one
    /// aggregate, row by row, which ``rowHashOrderProbe`` checks (else the two-hash form, never a wrong one).
    static func cheapestChunkHash(for connections: [any DiffConnection]) -> ChunkHash {
        guard let first = connections.first else { return .sha1Prefix }
        guard connections.allSatisfy({ $0.dialect == first.dialect }) else { return .canonicalMD5 }
        guard first.dialect == .mysql else { return .hashTextExtended }
        let crc32c = connections.allSatisfy { (try? $0.scalar("SELECT CRC32C('')")) != nil }
        guard crc32c else { return .sha1Prefix }
        let ordered = connections.allSatisfy { (try? $0.scalar(rowHashOrderProbe)) == "0" }
        return ordered ? .sha1Crc64 : .sha1Crc
    }

    /// How many rows of a small aggregate the single-hash form gets wrong: `0` when, in every row, the digest is
    /// assigned before it is read. Two rows, so a digest left over from the previous row (or an earlier probe on
    /// the same session) is caught; a NULL (read before any assignment) counts as wrong.
    static var rowHashOrderProbe: String {
        let v = rowHashVariable
        return "SELECT SUM(IF((CRC32(\(v) := SHA1(x)) | CRC32C(\(v)) << 32) <=> (CRC32(SHA1(x)) | CRC32C(SHA1(x)) << 32), 0, 1)) "
            + "FROM (SELECT 'a' AS x UNION ALL SELECT 'b') AS probe"
    }
}
