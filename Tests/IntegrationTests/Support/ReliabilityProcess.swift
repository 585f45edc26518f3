import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What the reliability suites measure about a process from the outside: resident memory and open file
/// descriptors, read from /proc, so the figures are the kernel's and not the allocator's.
enum ReliabilityProcessStats {
    /// Resident set size in bytes (`VmRSS` of /proc/PID/status), or nil when the process is gone.
    static func residentBytes(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let digits = line.split(separator: " ").compactMap { Int($0) }
            return digits.first.map { $0 * 1024 }
        }
        return nil
    }

    /// Number of open file descriptors (entries of /proc/PID/fd), or nil when the process is gone.
    static func openDescriptors(pid: Int32) -> Int? {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")).map(\.count)
    }

    /// Whether `pid` is alive (and not a zombie).
    static func isAlive(pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        guard let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)...].prefix(1)
        return state != "Z" && state != "X"
    }

    /// Children of `pid` (scanning /proc/*/stat), e.g. PostgreSQL backends of a postmaster.
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == pid
        }
    }

    /// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
    static func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }
}

/// A loopback port nobody listens on right now (bind to 0, read it, close).
func reliabilityFreePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// The package root (for the built binary and scripts), found from this file's path.
let reliabilityPackageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Runs a background program (a server, the proxy) with its output sent to a log file; the test owns its pid.
final class ReliabilityChild: @unchecked Sendable {
    let process: Process
    let logPath: String

    init(_ executable: String, _ arguments: [String], log: String, environment: [String: String] = [:]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        // Append: a restarted server keeps its earlier log (tests grep the whole history).
        if !FileManager.default.fileExists(atPath: log) { FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        logPath = log
        try process.run()
        try? handle.close()
    }

    var pid: Int32 { process.processIdentifier }

    func signal(_ signal: Int32) { kill(pid, signal) }

    /// SIGTERM, then SIGKILL after `grace` seconds; waits for the exit.
    func stop(grace: Double = 5) {
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        if !ReliabilityProcessStats.waitUntil(timeout: grace, { !process.isRunning }) { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
func reliabilityCanConnect(port: Int) -> Bool {
    guard let socket = try? ReliabilityRawSocket(port: port) else { return false }
    socket.close()
    return true
}
