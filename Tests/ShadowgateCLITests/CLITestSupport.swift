import Foundation
@testable import ShadowgateCLI

/// The repository root, found from this file's location.
let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

let demoConfig = repositoryRoot + "/fixtures/configs/demo.yaml"

/// What an in-process command run produced.
struct CommandRun {
    var exitCode: Int32
    var stdout: String
    var stderr: String
}

/// Collects output written by a command; locked because commands may write from any task.
final class OutputBox: @unchecked Sendable {
    private let lock = NSLock()
    private var out = ""
    private var err = ""
    private var input: [String]

    init(input: [String]) { self.input = input }

    func write(_ text: String) { lock.withLock { out += text } }
    func writeError(_ text: String) { lock.withLock { err += text } }
    func readLine() -> String? { lock.withLock { input.isEmpty ? nil : input.removeFirst() } }
    var result: (String, String) { lock.withLock { (out, err) } }
}

/// Parses and runs `arguments` in-process with `stdinLines` as standard input.
func runShadowgate(_ arguments: [String], stdinLines: [String] = []) async -> CommandRun {
    let box = OutputBox(input: stdinLines)
    let io = CommandIO(write: box.write, writeError: box.writeError, readLine: box.readLine)
    let code = await CommandIO.$current.withValue(io) { await Shadowgate.execute(arguments) }
    let (out, err) = box.result
    return CommandRun(exitCode: code, stdout: out, stderr: err)
}

/// Writes `yaml` to a fresh temporary file and returns its path.
func temporaryConfig(_ yaml: String) throws -> String {
    let path = NSTemporaryDirectory() + "shadowgate-cli-\(UUID().uuidString).yaml"
    try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}
