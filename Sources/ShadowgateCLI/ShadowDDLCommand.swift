import ArgumentParser
import ShadowConfig
import ShadowDiff

/// `shadowgate shadow-ddl`: prints (or applies) the DDL that creates a lane's missing shadow tables, and reports
/// existing shadows whose shape differs from base.
public struct ShadowDDLCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "shadow-ddl",
        abstract: "Print or apply the DDL that creates a lane's missing shadow tables.",
        discussion: """
            Existing shadow tables are compared with base (columns, types, nullability, defaults, keys, indexes, \
            foreign keys) and differences reported, never altered. Exit status: 0 everything in place (or created), \
            1 shape differences or foreign keys that could not be re-pointed, 2 error (nothing written).
            """
    )

    @Option(name: .long, help: "Path to the YAML configuration file.")
    var config: String

    @Option(name: .long, help: "The lane whose shadow tables to create.")
    var lane: String

    @Option(name: .long, help: "The listener (base server) to use; required when the configuration has several.")
    var listener: String?

    @Option(name: .long, help: "A base table (`t` or `db.t`); repeatable. Default: every mapped table.")
    var table: [String] = []

    @Flag(name: .long, help: "Run the DDL instead of only printing it.")
    var apply = false

    public init() {}

    public func run() async throws {
        let io = CommandIO.current
        var exit: ExitCode?
        try runDataTool(configPath: config, io: io) { configuration in
            let target = try DataToolTarget.resolve(configuration: configuration, lane: lane, listener: listener)
            let base = try target.connectBase()
            let shadow = target.sameServer ? base : try target.connectShadow()
            let pairs = try target.pairs(requested: table, base: base)
            let planner = ShadowDDLPlanner(base: base, shadow: shadow, naming: target.naming, sameServer: target.sameServer, lane: lane)
            let plan = try planner.plan(pairs)
            for statement in plan.statements { io.write(statement + ";\n") }
            if apply {
                try planner.apply(plan)
                for table in plan.created { io.writeError("created \(table)\n") }
            }
            for table in plan.upToDate { io.writeError("up to date: \(table)\n") }
            for problem in plan.problems { io.writeError("problem: \(problem)\n") }
            io.flush()
            if !plan.problems.isEmpty { exit = DataToolExit.differences }
        }
        if let exit { throw exit }
    }
}
