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
    public func prepare(_ requested: TablePair) throws -> (TableQueries, TableQueries, TableReport) {
        guard let baseSchema = try SchemaReader(connection: base).read(requested.base) else {
            throw Self.absent(requested.base, on: base, otherwise: .unknownTable(requested.base.description))
        }
        let crossEngine = base.dialect != shadow.dialect
        guard let shadowSchema = try SchemaReader(connection: shadow).read(requested.shadow) else {
            let missing = DataToolError.missingShadowTable(base: requested.base.description, shadow: requested.shadow.description)
            throw Self.absent(
                requested.shadow, on: shadow,
                otherwise: crossEngine
                    ? .unsupported(
                        "table \(requested.shadow) (for \(requested.base)) does not exist on the --against side; name it "
                            + "with --table \(requested.base)=schema.table"
                    ) : missing
            )
        }
        let pair = crossEngine ? Self.pairedRegardlessOfCase(requested, base: baseSchema, shadow: shadowSchema) : requested
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
        if crossEngine {
            try Self.checkCrossEngineKey(pair, base: (baseSchema, base.dialect), shadow: (shadowSchema, shadow.dialect), key: key)
        }
        // Columns of the same type (and collation) on both sides are hashed as the server prints them; keyed by the
        // base name, looked up per side under that side's name. Across engines no server text is shared.
        let sameType: Set<String> = crossEngine ? [] : Set(common.filter { name in
            guard let b = baseSchema.column(named: name), let s = shadowSchema.column(named: pair.shadowColumn(name))
            else { return false }
            return b.columnType == s.columnType && b.dataType == s.dataType && b.collation == s.collation
        })
        let hash = TableQueries.cheapestChunkHash(for: [base, shadow])
        func queries(_ schema: TableSchema, _ dialect: SQLDialect, _ name: (String) -> String) -> TableQueries {
            let columns = common.compactMap { schema.column(named: name($0)) }
            let keyColumns = key.compactMap { schema.column(named: name($0)) }
            var queries = TableQueries(
                dialect: dialect, table: schema.table, columns: columns, key: keyColumns,
                sameTypeColumns: Set(sameType.map(name)), chunkHash: hash
            )
            queries.canonicalValues = crossEngine
            return queries
        }
        return (queries(baseSchema, base.dialect, { $0 }), queries(shadowSchema, shadow.dialect, pair.shadowColumn), report)
    }

    /// Across engines a column without a namesake pairs with the other side's one column of the same name in
    /// another case: PostgreSQL folds unquoted names to lower case, so a MySQL `createdAt` usually arrives as
    /// `createdat`. A column the other side already pairs keeps its pairing.
    static func pairedRegardlessOfCase(_ pair: TablePair, base: TableSchema, shadow: TableSchema) -> TablePair {
        var pair = pair
        var taken = Set(base.columns.map { pair.shadowColumn($0.name) }).intersection(shadow.columns.map(\.name))
        for column in base.columns where !taken.contains(pair.shadowColumn(column.name)) {
            let matches = shadow.columns.filter { $0.name.lowercased() == column.name.lowercased() && !taken.contains($0.name) }
            guard matches.count == 1 else { continue }
            pair.columns[column.name] = matches[0].name
            taken.insert(matches[0].name)
        }
        return pair
    }

    /// Across engines the chunks' key ranges are evaluated by each server: only integer keys order the same on
    /// both (text keys follow each server's collation, so a row could fall in different chunks on the two sides).
    static func checkCrossEngineKey(
        _ pair: TablePair, base: (TableSchema, SQLDialect), shadow: (TableSchema, SQLDialect), key: [String]
    ) throws {
        let integers = !key.isEmpty && key.allSatisfy { name in
            base.0.column(named: name)?.valueClass(base.1) == .integer
                && shadow.0.column(named: pair.shadowColumn(name))?.valueClass(shadow.1) == .integer
        }
        guard integers else {
            throw DataToolError.unsupported(
                "table \(pair.base): comparing a MySQL table with a PostgreSQL table needs a primary key (or unique NOT "
                    + "NULL key) of integer columns on both sides, so both servers order and range it alike; its key is "
                    + (key.isEmpty ? "missing" : "(\(key.joined(separator: ", ")))") + ". Compare it on one engine, or add "
                    + "an integer key"
            )
        }
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
