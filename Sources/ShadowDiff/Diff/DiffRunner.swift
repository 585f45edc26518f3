import ShadowSQL

/// Runs a whole diff: every table pair in turn on one base and one shadow session, optional consistent snapshot,
/// then repair (printed or applied in batches, each in a transaction, followed by a re-check).
public struct DiffRunner {
    /// What to do with differences.
    public enum Repair: String, Sendable, CaseIterable {
        case none, print, apply
    }

    public var options: DiffOptions
    public var repair: Repair
    /// Statements per repair transaction.
    public var repairBatchSize: Int = 200
    public var progress: ((String) -> Void)?

    public init(options: DiffOptions, repair: Repair = .none, progress: ((String) -> Void)? = nil) {
        self.options = options
        self.repair = repair
        self.progress = progress
    }

    /// The report, and the repair script when repair is `print`.
    public struct Result {
        public var report: DiffReport
        public var repairScript: String
    }

    public func run(lane: String, pairs: [TablePair], base: any DiffConnection, shadow: any DiffConnection) throws -> Result {
        let differ = TableDiffer(base: base, shadow: shadow, options: options, progress: progress)
        // Every table must exist on both sides before anything is compared or written.
        for pair in pairs { _ = try differ.prepare(pair) }
        if options.consistentSnapshot {
            for connection in [base, shadow] {
                try connection.execute(
                    connection.dialect == .mysql
                        ? "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"
                        : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                )
            }
        }
        var outcomes: [TableDiffer.Outcome] = []
        do {
            for pair in pairs { outcomes.append(try differ.diff(pair, recheck: true)) }
        } catch {
            if options.consistentSnapshot { for connection in [base, shadow] { _ = try? connection.execute("ROLLBACK") } }
            throw error
        }
        if options.consistentSnapshot { for connection in [base, shadow] { try connection.execute("COMMIT") } }

        var report = DiffReport(lane: lane, tables: outcomes.map(\.report))
        var script = ""
        guard repair != .none else { return Result(report: report, repairScript: "") }
        for (index, outcome) in outcomes.enumerated() where !outcome.differences.isEmpty {
            let planner = RepairPlanner(shadow: outcome.shadowQueries, columnNames: outcome.report.columns)
            let statements = outcome.differences.flatMap(planner.statements(for:))
            let batches = RepairPlanner.batches(statements, batchSize: repairBatchSize)
            switch repair {
            case .none: break
            case .print:
                script += "-- \(outcome.report.shadow): make it match \(outcome.report.base)\n"
                script += RepairPlanner.script(batches, dialect: shadow.dialect)
            case .apply:
                for batch in batches { try apply(batch, on: shadow) }
                progress?("\(outcome.report.shadow): \(statements.count) repair statement(s) applied; re-checking")
                var recheckOptions = options
                recheckOptions.consistentSnapshot = false
                recheckOptions.recheckDelaySeconds = 0
                let recheck = TableDiffer(base: base, shadow: shadow, options: recheckOptions, progress: progress)
                var after = try recheck.diff(pairs[index], recheck: false).report
                after.repairStatementsApplied = statements.count
                report.tables[index] = after
            }
        }
        return Result(report: report, repairScript: script)
    }

    /// One repair batch in one transaction: all of it or none of it.
    private func apply(_ batch: [String], on connection: any DiffConnection) throws {
        try connection.execute(connection.dialect == .mysql ? "START TRANSACTION" : "BEGIN")
        do {
            for statement in batch { try connection.execute(statement) }
            try connection.execute("COMMIT")
        } catch {
            _ = try? connection.execute("ROLLBACK")
            throw error
        }
    }
}
