import ArgumentParser
import ShadowConfig
import ShadowDiff

/// `shadowgate diff`: compares every mapped table of a lane with its shadow, reports the differences, and can
/// write or apply the SQL that makes the shadow match base.
public struct DiffCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare a lane's shadow tables with their base tables (or a MySQL listener's tables with a PostgreSQL one's).",
        discussion: """
            Splits each table by its primary key into chunks, checksums each chunk on both sides in SQL, bisects \
            differing chunks and fetches only small ranges of rows. Exit status: 0 identical, 1 differences, \
            2 error (nothing written).
            """
    )

    @Option(name: .long, help: "Path to the YAML configuration file.")
    var config: String

    @Option(name: .long, help: "The lane whose shadows to compare (with --mirror: whose dual-write stream; the base lane's name for base_dual_write).")
    var lane: String?

    @Option(name: .long, help: "Compare the --listener's tables with the same tables behind this listener of the other protocol (MySQL against PostgreSQL); each side is read with its listener's credentials.")
    var against: String?

    @Flag(name: .long, help: "Compare the lane's dual-write primary tables with the mirror, honouring the stream's tables and columns maps.")
    var mirror = false

    @Option(name: .long, help: "The listener (base server) to use; required when the configuration has several.")
    var listener: String?

    @Option(name: .long, help: "A base table to compare (`t` or `db.t`); repeatable. Default: every mapped table.")
    var table: [String] = []

    @Option(name: .long, help: "Report format: text or json.")
    var format: Format = .text

    @Option(name: .long, help: "Repair the shadow: print (write the SQL to standard output) or apply (run it, then re-check).")
    var repair: RepairMode?

    @Option(name: .customLong("chunk-rows"), help: "Rows in the first chunk; later chunks adapt to --target-chunk-time.")
    var chunkRows: Int = 1000

    @Option(name: .customLong("target-chunk-time"), help: "Target time per chunk checksum (e.g. 200ms); 0 keeps --chunk-rows fixed.")
    var targetChunkTime: String = "200ms"

    @Option(name: .customLong("recheck-delay"), help: "Wait before re-checking rows that differ (data may be moving).")
    var recheckDelay: String = "2s"

    @Option(name: .long, help: "Pause between chunks, to spare the servers (e.g. 50ms).")
    var pause: String = "0ms"

    @Flag(name: .customLong("consistent-snapshot"), help: "Read each side in one consistent snapshot.")
    var consistentSnapshot = false

    enum Format: String, ExpressibleByArgument { case text, json }
    enum RepairMode: String, ExpressibleByArgument { case print, apply }

    public init() {}

    public func validate() throws {
        if against != nil {
            guard lane == nil, !mirror else { throw ValidationError("--against compares two listeners' tables; it takes no --lane or --mirror") }
        } else if lane == nil {
            throw ValidationError("--lane is required (or --against, to compare a MySQL listener's tables with a PostgreSQL one's)")
        }
        guard chunkRows >= 1 else { throw ValidationError("--chunk-rows must be at least 1") }
        for (name, value) in [("--target-chunk-time", targetChunkTime), ("--recheck-delay", recheckDelay), ("--pause", pause)]
        where DurationText.seconds(value) == nil {
            throw ValidationError("\(name): '\(value)' is not a duration; use e.g. 200ms, 2s or 0")
        }
    }

    public func run() async throws {
        let io = CommandIO.current
        var options = DiffOptions()
        options.chunkRows = chunkRows
        options.targetChunkSeconds = DurationText.seconds(targetChunkTime) ?? 0.2
        options.recheckDelaySeconds = DurationText.seconds(recheckDelay) ?? 2
        options.pauseSeconds = DurationText.seconds(pause) ?? 0
        options.consistentSnapshot = consistentSnapshot
        var exit: ExitCode?
        try runDataTool(configPath: config, io: io) { configuration in
            let (label, base, shadow, pairs) = try sides(configuration)
            let mode: DiffRunner.Repair = repair.map { $0 == .print ? .print : .apply } ?? .none
            let progress = terminalProgress(io: io)
            let result = try DiffRunner(options: options, repair: mode, progress: progress)
                .run(lane: label, pairs: pairs, base: base, shadow: shadow)
            if progress != nil { io.writeError("\r\u{1B}[K") }
            if mode == .print {
                // The script goes to standard output so it can be piped; the report then goes to standard error.
                io.write(result.repairScript)
                io.writeError(format == .json ? ReportRenderer.json(result.report) : ReportRenderer.text(result.report))
            } else {
                io.write(format == .json ? ReportRenderer.json(result.report) : ReportRenderer.text(result.report))
            }
            io.flush()
            if result.report.exitCode != 0 { exit = DataToolExit.differences }
        }
        if let exit { throw exit }
    }

    /// The report's label, both sides' sessions and the table pairs: a lane's shadows, a dual-write mirror, or
    /// (`--against`) another listener's tables on the other engine.
    func sides(_ configuration: ShadowgateConfiguration) throws
        -> (label: String, base: any DiffConnection, shadow: any DiffConnection, pairs: [TablePair])
    {
        if let against {
            let target = try CrossEngineTarget.resolve(configuration: configuration, listener: listener, against: against)
            let base = try target.connectBase()
            let other = try target.connectOther()
            return (target.label, base, other, try target.pairs(requested: table, base: base, other: other))
        }
        let lane = lane ?? ""
        let target = try mirror
            ? DataToolTarget.resolveMirror(configuration: configuration, lane: lane, listener: listener)
            : DataToolTarget.resolve(configuration: configuration, lane: lane, listener: listener)
        let base = try target.connectBase()
        let shadow = try target.connectShadow()
        return (lane, base, shadow, try target.pairs(requested: table, base: base))
    }
}
