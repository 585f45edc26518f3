import Foundation
import ShadowConfig
import ShadowDiff
import ShadowSQL
import Testing

/// The diff's chunks cut up front (after a differing chunk) and its batched bisection levels, against the real
/// servers: differences at chunk edges are found exactly as with whole-chunk checksums, for an integer key (cut
/// points computed from the bounds) and a text key (cut points read from the rows).
@Suite struct DiffSplitIntegrationTests {
    /// `name` with 2,000 rows keyed 1…2000 (text keys `c0001`…`c2000`) and a shadow with 3 rows missing, 2 extra
    /// (before the first and after the last key) and 5 changed, at the edges of the 100-row chunks: chunk 1 turns
    /// cutting up front on, chunk 2 is cut up front, chunks 3–9 are identical (it turns off again), chunk 10 is
    /// checksummed whole, chunk 11 and the last chunk are cut up front.
    func makeTable(_ h: DataToolHarness, _ name: String, textKey: Bool) throws {
        let key = textKey ? "VARCHAR(20)" : "BIGINT"
        func k(_ n: Int) -> String { textKey ? String(format: "'c%04d'", n) : String(n) }
        let keyOf = h.dialect == .mysql
            ? (textKey ? "CONCAT('c', LPAD(seq, 4, '0'))" : "seq") : (textKey ? "'c' || lpad(s::text, 4, '0')" : "s")
        let rows = h.dialect == .mysql
            ? "SELECT \(keyOf), CONCAT('n', seq), seq FROM seq_1_to_2000" : "SELECT \(keyOf), 'n' || s, s FROM generate_series(1, 2000) s"
        let shadow = h.t("\(name)_gray")
        try h.run(
            "CREATE TABLE \(h.t(name)) (k \(key) PRIMARY KEY, name VARCHAR(50), qty INT)",
            "INSERT INTO \(h.t(name)) \(rows)",
            "CREATE TABLE \(shadow) (k \(key) PRIMARY KEY, name VARCHAR(50), qty INT)",
            "INSERT INTO \(shadow) \(rows)",
            "DELETE FROM \(shadow) WHERE k IN (\(k(1)), \(k(200)), \(k(1001)))",
            "INSERT INTO \(shadow) VALUES (\(k(0)), 'before', 0), (\(k(2001)), 'after', 0)",
            "UPDATE \(shadow) SET name = 'changed' WHERE k IN (\(k(100)), \(k(101)), \(k(1000)), \(k(1100)), \(k(2000)))"
        )
    }

    /// Diffs `name` with the library directly, recording every statement each side ran.
    func diff(_ h: DataToolHarness, _ name: String, cutUpFront: Int) throws -> (TableDiffer.Outcome, [String]) {
        let configuration = try ShadowgateConfiguration.load(path: try h.configuration())
        let target = try DataToolTarget.resolve(configuration: configuration, lane: "gray", listener: nil)
        let base = RecordingConnection(try target.connectBase())
        let shadow = RecordingConnection(try target.connectShadow())
        let pairs = try target.pairs(requested: [h.t(name)], base: base)
        var options = DiffOptions()
        options.chunkRows = 100
        options.targetChunkSeconds = 0
        options.recheckDelaySeconds = 0
        options.cutUpFrontUntilIdentical = cutUpFront
        options.splitBatchRanges = 3
        let outcome = try TableDiffer(base: base, shadow: shadow, options: options).diff(try #require(pairs.first), recheck: true)
        return (outcome, base.statements + shadow.statements)
    }

    @Test(
        "differences at chunk edges are found when chunks are cut up front, for integer and text keys",
        arguments: SQLDialect.allCases, [false, true]
    )
    func chunkEdgesCutUpFront(dialect: SQLDialect, textKey: Bool) throws {
        let h = try DataToolHarness(dialect)
        defer { h.drop() }
        try makeTable(h, "edges", textKey: textKey)
        let (outcome, statements) = try diff(h, "edges", cutUpFront: 4)
        let report = outcome.report
        #expect(report.rowsCompared == 2000)
        #expect(report.chunks == 21)
        func keys(_ kind: RowDifference.Kind) -> [Int] {
            outcome.differences.filter { $0.kind == kind }.compactMap { Int($0.key[0].filter(\.isNumber)) }.sorted()
        }
        #expect(keys(.missing) == [1, 200, 1001])
        #expect(keys(.extra) == [0, 2001])
        #expect(keys(.changed) == [100, 101, 1000, 1100, 2000])
        #expect(outcome.differences.filter { $0.kind == .changed }.allSatisfy { $0.columns == ["name"] })

        // Checksummed whole: chunks 1, 7–10 and 16–20 (after a run of 4 identical chunks); the other 11 are cut up
        // front, each in one grouped statement per side.
        let wholeChunks = statements.filter { $0.hasPrefix("SELECT COUNT(*)") }.count
        #expect(wholeChunks == 2 * 10, "\(wholeChunks)")
        #expect(statements.contains { $0.contains(" AS part, ") })
        // A text key reads its cut points from the rows; an integer key computes them from the bounds (except for
        // the unbounded last chunk).
        let cutQueries = statements.filter { $0.hasPrefix("SELECT g, k0 FROM") }.count
        if textKey { #expect(cutQueries > 10) } else { #expect(cutQueries <= 2, "\(cutQueries)") }

        // Whole-chunk checksums only: the same differences.
        let (whole, wholeStatements) = try diff(h, "edges", cutUpFront: 0)
        #expect(Set(whole.differences.map { "\($0.kind) \($0.key)" }) == Set(outcome.differences.map { "\($0.kind) \($0.key)" }))
        #expect(wholeStatements.filter { $0.hasPrefix("SELECT COUNT(*)") }.count == 2 * 21)
    }
}

/// A real session that also records the statements it ran, to tell which path the diff took.
final class RecordingConnection: DiffConnection {
    let inner: any DiffConnection
    private(set) var statements: [String] = []
    private let lock = NSLock()

    init(_ inner: any DiffConnection) { self.inner = inner }

    var dialect: SQLDialect { inner.dialect }

    func query(_ sql: String) throws -> [[String?]] {
        lock.withLock { statements.append(sql) }
        return try inner.query(sql)
    }

    func execute(_ sql: String) throws -> Int {
        lock.withLock { statements.append(sql) }
        return try inner.execute(sql)
    }
}
