import ArgumentParser

/// The `shadowgate` command: serve, check, rewrite, diff, replay, shadow-ddl.
public struct Shadowgate: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "shadowgate",
        abstract: "A database proxy that keeps gray-release and stress-test traffic out of production data.",
        version: "0.1.0",
        subcommands: [ReplayCommand.self]
    )

    public init() {}
}
