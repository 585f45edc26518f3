import Dispatch
import ShadowSQL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Compares one base table with its shadow: chunks by key, checksums each chunk on both sides, bisects chunks that
/// differ down to small ranges and only then fetches rows. Queries run one at a time per side; the two sides' checksum
/// queries run in parallel (each side has its own session).
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
            throw Self.absent(pair.base, on: base, otherwise: .unknownTable(pair.base.description))
        }
        guard let shadowSchema = try SchemaReader(connection: shadow).read(pair.shadow) else {
            throw Self.absent(
                pair.shadow, on: shadow, otherwise: .missingShadowTable(base: pair.base.description, shadow: pair.shadow.description)
            )
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
        // Columns of the same type (and collation) on both sides are hashed as the server prints them; keyed by the
        // base name, looked up per side under that side's name.
        let sameType = Set(common.filter { name in
            guard let b = baseSchema.column(named: name), let s = shadowSchema.column(named: pair.shadowColumn(name))
            else { return false }
            return b.columnType == s.columnType && b.dataType == s.dataType && b.collation == s.collation
        })
        let hash = TableQueries.cheapestChunkHash(for: [base, shadow])
        func queries(_ schema: TableSchema, _ dialect: SQLDialect, _ name: (String) -> String) -> TableQueries {
            let columns = common.compactMap { schema.column(named: name($0)) }
            let keyColumns = key.compactMap { schema.column(named: name($0)) }
            return TableQueries(
                dialect: dialect, table: schema.table, columns: columns, key: keyColumns,
                sameTypeColumns: Set(sameType.map(name)), chunkHash: hash
            )
        }
        return (queries(baseSchema, base.dialect, { $0 }), queries(shadowSchema, shadow.dialect, pair.shadowColumn), report)
    }

    /// Why a table is not in the catalog: MySQL hides tables the login may not read, so a probe tells a missing
    /// privilege (reported as such) from a table that really does not exist.
    static func absent(_ table: TableName, on connection: any DiffConnection, otherwise: DataToolError) -> DataToolError {
        do {
            _ = try connection.query("SELECT 1 FROM \(table.sql(connection.dialect)) WHERE 1=0")
        } catch let error as DataToolError where error.isPermission {
            return error
        } catch {}
        return otherwise
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
            if recheck, !differences.isEmpty, !options.consistentSnapshot {
                sleepSeconds(options.recheckDelaySeconds)
                let held = try recheckKeyless(differences, baseQueries, shadowQueries)
                report.resolvedOnRecheck = differences.count - held.count
                report.rechecked = true
                differences = held
            }
        } else {
            var run = Run(differ: self, baseQueries: baseQueries, shadowQueries: shadowQueries)
            try run.chunks(report: &report)
            differences = run.differences
            differingRanges = run.leafRanges
            if recheck, !differences.isEmpty, !options.consistentSnapshot {
                sleepSeconds(options.recheckDelaySeconds)
                var held: [RowDifference] = []
                for batch in Run.batches(differingRanges, leafRows: options.leafRows, batchRows: options.leafBatchRows) {
                    held += try run.compareRows(batch)
                }
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
        /// Differing leaves not fetched yet, and their rows by the checksums' counts.
        var pendingLeaves: [KeyRange] = []
        var pendingRows = 0

        init(differ: TableDiffer, baseQueries: TableQueries, shadowQueries: TableQueries) {
            self.differ = differ
            self.baseQueries = baseQueries
            self.shadowQueries = shadowQueries
        }

        /// Both sides' checksums of a range, queried in parallel.
        func checksums(_ range: KeyRange) throws -> (ChunkChecksum, ChunkChecksum) {
            try differ.onBothSides { try checksum($0, range) }
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

        /// Per part index, the checksum of `range.split(at: cuts)`'s parts on one side (absent: no rows).
        func partChecksums(_ side: Side, cuts: [KeyValue], in range: KeyRange) throws -> [Int: ChunkChecksum] {
            let (connection, queries) = side == .base ? (differ.base, baseQueries) : (differ.shadow, shadowQueries)
            var parts: [Int: ChunkChecksum] = [:]
            for row in try connection.query(queries.partChecksums(cuts: cuts, in: range)) where row.count >= 3 {
                guard let index = row[0].flatMap({ Int($0) }) else { continue }
                parts[index] = ChunkChecksum(rows: row[1].flatMap { Int($0) } ?? 0, sum: row[2] ?? "0")
            }
            return parts
        }

        func boundaries(_ side: Side, every step: Int, in range: KeyRange) throws -> [KeyValue] {
            let (connection, queries) = side == .base ? (differ.base, baseQueries) : (differ.shadow, shadowQueries)
            return try connection.query(queries.boundaries(every: step, in: range)).map { row in row.map { $0 ?? "" } }
        }

        mutating func chunks(report: inout TableReport) throws {
            var sizer = ChunkSizer(initialRows: differ.options.chunkRows, targetSeconds: differ.options.targetChunkSeconds)
            var lower: KeyValue? = nil
            while true {
                let upper = try keyAt(.base, offset: sizer.rows - 1, in: KeyRange(lower: lower, upper: nil))
                let range = KeyRange(lower: lower, upper: upper)
                let started = monotonicSeconds()
                let (baseSum, shadowSum) = try checksums(range)
                sizer.record(rows: max(baseSum.rows, 1), seconds: monotonicSeconds() - started)
                report.rowsCompared += baseSum.rows
                report.chunks += 1
                differ.progress?("\(baseQueries.table): chunk \(report.chunks), \(report.rowsCompared) rows compared")
                try bisect(range, base: baseSum, shadow: shadowSum)
                guard let upper else { break }
                lower = upper
                sleepSeconds(differ.options.pauseSeconds)
            }
            try flushLeaves()
        }

        mutating func bisect(_ range: KeyRange, base: ChunkChecksum, shadow: ChunkChecksum) throws {
            switch RangeStep.decide(base: base, shadow: shadow, leafRows: differ.options.leafRows) {
            case .identical:
                return
            case .compareRows:
                // Leaves wait, across chunks, until their rows fill a batch (or the table ends): scattered
                // differences then cost one row query per side per batch instead of one per difference.
                leafRanges.append(range)
                let rows = max(base.rows, shadow.rows)
                if pendingRows + rows > differ.options.leafBatchRows { try flushLeaves() }
                pendingLeaves.append(range)
                pendingRows += rows
            case .split(let side, _):
                // Cut into `splitFanout` parts in one pass over the fuller side's keys, then checksum the parts: a
                // differing range is read about once per level instead of twice (both halves) plus an OFFSET scan.
                let rows = max(base.rows, shadow.rows)
                let fanout = max(2, differ.options.splitFanout)
                let cuts = try boundaries(side, every: max(1, (rows + fanout - 1) / fanout), in: range)
                guard !cuts.isEmpty else { return }
                // All parts' checksums in one grouped query per side.
                let run = self
                let (baseParts, shadowParts) = try differ.onBothSides { try run.partChecksums($0, cuts: cuts, in: range) }
                let empty = ChunkChecksum(rows: 0, sum: "0")
                for (index, part) in range.split(at: cuts).enumerated() {
                    try bisect(part, base: baseParts[index] ?? empty, shadow: shadowParts[index] ?? empty)
                }
            }
        }

        /// Fetches and compares the pending leaves, one query per side for all of them.
        mutating func flushLeaves() throws {
            guard !pendingLeaves.isEmpty else { return }
            let found = try compareRows(pendingLeaves)
            pendingLeaves = []
            pendingRows = 0
            guard differences.count + found.count <= differ.options.maxDifferences else {
                throw DataToolError.unsupported(
                    "table \(baseQueries.table): more than \(differ.options.maxDifferences) differing rows; the shadow is "
                        + "too far from base to repair row by row — recreate it (shadow-ddl) and copy the data instead"
                )
            }
            differences += found
        }

        /// Consecutive groups of `ranges` of at most `batchRows` rows, counting each range as `leafRows`.
        static func batches(_ ranges: [KeyRange], leafRows: Int, batchRows: Int) -> [[KeyRange]] {
            let size = max(1, batchRows / max(1, leafRows))
            return stride(from: 0, to: ranges.count, by: size).map { Array(ranges[$0..<min($0 + size, ranges.count)]) }
        }

        /// The rows of disjoint ranges on both sides (one query per side, in parallel), compared by key.
        func compareRows(_ ranges: [KeyRange]) throws -> [RowDifference] {
            let keyCount = baseQueries.key.count
            let run = self
            let (baseRows, shadowRows) = try differ.onBothSides { side in
                let (connection, queries) = side == .base ? (run.differ.base, run.baseQueries) : (run.differ.shadow, run.shadowQueries)
                return try connection.query(queries.rows(ranges)).map { FetchedRow(columns: $0, keyCount: keyCount) }
            }
            return RowComparison.compare(base: baseRows, shadow: shadowRows, columnNames: baseQueries.columns.map(\.name))
        }
    }

    /// Runs `body` for the base side on this thread and for the shadow side on another, and waits for both. When
    /// both sides share one session they run one after the other.
    func onBothSides<T>(_ body: @escaping (Side) throws -> T) throws -> (T, T) {
        guard base !== shadow else { return (try body(.base), try body(.shadow)) }
        let shadowResult = ResultBox<T>()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            shadowResult.result = Result { try body(.shadow) }
            group.leave()
        }
        let baseResult = Result { try body(.base) }
        group.wait()
        guard let shadowOutcome = shadowResult.result else { throw DataToolError.unsupported("internal: shadow side did not run") }
        return (try baseResult.get(), try shadowOutcome.get())
    }
}

/// Carries one side's result across threads; written before `DispatchGroup.leave`, read after `wait`.
private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
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
