#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where commands read input and write output. The process uses the standard streams; tests bind a capturing
/// instance with `CommandIO.$current.withValue(…)` and run commands in-process.
public struct CommandIO: Sendable {
    /// Writes text to standard output (buffered; see ``flush``).
    public var write: @Sendable (String) -> Void
    /// Writes text to standard error.
    public var writeError: @Sendable (String) -> Void
    /// Reads one line without its newline; nil at end of input.
    public var readLine: @Sendable () -> String?
    /// Pushes buffered standard output out, so line-oriented consumers see each answer as it is produced.
    public var flush: @Sendable () -> Void

    public init(
        write: @escaping @Sendable (String) -> Void,
        writeError: @escaping @Sendable (String) -> Void,
        readLine: @escaping @Sendable () -> String?,
        flush: @escaping @Sendable () -> Void = {}
    ) {
        self.write = write
        self.writeError = writeError
        self.readLine = readLine
        self.flush = flush
    }

    /// The process's standard streams, through C stdio so output is buffered and flushed on demand.
    public static let standard = CommandIO(
        write: { text in fputs(text, stdout) },
        writeError: { text in fputs(text, stderr) },
        readLine: { Swift.readLine(strippingNewline: true) },
        flush: { fflush(stdout) }
    )

    /// The streams of the running command.
    @TaskLocal public static var current: CommandIO = .standard

    /// Reads every remaining line, joined with newlines.
    func readAll() -> String {
        var lines: [String] = []
        while let line = readLine() { lines.append(line) }
        return lines.joined(separator: "\n")
    }
}
