import ArgumentParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `shadowgate` command: serve, check, rewrite, diff, replay, shadow-ddl.
public struct Shadowgate: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "shadowgate",
        abstract: "A database proxy that keeps gray-release and stress-test traffic out of production data.",
        version: "0.1.0",
        subcommands: [
            ServeCommand.self, CheckCommand.self, RewriteCommand.self, DiffCommand.self, ShadowDDLCommand.self,
            ReplayCommand.self,
        ]
    )

    public init() {}

    /// Entry point of the executable. A name of its own, because in top-level code `await Shadowgate.main()`
    /// resolves to the synchronous `ParsableCommand.main()`, which refuses an async root in debug builds.
    public static func runMain() async -> Never {
        let code = await execute(Array(CommandLine.arguments.dropFirst()))
        fflush(stdout)
        #if canImport(Glibc)
        Glibc.exit(code)
        #else
        Darwin.exit(code)
        #endif
    }

    /// Parses `arguments`, runs the chosen command with ``CommandIO/current`` as its streams, and returns the exit
    /// status instead of exiting, so tests can run commands in-process. Help and usage errors go to the same streams.
    public static func execute(_ arguments: [String]) async -> Int32 {
        let io = CommandIO.current
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch {
            let code = exitCode(for: error).rawValue
            let message = fullMessage(for: error)
            if !message.isEmpty {
                if code == 0 { io.write(message + "\n") } else { io.writeError(message + "\n") }
            }
            io.flush()
            return code
        }
    }
}
