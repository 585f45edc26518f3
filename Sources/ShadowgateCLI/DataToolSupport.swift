import ArgumentParser
import ShadowConfig
import ShadowDiff

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Exit codes of the data tools (diff, shadow-ddl).
enum DataToolExit {
    static let differences = ExitCode(1)
    static let error = ExitCode(2)
}

/// Runs a data tool's body: loads the configuration (errors exit 2), and turns ``DataToolError`` into a message
/// on standard error and exit 2.
func runDataTool(configPath: String, io: CommandIO, _ body: (ShadowgateConfiguration) throws -> Void) throws {
    let configuration = try loadConfigurationOrExit(path: configPath, io: io, invalidExitCode: DataToolExit.error)
    do {
        try body(configuration)
    } catch let error as DataToolError {
        io.flush()
        io.writeError("error: \(error.description)\n")
        throw DataToolExit.error
    }
}

/// A progress printer for standard error, only when it is a terminal (so logs and pipes stay clean).
func terminalProgress(io: CommandIO) -> ((String) -> Void)? {
    guard isatty(STDERR_FILENO) == 1 else { return nil }
    return { line in io.writeError("\r\u{1B}[K" + line) }
}
