import ArgumentParser
import ShadowConfig

/// `shadowgate check`: validates a configuration and prints the effective routing of every lane per listener.
public struct CheckCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a configuration file and print the effective routing of every lane.",
        discussion: """
            Exit status: 0 when the configuration is valid, 1 when it has errors (all of them are printed to \
            standard error as file:line:column diagnostics), 2 when the file cannot be read.
            """
    )

    @Option(name: .long, help: "Path to the YAML configuration file.")
    var config: String

    public init() {}

    public func run() async throws {
        let io = CommandIO.current
        let configuration = try loadConfigurationOrExit(path: config, io: io)
        io.write(RoutingReport(routing: RoutingTable(configuration: configuration)).render(fileName: config))
        io.flush()
    }
}
