import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to completion for a test: feeds standard input, drains standard output and standard error
/// concurrently (so neither pipe can fill and deadlock the child) with reads that retry on EINTR (Foundation's
/// `readDataToEndOfFile()` traps on an interrupted system call).
public enum Subprocess {
    /// What the program printed and how it ended.
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var stdoutData: Data

        public init(status: Int32, stdout: String, stderr: String, stdoutData: Data) {
            self.status = status
            self.stdout = stdout
            self.stderr = stderr
            self.stdoutData = stdoutData
        }
    }

    /// Runs `executable` (an absolute path, or a name looked up on PATH) with `arguments`.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
        inheritEnvironment: Bool = true
    ) throws -> Output {
        let process = Process()
        if executable.hasPrefix("/") {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
        }
        var env = inheritEnvironment ? ProcessInfo.processInfo.environment : [:]
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let input = Pipe(), out = Pipe(), err = Pipe()
        process.standardInput = input
        process.standardOutput = out
        process.standardError = err
        try process.run()

        let collected = Collected()
        let group = DispatchGroup()
        for (handle, isOut) in [(out.fileHandleForReading, true), (err.fileHandleForReading, false)] {
            group.enter()
            Thread {
                let data = readAll(handle.fileDescriptor)
                collected.set(data, stdout: isOut)
                group.leave()
            }.start()
        }
        let writer = input.fileHandleForWriting
        if let stdin, !stdin.isEmpty {
            Thread {
                writeAll(writer.fileDescriptor, Array(stdin.utf8))
                try? writer.close()
            }.start()
        } else {
            try? writer.close()
        }
        group.wait()
        process.waitUntilExit()
        let (o, e) = collected.values
        return Output(
            status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
            stderr: String(decoding: e, as: UTF8.self), stdoutData: o)
    }

    private final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var out = Data()
        private var err = Data()
        func set(_ data: Data, stdout: Bool) { lock.withLock { if stdout { out = data } else { err = data } } }
        var values: (Data, Data) { lock.withLock { (out, err) } }
    }

    static func readAll(_ fd: Int32) -> Data {
        var result = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                result.append(contentsOf: buffer[0..<n])
            } else if n == 0 {
                return result
            } else if errno != EINTR {
                return result
            }
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n > 0 {
                offset += n
            } else if n < 0 && errno != EINTR {
                return
            }
        }
    }
}
