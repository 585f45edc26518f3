import ShadowSQL
import Testing

@testable import ShadowDiff

@Suite struct SplitQueriesTests {
    let id = ColumnInfo(name: "id", columnType: "bigint", dataType: "bigint", isNullable: false)
    let tenant = ColumnInfo(name: "tenant", columnType: "varchar(20)", dataType: "varchar", isNullable: false)

    func queries(_ dialect: SQLDialect, key: [ColumnInfo]? = nil) -> TableQueries {
        TableQueries(dialect: dialect, table: TableName(schema: "db", name: "t"), columns: [id, tenant], key: key ?? [id])
    }

    @Test("MySQL reads the cut points of several ranges in one statement, one ROW_NUMBER branch per range")
    func mysqlBoundaries() {
        let sql = queries(.mysql).boundaries([
            CutRequest(range: KeyRange(lower: ["10"], upper: ["5000"]), step: 64),
            CutRequest(range: KeyRange(lower: ["9000"]), step: 7),
        ])
        #expect(
            sql == "SELECT g, k0 FROM (SELECT g, k0, rn FROM (SELECT 0 AS g, `id` AS k0, ROW_NUMBER() OVER (ORDER BY `id`) AS rn "
                + "FROM `db`.`t` WHERE `id` > 10 AND `id` <= 5000) AS c0 WHERE rn % 64 = 0 UNION ALL "
                + "SELECT g, k0, rn FROM (SELECT 1 AS g, `id` AS k0, ROW_NUMBER() OVER (ORDER BY `id`) AS rn "
                + "FROM `db`.`t` WHERE `id` > 9000) AS c1 WHERE rn % 7 = 0) AS cuts ORDER BY g, rn"
        )
    }

    @Test("PostgreSQL reads the cut points of a composite key as one column per key column")
    func postgresCompositeBoundaries() {
        let sql = queries(.postgres, key: [tenant, id]).boundaries([CutRequest(range: KeyRange(lower: ["a", "1"]), step: 0)])
        #expect(
            sql == "SELECT g, k0, k1 FROM (SELECT g, k0, k1, rn FROM (SELECT 0 AS g, \"tenant\" AS k0, \"id\" AS k1, "
                + "ROW_NUMBER() OVER (ORDER BY \"tenant\", \"id\") AS rn FROM \"db\".\"t\" WHERE (\"tenant\", \"id\") > ('a', '1')) "
                + "AS c0 WHERE rn % 1 = 0) AS cuts ORDER BY g, rn"
        )
    }

    @Test("PostgreSQL checksums the parts of several cut ranges in one statement, numbered per range from 0")
    func postgresPartChecksums() {
        let sql = queries(.postgres).partChecksums([
            CutRange(range: KeyRange(lower: ["1"], upper: ["20"]), cuts: [["5"], ["9"]]),
            CutRange(range: KeyRange(lower: ["40"]), cuts: []),
        ])
        let branches = sql.components(separatedBy: " UNION ALL ")
        #expect(branches.count == 2)
        #expect(branches[0].hasPrefix(
            "SELECT 0 AS g, CASE WHEN \"id\" <= '9' THEN CASE WHEN \"id\" <= '5' THEN 0 ELSE 1 END ELSE 2 END AS part, COUNT(*), "
        ))
        #expect(branches[0].contains("SUM(hashtextextended(ROW("))
        #expect(branches[0].hasSuffix("WHERE \"id\" > '1' AND \"id\" <= '20' GROUP BY part"))
        #expect(branches[1].hasPrefix("SELECT 1 AS g, 0 AS part, COUNT(*), "))
        #expect(branches[1].hasSuffix("WHERE \"id\" > '40' GROUP BY part"))
    }

    @Test("MySQL checksums parts of a composite key with the expanded comparison and the same fold as a chunk")
    func mysqlPartChecksums() {
        let q = queries(.mysql, key: [tenant, id])
        let sql = q.partChecksums([CutRange(range: .all, cuts: [["b", "7"]])])
        #expect(
            sql.hasPrefix("SELECT 0 AS g, CASE WHEN (`tenant` <= 'b' AND (`tenant` < 'b' OR (`tenant` = 'b' AND `id` <= 7))) "
                + "THEN 0 ELSE 1 END AS part, \(q.checksumAggregates) FROM")
        )
        #expect(sql.hasSuffix("WHERE 1=1 GROUP BY part"))
        #expect(!sql.contains("BIT_XOR"))
    }

    @Test("the part index is a CASE tree: 255 cuts cost 8 comparisons per row, every part numbered once")
    func partIndexTree() {
        let sql = queries(.mysql).partIndex((1...255).map { ["\($0 * 10)"] })
        let words = sql.split(separator: " ")
        var depth = 0
        var deepest = 0
        for word in words {
            if word == "CASE" { depth += 1; deepest = max(deepest, depth) }
            if word == "END" { depth -= 1 }
        }
        #expect(deepest == 8)
        #expect(depth == 0)
        #expect(words.filter { $0 == "WHEN" }.count == 255)
        let results = zip(words, words.dropFirst()).filter { $0.0 == "THEN" || $0.0 == "ELSE" }.compactMap { Int($0.1) }
        #expect(results.sorted() == Array(0...255))
    }

    @Test("a cut range stands for the parts between its cuts")
    func cutRangeParts() {
        let cut = CutRange(range: KeyRange(lower: ["0"], upper: ["30"]), cuts: [["10"], ["20"]])
        #expect(cut.parts == [
            KeyRange(lower: ["0"], upper: ["10"]), KeyRange(lower: ["10"], upper: ["20"]), KeyRange(lower: ["20"], upper: ["30"]),
        ])
    }
}

@Suite struct SplitPlanningTests {
    @Test("chunks are checksummed whole until one differs, then cut up front until a run of identical chunks")
    func cutsAfterADifference() {
        var splitting = ChunkSplitting(identicalRunToStop: 3)
        var seen: [Bool] = []
        for differed in [false, false, true, false, false, true, false, false, false, false] {
            seen.append(splitting.cutsUpFront)
            splitting.record(differed: differed)
        }
        #expect(seen == [false, false, false, true, true, true, true, true, true, false])
        #expect(!splitting.cutsUpFront)
    }

    @Test("an identical table never cuts chunks up front, and 0 turns cutting up front off")
    func identicalTablePaysNothing() {
        var splitting = ChunkSplitting(identicalRunToStop: 4)
        for _ in 0..<100 { splitting.record(differed: false) }
        #expect(!splitting.cutsUpFront)
        var off = ChunkSplitting(identicalRunToStop: 0)
        off.record(differed: true)
        #expect(!off.cutsUpFront)
    }

    @Test("a differing range is cut into the fanout, a small one into parts of about half a leaf")
    func fanout() {
        #expect(SplitFanout.parts(rows: 512, leafRows: 8, fanout: 16) == 16)
        #expect(SplitFanout.parts(rows: 32, leafRows: 8, fanout: 16) == 8)
        #expect(SplitFanout.parts(rows: 9, leafRows: 8, fanout: 16) == 3)
        #expect(SplitFanout.parts(rows: 2, leafRows: 1, fanout: 16) == 2)
    }

    @Test("a chunk cut up front gets parts of about the part size, between the fanout and 256 parts")
    func upFrontParts() {
        #expect(SplitFanout.upFront(rows: 10_000, partRows: 512, fanout: 16) == 20)
        #expect(SplitFanout.upFront(rows: 1_000, partRows: 512, fanout: 16) == 16)
        #expect(SplitFanout.upFront(rows: 1_000_000, partRows: 512, fanout: 16) == 256)
    }

    @Test("a dense integer range is cut into equal slices of its values without a query")
    func denseIntegerCuts() {
        let cuts = IntegerCuts.cuts(lower: ["0"], upper: ["20000"], rows: 10_000, parts: 16)
        #expect(cuts?.count == 15)
        #expect(cuts?.first == ["1250"])
        #expect(cuts?.last == ["18750"])
        #expect(IntegerCuts.cuts(lower: ["-10"], upper: ["6"], rows: 16, parts: 16) == (-9...5).map { ["\($0)"] })
        // Narrower than the number of parts: one key value per part.
        #expect(IntegerCuts.cuts(lower: ["100"], upper: ["103"], rows: 3, parts: 16) == [["101"], ["102"]])
    }

    @Test("sparse, unbounded, composite, non-integer and overflowing ranges read their cut points from the rows")
    func cutsFromRows() {
        #expect(IntegerCuts.cuts(lower: ["0"], upper: ["1000000"], rows: 100, parts: 16) == nil)
        #expect(IntegerCuts.cuts(lower: nil, upper: ["100"], rows: 100, parts: 16) == nil)
        #expect(IntegerCuts.cuts(lower: ["1"], upper: nil, rows: 100, parts: 16) == nil)
        #expect(IntegerCuts.cuts(lower: ["1", "a"], upper: ["9", "b"], rows: 100, parts: 16) == nil)
        #expect(IntegerCuts.cuts(lower: ["a"], upper: ["b"], rows: 100, parts: 16) == nil)
        #expect(IntegerCuts.cuts(lower: ["\(Int.min)"], upper: ["\(Int.max)"], rows: Int.max, parts: 16) == nil)
        #expect(IntegerCuts.cuts(lower: ["18446744073709551614"], upper: ["18446744073709551615"], rows: 1, parts: 16) == nil)
    }

    @Test("the next chunk of a dense integer key ends where the previous chunk's key density puts the planned rows")
    func computedChunkBound() {
        // 10,000 rows over 20,000 key values: 2 values per row, so 5,000 rows end 10,000 values further.
        let bound = IntegerChunkBound.next(after: ["20000"], previous: (["0"], ["20000"], 10_000), plannedRows: 5_000, lastKey: 1_000_000)
        #expect(bound == .upper(["30000"]))
        // At or past the largest key the chunk is the last one, open above.
        #expect(IntegerChunkBound.next(after: ["20000"], previous: (["0"], ["20000"], 10_000), plannedRows: 5_000, lastKey: 30_000) == .open)
        #expect(IntegerChunkBound.next(after: ["20000"], previous: (["0"], ["20000"], 10_000), plannedRows: 5_000, lastKey: 25_000) == .open)
        // Rounded up, never an empty width.
        #expect(IntegerChunkBound.next(after: ["-3"], previous: (["-6"], ["-3"], 3), plannedRows: 1, lastKey: 100) == .upper(["-2"]))
        #expect(IntegerChunkBound.next(after: [String(Int.max - 10)], previous: (["\(Int.max - 20)"], ["\(Int.max - 10)"], 10), plannedRows: 100, lastKey: Int.max) == .open)
    }

    @Test("a chunk bound is read from the rows after a sparse, empty or unbounded chunk, for composite keys and without a largest key")
    func chunkBoundReadFromRows() {
        // More than 4 key values per row: the keys beyond could be 4+ times denser, so the guess is not bounded.
        #expect(IntegerChunkBound.next(after: ["50000"], previous: (["0"], ["50000"], 10_000), plannedRows: 10_000, lastKey: 1_000_000) == nil)
        #expect(IntegerChunkBound.next(after: ["20000"], previous: (["0"], ["20000"], 0), plannedRows: 10_000, lastKey: 1_000_000) == nil)
        #expect(IntegerChunkBound.next(after: ["1000"], previous: (nil, ["1000"], 1_000), plannedRows: 2_000, lastKey: 1_000_000) == nil)
        #expect(IntegerChunkBound.next(after: nil, previous: nil, plannedRows: 1_000, lastKey: 1_000_000) == nil)
        #expect(IntegerChunkBound.next(after: ["1", "a"], previous: (["0", "a"], ["1", "a"], 10), plannedRows: 10, lastKey: 100) == nil)
        #expect(IntegerChunkBound.next(after: ["b"], previous: (["a"], ["b"], 10), plannedRows: 10, lastKey: 100) == nil)
        #expect(IntegerChunkBound.next(after: ["20000"], previous: (["0"], ["20000"], 10_000), plannedRows: 5_000, lastKey: nil) == nil)
        // Not the chunk right before: its density says nothing about where this one starts.
        #expect(IntegerChunkBound.next(after: ["30000"], previous: (["0"], ["20000"], 10_000), plannedRows: 5_000, lastKey: 1_000_000) == nil)
        #expect(IntegerChunkBound.next(after: ["0"], previous: (["0"], ["\(Int.max)"], Int.max), plannedRows: Int.max, lastKey: Int.max) == nil)
    }
}
