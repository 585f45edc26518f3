import ArgumentParser
import ShadowConfig
import ShadowSQL

extension SQLDialect: ExpressibleByArgument {}

/// `shadowgate rewrite`: shows what the proxy would send for a statement in a lane, or why it would refuse it.
public struct RewriteCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rewrite",
        abstract: "Print a statement as a lane would run it, or the refusal and why.",
        discussion: """
            Exit status: 0 when the statement was printed (rewritten or unchanged), 1 when the lane refuses it, \
            2 when the configuration is invalid or unreadable or the lane is unknown. With --jsonl the status is 0 \
            whatever individual lines produced; each problem is reported on its own output line.
            """
    )

    @Option(name: .long, help: "Path to the YAML configuration file.")
    var config: String

    @Option(name: .long, help: "Lane to rewrite for (the base lane prints the statement unchanged). With --jsonl, the default for lines without \"lane\".")
    var lane: String?

    @Option(name: .long, help: "SQL dialect: mysql or postgres. With --jsonl, the default for lines without \"dialect\".")
    var dialect: SQLDialect?

    @Flag(name: .long, help: "Read JSON lines {\"id\",\"dialect\",\"lane\",\"sql\"} from standard input; write {\"id\",\"sql\"} or {\"id\",\"error\"} per line, in order.")
    var jsonl = false

    @Argument(help: "The statement; read from standard input when absent (not with --jsonl).")
    var sql: String?

    public init() {}

    public func validate() throws {
        if jsonl {
            if sql != nil { throw ValidationError("--jsonl reads statements from standard input; drop the SQL argument") }
        } else {
            if lane == nil { throw ValidationError("missing --lane") }
            if dialect == nil { throw ValidationError("missing --dialect (mysql or postgres)") }
        }
    }

    public func run() async throws {
        let io = CommandIO.current
        let configuration = try loadConfigurationOrExit(path: config, io: io, invalidExitCode: ExitCode(2))
        var rewriter = LaneStatementRewriter(routing: RoutingTable(configuration: configuration))
        if jsonl {
            JSONLinesSession(defaultLane: lane, defaultDialect: dialect).run(rewriter: &rewriter, io: io)
            return
        }
        guard let lane, let dialect else { throw ExitCode(64) }
        let statement = sql ?? io.readAll()
        switch rewriter.rewrite(statement, lane: lane, dialect: dialect) {
        case .statement(let text):
            io.write(text + "\n")
            io.flush()
        case .refused(let refusal):
            io.writeError("refused in lane '\(refusal.lane)' by \(refusal.rule.rawValue): \(refusal.message)\n")
            throw ExitCode(1)
        case .unknownLane(let message):
            io.writeError("error: \(message)\n")
            throw ExitCode(2)
        }
    }
}
