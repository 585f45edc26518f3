import DatabaseClients
import Foundation
import ShadowSQL
import Testing

@testable import ShadowDiff

/// The MariaDB single-hash row form (`CRC32(@h := SHA1(row)) | CRC32C(@h) << 32`) against the real server: it relies
/// on the digest being assigned before it is read in every row, so these tests hold the server to that.
@Suite struct DiffRowHashTests {
    let id = ColumnInfo(name: "id", columnType: "int", dataType: "int", isNullable: false)
    let name = ColumnInfo(name: "name", columnType: "varchar(40)", dataType: "varchar", isNullable: true)
    let at = ColumnInfo(name: "at", columnType: "datetime(6)", dataType: "datetime", isNullable: true)
    let sameType: Set<String> = ["id", "name", "at"]

    func queries(_ h: DataToolHarness, _ hash: ChunkHash) -> TableQueries {
        TableQueries(
            dialect: .mysql, table: TableName(schema: h.schema, name: "rows"), columns: [id, name, at], key: [id],
            sameTypeColumns: sameType, chunkHash: hash
        )
    }

    /// 2,000 rows with NULLs, empty strings and the word NULL, on a session of its own (as the diff's are).
    func makeRows(_ h: DataToolHarness) throws -> MariaDBDiffConnection {
        try h.run(
            "CREATE TABLE \(h.t("rows")) (id INT PRIMARY KEY, name VARCHAR(40) NULL, at DATETIME(6) NULL)",
            "INSERT INTO \(h.t("rows")) SELECT seq, CASE seq % 4 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN 'NULL' "
                + "ELSE CONCAT('n,', seq) END, IF(seq % 5 = 0, NULL, '2024-01-01' + INTERVAL seq SECOND) FROM seq_1_to_2000"
        )
        let connection = try MariaDBConnection(configuration: h.environment.mariaDB(shadow: false, database: nil))
        return MariaDBDiffConnection(connection, label: "base")
    }

    @Test("MariaDB passes the evaluation-order probe, so diffs there hash each row once")
    func probeChoosesSingleHash() throws {
        let h = try DataToolHarness(.mysql)
        defer { h.drop() }
        let connection = try makeRows(h)
        #expect(try connection.scalar(TableQueries.rowHashOrderProbe) == "0")
        #expect(TableQueries.cheapestChunkHash(for: [connection, connection]) == .sha1Crc64)
    }

    @Test("the single-hash sum equals the two-hash form's CRC32 sum plus 2^32 times its CRC32C sum, whole and per part")
    func singleHashMatchesTwoHashes() throws {
        let h = try DataToolHarness(.mysql)
        defer { h.drop() }
        let connection = try makeRows(h)
        // A digest left from another statement must not leak into the first row.
        _ = try connection.query("SELECT SHA1('stale') INTO \(TableQueries.rowHashVariable)")
        let once = queries(h, .sha1Crc64), twice = queries(h, .sha1Crc)
        func combined(_ text: String?) -> Decimal? {
            let halves = (text ?? "").split(separator: "/").compactMap { Decimal(string: String($0)) }
            return halves.count == 2 ? halves[0] + halves[1] * 4_294_967_296 : nil
        }
        let whole = try connection.query(once.checksum(.all)), reference = try connection.query(twice.checksum(.all))
        #expect(whole.first?[0] == "2000")
        #expect(whole.first?[1].flatMap { Decimal(string: $0) } == combined(reference.first?[1]))
        // Grouped, as chunks cut up front and bisection levels are checksummed: every part agrees.
        let cuts = CutRange(range: .all, cuts: stride(from: 125, to: 2000, by: 125).map { [String($0)] })
        let parts = try connection.query(once.partChecksums([cuts])), partsReference = try connection.query(twice.partChecksums([cuts]))
        #expect(parts.count == 16)
        for (part, expected) in zip(parts, partsReference) {
            #expect(part[1] == expected[1] && part[2] == expected[2])
            #expect(part[3].flatMap { Decimal(string: $0) } == combined(expected[3]), "part \(part[1] ?? "?")")
        }
    }
}
