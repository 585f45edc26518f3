import ShadowSQL
import Testing

@testable import ShadowDiff

@Suite struct TableQueriesTests {
    let id = ColumnInfo(name: "id", columnType: "bigint", dataType: "bigint", isNullable: false)
    let name = ColumnInfo(name: "name", columnType: "varchar(20)", dataType: "varchar", isNullable: true)

    func queries(_ dialect: SQLDialect, key: [ColumnInfo]? = nil) -> TableQueries {
        let amount = ColumnInfo(
            name: "amount", columnType: "numeric(10,2)", dataType: dialect == .mysql ? "decimal" : "numeric", isNullable: true
        )
        let at = ColumnInfo(name: "at", columnType: "timestamp", dataType: dialect == .mysql ? "timestamp" : "timestamptz", isNullable: true)
        return TableQueries(
            dialect: dialect, table: TableName(schema: "db", name: "t"), columns: [id, name, amount, at], key: key ?? [id]
        )
    }

    func mysqlChecksum(_ hash: ChunkHash) -> String {
        let q = queries(.mysql)
        return TableQueries(dialect: .mysql, table: q.table, columns: q.columns, key: q.key, chunkHash: hash).checksum(.all)
    }

    @Test("MariaDB chunks sum CRC32 and CRC32C of each row's SHA-1 next to the row count, never XOR")
    func mariaDBChecksum() {
        let sql = mysqlChecksum(.sha1Crc)
        #expect(sql.hasPrefix("SELECT COUNT(*), CONCAT(COALESCE(SUM(CRC32(SHA1(CONCAT_WS(',', "))
        #expect(sql.contains("SUM(CRC32C(SHA1(CONCAT_WS("))
        #expect(!sql.contains("BIT_XOR"))
    }

    @Test("MariaDB's default form builds the row text and its SHA-1 once per row and sums one 64-bit value, never XOR")
    func mariaDBSingleHashChecksum() {
        let sql = mysqlChecksum(.sha1Crc64)
        #expect(sql.hasPrefix("SELECT COUNT(*), COALESCE(SUM(CRC32(@shadowgate_row_sha1 := SHA1(CONCAT_WS(',', "))
        #expect(sql.contains(")) | CRC32C(@shadowgate_row_sha1) << 32), 0) FROM `db`.`t` WHERE 1=1"))
        #expect(sql.components(separatedBy: "SHA1(").count == 2)
        #expect(sql.components(separatedBy: "CONCAT_WS(").count == 2)
        #expect(!sql.contains("BIT_XOR"))
    }

    @Test("across engines both sides sum the first 64 bits of the canonical encoding's MD5 as a signed integer")
    func crossEngineChecksum() {
        func sql(_ dialect: SQLDialect) -> String {
            let q = queries(dialect)
            return TableQueries(dialect: dialect, table: q.table, columns: q.columns, key: q.key, chunkHash: .canonicalMD5).checksum(.all)
        }
        let my = sql(.mysql), pg = sql(.postgres)
        #expect(my.hasPrefix("SELECT COUNT(*), CAST(COALESCE(SUM(CAST(CONV(LEFT(MD5(CONCAT(IF(`id` IS NULL, 'N', CONCAT('V', "))
        #expect(my.contains("16), 16, -10) AS SIGNED)), 0) AS CHAR) FROM"))
        #expect(pg.hasPrefix("SELECT COUNT(*), COALESCE(SUM(('x' || left(md5((CASE WHEN \"id\" IS NULL THEN 'N' ELSE 'V' || "))
        #expect(pg.contains(", 16))::bit(64)::bigint), 0)::text FROM"))
    }

    @Test("PostgreSQL booleans and times take MySQL's spelling in canonical form; fetched rows can carry it")
    func crossEngineCanonicalValues() {
        let flag = ColumnInfo(name: "flag", columnType: "boolean", dataType: "bool", isNullable: true)
        let at = ColumnInfo(name: "at", columnType: "time without time zone", dataType: "time", isNullable: true)
        var q = TableQueries(dialect: .postgres, table: TableName(schema: "s", name: "t"), columns: [id, flag, at], key: [id])
        #expect(q.canonicalValue(flag) == "CASE WHEN \"flag\" THEN '1' WHEN NOT \"flag\" THEN '0' END")
        #expect(q.canonicalValue(at) == "to_char(\"at\"::interval, 'HH24:MI:SS.US')")
        #expect(q.rows(.all).contains(", \"flag\", CASE WHEN"))
        q.canonicalValues = true
        #expect(q.rows(.all).contains(" END, CASE WHEN \"flag\" THEN '1' WHEN NOT \"flag\" THEN '0' END AS c1, "))
    }

    @Test("MySQL without CRC32C sums the first 64 bits of each row's SHA-1 exactly, modulo 2^64")
    func mysqlChecksum() {
        let sql = queries(.mysql).checksum(.all)
        #expect(sql.hasPrefix("SELECT COUNT(*), CAST(MOD(COALESCE(SUM(CAST(CONV(LEFT(SHA1(CONCAT_WS(',', "))
        #expect(sql.contains("18446744073709551616"))
        #expect(!sql.contains("BIT_XOR"))
    }

    @Test("PostgreSQL chunks sum hashtextextended of each row's composite text as numeric")
    func postgresChecksum() {
        let sql = queries(.postgres).checksum(.all)
        #expect(sql.hasPrefix("SELECT COUNT(*), COALESCE(SUM(hashtextextended(ROW(\"id\"::text, "))
        #expect(sql.contains(")::text, 0)), 0)::text FROM \"db\".\"t\" WHERE 1=1"))
    }

    @Test("columns of the same type on both sides are hashed as the server prints them, the others in canonical form")
    func checksumEncoding() {
        func with(_ dialect: SQLDialect) -> TableQueries {
            let q = queries(dialect)
            return TableQueries(dialect: dialect, table: q.table, columns: q.columns, key: q.key, sameTypeColumns: ["id", "name"])
        }
        let my = with(.mysql)
        #expect(my.checksumEncoding == "CONCAT_WS(',', `id`, QUOTE(CAST(`name` AS BINARY)), "
            + "IFNULL(\(my.canonicalValue(my.columns[2])), 'N'), IFNULL(DATE_FORMAT(`at`, '%Y-%m-%d %H:%i:%s.%f'), 'N'))")
        let pg = with(.postgres)
        #expect(pg.checksumEncoding == "ROW(\"id\", \"name\", trim_scale(\"amount\")::text, "
            + "to_char(\"at\" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'))::text")
    }

    @Test("a NULL skipped by CONCAT_WS in a same-typed nullable column is flagged in a last field, so fields never shift")
    func nullFlags() {
        let q = queries(.mysql)
        let raw = TableQueries(dialect: .mysql, table: q.table, columns: q.columns, key: q.key, sameTypeColumns: ["id", "amount", "at"])
        #expect(raw.checksumEncoding.hasSuffix(", `amount`, `at`, CONCAT(`amount` IS NULL, `at` IS NULL))"))
        #expect(raw.checksumEncoding.hasPrefix("CONCAT_WS(',', `id`, QUOTE("))
    }

    @Test("each field marks NULL apart from every string and carries its byte length")
    func fieldEncoding() {
        #expect(queries(.mysql).field(name) == "IF(`name` IS NULL, 'N', CONCAT('V', LENGTH(CONVERT(`name` USING utf8mb4)), ':', CAST(CONVERT(`name` USING utf8mb4) AS BINARY)))")
        #expect(queries(.postgres).field(name) == "CASE WHEN \"name\" IS NULL THEN 'N' ELSE 'V' || octet_length(\"name\"::text)::text || ':' || \"name\"::text END")
    }

    @Test("the key is inside every row hash, ahead of the other columns")
    func keyInsideRowHash() {
        let encoding = queries(.postgres).rowEncoding
        #expect(encoding.hasPrefix("(CASE WHEN \"id\" IS NULL"))
    }

    @Test("decimals drop trailing zeros and instants render in UTC with microseconds")
    func canonicalValues() {
        let my = queries(.mysql)
        let pg = queries(.postgres)
        #expect(my.canonicalValue(my.columns[2]).contains("TRIM(TRAILING '0'"))
        #expect(my.canonicalValue(my.columns[3]) == "DATE_FORMAT(`at`, '%Y-%m-%d %H:%i:%s.%f')")
        #expect(pg.canonicalValue(pg.columns[2]) == "trim_scale(\"amount\")::text")
        #expect(pg.canonicalValue(pg.columns[3]) == "to_char(\"at\" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')")
        let bytes = ColumnInfo(name: "b", columnType: "bytea", dataType: "bytea", isNullable: true)
        #expect(pg.canonicalValue(bytes) == "encode(\"b\", 'hex')")
    }

    @Test("MySQL compares an integer key with unquoted integers, anything else with quoted literals")
    func integerKeyLiterals() {
        let id = ColumnInfo(name: "id", columnType: "bigint(20) unsigned", dataType: "bigint", isNullable: false)
        let my = TableQueries(dialect: .mysql, table: TableName(schema: "s", name: "t"), columns: [id], key: [id])
        #expect(my.predicate(KeyRange(lower: ["-3"], upper: ["18446744073709551615"])) == "`id` > -3 AND `id` <= 18446744073709551615")
        // Not an integer's text (a value the server never returns for an integer column): quoted, never spliced.
        #expect(my.predicate(KeyRange(lower: ["1 OR 1=1"], upper: nil)) == "`id` > '1 OR 1=1'")
        #expect(my.predicate(KeyRange(lower: ["1e3"], upper: ["--1"])) == "`id` > '1e3' AND `id` <= '--1'")
        let pg = TableQueries(dialect: .postgres, table: TableName(schema: "s", name: "t"), columns: [id], key: [id])
        #expect(pg.predicate(KeyRange(lower: ["-3"], upper: nil)) == "\"id\" > '-3'")
        #expect(SQLText.isIntegerText("0") && SQLText.isIntegerText("-42") && !SQLText.isIntegerText("") && !SQLText.isIntegerText("-"))
        #expect(!SQLText.isIntegerText("123456789012345678901") && !SQLText.isIntegerText("1.0") && !SQLText.isIntegerText("+1"))
    }

    @Test("composite ranges use row values on PostgreSQL and an expanded comparison on MySQL")
    func compositeRanges() {
        let a = ColumnInfo(name: "a", columnType: "int", dataType: "int", isNullable: false)
        let b = ColumnInfo(name: "b", columnType: "varchar(5)", dataType: "varchar", isNullable: false)
        let range = KeyRange(lower: ["1", "x"], upper: ["5", "y'z"])
        let pg = TableQueries(dialect: .postgres, table: TableName(schema: "s", name: "t"), columns: [a, b], key: [a, b])
        #expect(pg.predicate(range) == "(\"a\", \"b\") > ('1', 'x') AND (\"a\", \"b\") <= ('5', 'y''z')")
        let my = TableQueries(dialect: .mysql, table: TableName(schema: "s", name: "t"), columns: [a, b], key: [a, b])
        #expect(
            my.predicate(range)
                == "(`a` >= 1 AND (`a` > 1 OR (`a` = 1 AND `b` > 'x'))) AND (`a` <= 5 AND (`a` < 5 OR (`a` = 5 AND `b` <= 'y''z')))"
        )
        #expect(my.predicate(.all) == "1=1")
    }

    @Test("the boundary query reads one key at an offset in key order")
    func boundaryQuery() {
        let sql = queries(.postgres).keyAt(offset: 999, in: KeyRange(lower: ["10"]))
        #expect(sql == "SELECT \"id\" FROM \"db\".\"t\" WHERE \"id\" > '10' ORDER BY \"id\" LIMIT 1 OFFSET 999")
    }

    @Test("the rows of several differing leaves are fetched in one statement, their ranges OR-ed, in key order")
    func batchedLeafRows() {
        let q = queries(.postgres)
        let ranges = [KeyRange(lower: ["10"], upper: ["20"]), KeyRange(lower: ["500"], upper: ["530"])]
        let sql = q.rows(ranges)
        #expect(sql.hasSuffix("WHERE (\"id\" > '10' AND \"id\" <= '20') OR (\"id\" > '500' AND \"id\" <= '530') ORDER BY \"id\""), "\(sql)")
        #expect(q.rows(ranges[0]).hasSuffix("WHERE \"id\" > '10' AND \"id\" <= '20' ORDER BY \"id\""))
    }

    @Test("leaf batches are consecutive and hold at most batch rows / leaf rows ranges")
    func leafBatches() {
        let ranges = (0..<40).map { KeyRange(lower: ["\($0)"], upper: ["\($0 + 1)"]) }
        let batches = TableDiffer.Run.batches(ranges, leafRows: 32, batchRows: 512)
        #expect(batches.map(\.count) == [16, 16, 8])
        #expect(batches.flatMap { $0 } == ranges)
    }
}

@Suite struct SQLTextTests {
    @Test("identifiers double their quote character")
    func identifiers() {
        #expect(SQLText.identifier("a`b", .mysql) == "`a``b`")
        #expect(SQLText.identifier("a\"b", .postgres) == "\"a\"\"b\"")
    }

    @Test("quotes are doubled; MySQL values with backslashes or control bytes become hex whatever the sql_mode")
    func mysqlLiterals() {
        #expect(SQLText.literal("it's", .mysql) == "'it''s'")
        #expect(SQLText.literal("a\\b", .mysql) == "CONVERT(X'615c62' USING utf8mb4)")
        #expect(SQLText.literal("nul\u{0}", .mysql) == "CONVERT(X'6e756c00' USING utf8mb4)")
    }

    @Test("PostgreSQL values with backslashes use E'' with the backslash doubled")
    func postgresLiterals() {
        #expect(SQLText.literal("it's", .postgres) == "'it''s'")
        #expect(SQLText.literal("a\\b'", .postgres) == "E'a\\\\b'''")
    }

    @Test("binary values are written from hex digits only")
    func binary() {
        #expect(SQLText.binaryLiteral(hexDigits: "00ff", .mysql) == "X'00ff'")
        #expect(SQLText.binaryLiteral(hexDigits: "00ff'); DROP", .postgres) == "decode('00ffD', 'hex')")
    }

    @Test("cuts split a range into consecutive ranges that cover it")
    func splitAtCuts() {
        let parts = KeyRange(lower: ["1"], upper: nil).split(at: [["5"], ["9"]])
        #expect(parts == [KeyRange(lower: ["1"], upper: ["5"]), KeyRange(lower: ["5"], upper: ["9"]), KeyRange(lower: ["9"], upper: nil)])
    }

}
