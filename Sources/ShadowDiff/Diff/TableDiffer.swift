import ShadowSQL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Compares one base table with its shadow: chunks by key, checksums each chunk on both sides, bisects chunks that
/// differ down to small ranges and only then fetches rows. Queries run one at a time per side.
public final class TableDiffer {
    public let base: any DiffConnection
    public let shadow: any DiffConnection
    public let options: DiffOptions
    /// Progress lines (the CLI passes one only when standard error is a terminal).
    public let progress: ((String) -> Void)?

    public init(base: any DiffConnection, shadow: any DiffConnection, options: DiffOptions, progress: ((String) -> Void)? = nil) {
        self.base = base
        self.shadow = shadow
        self.options = options
        self.progress = progress
    }

    /// The result of one table: the report and every difference (for repair).
    public struct Outcome {
        public var report: TableReport
        public var differences: [RowDifference]
        /// Statements are built against the shadow side's column types.
        public var shadowQueries: TableQueries
    }

    /// The pair of query builders for a table pair, after checking both tables exist and share a key.
    public func prepare(_ pair: TablePair) throws -> (TableQueries, TableQueries, TableReport) {
        guard let baseSchema = try SchemaReader(connection: base).read(pair.base) else {
            throw DataToolError.unknownTable(pair.base.description)
        }
        guard let shadowSchema = try SchemaReader(connection: shadow).read(pair.shadow) else {
            throw DataToolError.missingShadowTable(base: pair.base.description, shadow: pair.shadow.description)
        }
        var report = TableReport(base: pair.base.description, shadow: pair.shadow.description)
        let shadowNames = Set(shadowSchema.columns.map(\.name))
        let baseNames = Set(baseSchema.columns.map { pair.shadowColumn($0.name) })
        let common = baseSchema.columns.filter { shadowNames.contains(pair.shadowColumn($0.name)) }.map(\.name)
        report.columns = common
        report.columnsOnlyInBase = baseSchema.columns.map(\.name).filter { !shadowNames.contains(pair.shadowColumn($0)) }
        report.columnsOnlyInShadow = shadowSchema.columns.map(\.name).filter { !baseNames.contains($0) }

        let baseKey = baseSchema.chunkKey
        let shadowKey = shadowSchema.chunkKey
        if baseKey.map({ $0.map(pair.shadowColumn) }) != shadowKey {
            throw DataToolError.differentKeys(table: pair.base.description, base: baseKey ?? [], shadow: shadowKey ?? [])
        }
        let key = baseKey ?? []
        report.key = key
        func queries(_ schema: TableSchema, _ dialect: SQLDialect, _ name: (String) -> String) -> TableQueries {
            let columns = common.compactMap { schema.column(named: name($0)) }
            let keyColumns = key.compactMap { schema.column(named: name($0)) }
            return TableQueries(dialect: dialect, table: schema.table, columns: columns, key: keyColumns)
        }
        return (queries(baseSchema, base.dialect, { $0 }), queries(shadowSchema, shadow.dialect, pair.shadowColumn), report)
    }

    /// Compares the table pair.
    public func diff(_ pair: TablePair, recheck: Bool) throws -> Outcome {
        let (baseQueries, shadowQueries, initial) = try prepare(pair)
        var report = initial
        var differences: [RowDifference] = []
        var differingRanges: [KeyRange] = []
        if baseQueries.key.isEmpty {
            report.warnings.append(
                "no primary key or unique NOT NULL key: compared by a full ordered scan of row digests; add a key for "
                    + "chunked comparison"
            )
            differences = try compareKeyless(baseQueries, shadowQueries, report: &report)
        } else {
            var run = Run(differ: self, baseQueries: baseQueries, shadowQueries: shadowQueries)
            try run.chunks(report: &report)
            differences = run.differences
            differingRanges = run.leafRanges
            if recheck, !differences.isEmpty, !options.consistentSnapshot {
                sleepSeconds(options.recheckDelaySeconds)
                var held: [RowDifference] = []
                for range in differingRanges { held += try run.compareRows(range) }
                let heldKeys = Set(held.map { HeldKey($0) })
                report.resolvedOnRecheck = differences.filter { !heldKeys.contains(HeldKey($0)) }.count
                report.rechecked = true
                differences = held
            }
        }
        report.missingInShadow = differences.filter { $0.kind == .missing }.reduce(0) { $0 + $1.count }
        report.extraInShadow = differences.filter { $0.kind == .extra }.reduce(0) { $0 + $1.count }
        report.changed = differences.filter { $0.kind == .changed }.count
        report.examples = Array(differences.prefix(options.maxExamples))
        return Outcome(report: report, differences: differences, shadowQueries: shadowQueries)
    }

    private struct HeldKey: Hashable {
        var kind: RowDifference.Kind
        var key: KeyValue
        init(_ difference: RowDifference) {
            kind = difference.kind
            key = difference.key
        }
    }

    /// The state of one keyed comparison.
    struct Run {
        let differ: TableDiffer
        let baseQueries: TableQueries
        let shadowQueries: TableQueries
        var differences: [RowDifference] = []
        var leafRanges: [KeyRange] = []

        init(differ: TableDiffer, baseQueries: TableQueries, shadowQueries: TableQueries) {
            self.differ = differ
            self.baseQueries = baseQueries
            self.shadowQueries = shadowQueries
        }

        func checksum(_ side: Side, _ range: KeyRange) throws -> ChunkChecksum {
            let (connection, queries) = side == .base ? (differ.base, baseQueries) : (differ.shadow, shadowQueries)
            let row = try connection.query(queries.checksum(range)).first ?? []
            let rows = row.first.flatMap { $0 }.flatMap { Int($0) } ?? 0
            let sum = row.count > 1 ? (row[1] ?? "0") : "0"
            return ChunkChecksum(rows: rows, sum: sum)
        }

        func keyAt(_ side: Side, offset: Int, in range: KeyRange) throws -> KeyValue? {
            let (connection, queries) = side == .base ? (differ.base, baseQueries) : (differ.shadow, shadowQueries)
            guard let row = try connection.query(queries.keyAt(offset: offset, in: range)).first else { return nil }
            return row.map { $0 ?? "" }
        }

        mutating func chunks(report: inout TableReport) throws {
            var sizer = ChunkSizer(initialRows: differ.options.chunkRows, targetSeconds: differ.options.targetChunkSeconds)
            var lower: KeyValue? = nil
            while true {
                let upper = try keyAt(.base, offset: sizer.rows - 1, in: KeyRange(lower: lower, upper: nil))
                let range = KeyRange(lower: lower, upper: upper)
                let started = monotonicSeconds()
                let baseSum = try checksum(.base, range)
                let shadowSum = try checksum(.shadow, range)
                sizer.record(rows: max(baseSum.rows, 1), seconds: (monotonicSeconds() - started) / 2)
                report.rowsCompared += baseSum.rows
                report.chunks += 1
                differ.progress?("\(baseQueries.table): chunk \(report.chunks), \(report.rowsCompared) rows compared")
                try bisect(range, base: baseSum, shadow: shadowSum)
                guard let upper else { break }
                lower = upper
                sleepSeconds(differ.options.pauseSeconds)
            }
        }

        mutating func bisect(_ range: KeyRange, base: ChunkChecksum, shadow: ChunkChecksum) throws {
            switch RangeStep.decide(base: base, shadow: shadow, leafRows: differ.options.leafRows) {
            case .identical:
                return
            case .compareRows:
                leafRanges.append(range)
                let found = try compareRows(range)
                guard differences.count + found.count <= differ.options.maxDifferences else {
                    throw DataToolError.unsupported(
                        "table \(baseQueries.table): more than \(differ.options.maxDifferences) differing rows; the shadow is "
                            + "too far from base to repair row by row — recreate it (shadow-ddl) and copy the data instead"
                    )
                }
                differences += found
            case .split(let side, let offset):
                guard let middle = try keyAt(side, offset: offset, in: range) else { return }
                let (low, high) = range.split(at: middle)
                try bisect(low, base: try checksum(.base, low), shadow: try checksum(.shadow, low))
                try bisect(high, base: try checksum(.base, high), shadow: try checksum(.shadow, high))
            }
        }

        func compareRows(_ range: KeyRange) throws -> [RowDifference] {
            let keyCount = baseQueries.key.count
            let baseRows = try differ.base.query(baseQueries.rows(range)).map { FetchedRow(columns: $0, keyCount: keyCount) }
            let shadowRows = try differ.shadow.query(shadowQueries.rows(range)).map { FetchedRow(columns: $0, keyCount: keyCount) }
            return RowComparison.compare(base: baseRows, shadow: shadowRows, columnNames: baseQueries.columns.map(\.name))
        }
    }

    // MARK: Tables without a key

    /// Compares the two tables as multisets of rows: pages of (row digest, count) in digest order from both sides,
    /// merged; rows whose digest count differs are fetched and reported as missing or extra.
    func compareKeyless(_ baseQueries: TableQueries, _ shadowQueries: TableQueries, report: inout TableReport) throws
        -> [RowDifference]
    {
        let page = max(100, options.chunkRows)
        var cursor: String? = nil
        var surplus: [(digest: String, side: Side, count: Int)] = []
        while true {
            let basePage = try base.query(baseQueries.digestPage(after: cursor, limit: page)).map { ($0[0] ?? "", Int($0[1] ?? "0") ?? 0) }
            let shadowPage = try shadow.query(shadowQueries.digestPage(after: cursor, limit: page)).map { ($0[0] ?? "", Int($0[1] ?? "0") ?? 0) }
            report.chunks += 1
            // Only digests up to the smaller "last digest" of a full page are known on both sides.
            var bound: String? = nil
            if basePage.count == page, let last = basePage.last?.0 { bound = last }
            if shadowPage.count == page, let last = shadowPage.last?.0 { bound = bound.map { min($0, last) } ?? last }
            var counts: [String: (Int, Int)] = [:]
            for (digest, count) in basePage where bound.map({ digest <= $0 }) ?? true { counts[digest, default: (0, 0)].0 = count }
            for (digest, count) in shadowPage where bound.map({ digest <= $0 }) ?? true { counts[digest, default: (0, 0)].1 = count }
            for (digest, (b, s)) in counts.sorted(by: { $0.key < $1.key }) {
                report.rowsCompared += b
                if b > s { surplus.append((digest, .base, b - s)) }
                if s > b { surplus.append((digest, .shadow, s - b)) }
            }
            guard let bound else { break }
            cursor = bound
            sleepSeconds(options.pauseSeconds)
        }
        var differences: [RowDifference] = []
        for side in [Side.base, .shadow] {
            let wanted = surplus.filter { $0.side == side }
            for batch in stride(from: 0, to: wanted.count, by: 100).map({ Array(wanted[$0..<min($0 + 100, wanted.count)]) }) {
                let (connection, queries) = side == .base ? (base, baseQueries) : (shadow, shadowQueries)
                let rows = try connection.query(queries.rows(withDigests: batch.map(\.digest)))
                var seen = Set<String>()
                for row in rows {
                    let digest = row.first.flatMap { $0 } ?? ""
                    guard seen.insert(digest).inserted, let entry = batch.first(where: { $0.digest == digest }) else { continue }
                    let fetched = FetchedRow(columns: row, keyCount: 1)
                    differences.append(
                        RowDifference(
                            kind: side == .base ? .missing : .extra, key: [digest],
                            baseValues: side == .base ? fetched.values : nil, shadowValues: side == .shadow ? fetched.values : nil,
                            count: entry.count
                        )
                    )
                }
            }
        }
        return differences
    }
}

/// Seconds on a monotonic clock.
func monotonicSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// Sleeps the calling thread (the tools' queries block anyway; they never run on an event loop).
func sleepSeconds(_ seconds: Double) {
    guard seconds > 0 else { return }
    usleep(UInt32(min(seconds, 3600) * 1_000_000))
}
