import ArgumentParser
import ShadowConfig

/// Exit codes shared by the commands that read a configuration file.
enum ConfigExitCode {
    /// The configuration has errors (all printed to standard error).
    static let invalid = ExitCode(1)
    /// The configuration file could not be read at all.
    static let unreadable = ExitCode(2)
}

/// Loads a configuration for a command, printing every problem to standard error and exiting on failure.
func loadConfigurationOrExit(path: String, io: CommandIO, invalidExitCode: ExitCode = ConfigExitCode.invalid) throws
    -> ShadowgateConfiguration
{
    do {
        return try ShadowgateConfiguration.load(path: path)
    } catch let errors as ConfigErrors {
        for error in errors.errors { io.writeError(error.rendered + "\n") }
        let count = errors.errors.count
        io.writeError("\(count) error\(count == 1 ? "" : "s") in \(path)\n")
        if errors.errors.contains(where: { $0.code == .unreadableFile }) { throw ConfigExitCode.unreadable }
        throw invalidExitCode
    }
}
