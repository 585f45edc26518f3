import Foundation
import Testing
import TestSupport

/// Runs the built `shadowgate` executable as a subprocess, as an operator would.
@Suite struct BinaryTests {
    /// `.build/<triple>/debug/shadowgate`, next to the test bundle.
    static var binaryPath: String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        while directory.path != "/" && !directory.lastPathComponent.hasSuffix(".xctest") && directory.lastPathComponent != "debug"
            && directory.lastPathComponent != "release"
        {
            directory = directory.deletingLastPathComponent()
        }
        if directory.lastPathComponent.hasSuffix(".xctest") { directory = directory.deletingLastPathComponent() }
        return directory.appendingPathComponent("shadowgate").path
    }

    func run(_ arguments: [String], input: String = "") throws -> (Int32, String, String) {
        let output = try Subprocess.run(Self.binaryPath, arguments, stdin: input)
        return (output.status, output.stdout, output.stderr)
    }

    @Test("the binary checks the demo configuration and exits 0")
    func check() throws {
        let (code, out, _) = try run(["check", "--config", demoConfig])
        #expect(code == 0)
        #expect(out.contains("lane gray"))
    }

    @Test("the binary exits 1 on an invalid configuration")
    func checkInvalid() throws {
        let (code, _, err) = try run(["check", "--config", repositoryRoot + "/fixtures/configs/invalid/references.yaml"])
        #expect(code == 1)
        #expect(err.contains("user 'gray_app' is already in lane 'gray'"))
    }

    @Test("the binary streams thousands of JSON lines in order, quickly")
    func jsonlThroughput() throws {
        let count = 5_000
        let input = (0..<count).map { #"{"id":\#($0),"lane":"base","dialect":"mysql","sql":"SELECT \#($0)"}"# }.joined(separator: "\n") + "\n"
        let started = ContinuousClock.now
        let (code, out, _) = try run(["rewrite", "--config", demoConfig, "--jsonl"], input: input)
        let elapsed = ContinuousClock.now - started
        #expect(code == 0)
        let lines = out.split(separator: "\n")
        #expect(lines.count == count)
        #expect(lines.last == #"{"id":\#(count - 1),"sql":"SELECT \#(count - 1)"}"#)
        #expect(elapsed < .seconds(10))
    }
}
