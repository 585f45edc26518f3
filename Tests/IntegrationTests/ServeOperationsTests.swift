import DatabaseClients
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `shadowgate serve` as operators run it: a real process, the admin endpoint read with curl, the status page
/// rendered by headless Chromium, hot reload by file change and SIGHUP, and SIGTERM drain.
@Suite("shadowgate serve: admin endpoint, status page, reload and shutdown", .serialized)
struct ServeOperationsTests {
    let environment: TestEnvironment

    init() throws {
        environment = try TestEnvironment.load()
    }

    static var binaryPath: String {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if directory.lastPathComponent.hasSuffix(".xctest") { directory = directory.deletingLastPathComponent() }
        for _ in 0..<4 where !FileManager.default.fileExists(atPath: directory.appendingPathComponent("shadowgate").path) {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("shadowgate").path
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    struct Ports {
        var mysql = ServeOperationsTests.freePort()
        var postgres = ServeOperationsTests.freePort()
        var admin = ServeOperationsTests.freePort()
    }

    func configuration(_ ports: Ports, extraLane: Bool = false) -> String {
        var yaml = """
            label: { key: lane }
            listeners:
              - name: ops-mysql
                protocol: mysql
                listen: 127.0.0.1:\(ports.mysql)
                backend: 127.0.0.1:\(environment.mysql.port)
              - name: ops-pg
                protocol: postgres
                listen: 127.0.0.1:\(ports.postgres)
                backend: 127.0.0.1:\(environment.postgres.port)
            lanes:
              gray:
                tables: { map: { mse_demo_table: mse_demo_table_gray } }

            """
        if extraLane { yaml += "  stress:\n    tables: { suffix: _shadow }\n" }
        yaml += "admin: { listen: 127.0.0.1:\(ports.admin) }\n"
        return yaml
    }

    /// A running `shadowgate serve`, stopped with SIGTERM when the test ends.
    final class Server {
        let process = Process()
        let log: URL
        init(config: String) throws {
            log = URL(fileURLWithPath: config + ".log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            process.executableURL = URL(fileURLWithPath: ServeOperationsTests.binaryPath)
            process.arguments = ["serve", "--config", config, "--drain-timeout", "5"]
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
        }
        var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
        func terminate() -> Int32 {
            if process.isRunning { kill(process.processIdentifier, SIGTERM) }
            let deadline = Date().addingTimeInterval(15)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    func curl(_ port: Int, _ path: String) throws -> (status: Int, body: String) {
        let output = try Subprocess.run("curl", ["-s", "-m", "5", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)\(path)"])
        var lines = output.stdout.components(separatedBy: "\n")
        let status = Int(lines.popLast() ?? "") ?? 0
        return (status, lines.joined(separator: "\n"))
    }

    func waitFor(_ what: String, seconds: Double = 20, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if (try? condition()) == true { return }
            usleep(100_000)
        }
        Issue.record("timed out waiting for \(what)")
        throw CancellationError()
    }

    func postgres(_ port: Int, lane: String?) throws -> PostgresConnection {
        var configuration = environment.postgresServer()
        configuration.port = port
        if let lane { configuration.options = "-c shadow.lane=\(lane)" }
        return try PostgresConnection(configuration: configuration)
    }

    func mysql(_ port: Int, lane: String?) throws -> MariaDBConnection {
        var configuration = environment.mariaDB(connectionAttributes: lane.map { ["lane": $0] } ?? [:])
        configuration.port = port
        return try MariaDBConnection(configuration: configuration)
    }

    @Test("the admin endpoint and the status page show live connections in two lanes, metrics and readiness")
    func adminEndpointAndStatusPage() throws {
        let ports = Ports()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sg-ops-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("shadowgate.yaml").path
        try configuration(ports).write(toFile: config, atomically: true, encoding: .utf8)
        let server = try Server(config: config)
        defer { _ = server.terminate() }
        try waitFor("the admin endpoint") { try curl(ports.admin, "/healthz").status == 200 }

        let gray = try postgres(ports.postgres, lane: "gray")
        let base = try postgres(ports.postgres, lane: nil)
        let grayMySQL = try mysql(ports.mysql, lane: "gray")
        defer { gray.close(); base.close(); grayMySQL.close() }
        _ = try gray.query("SELECT count(*) FROM mse_demo_table")
        _ = try base.query("SELECT count(*) FROM mse_demo_table")
        _ = try grayMySQL.query("SELECT COUNT(*) FROM mse_demo_table")

        try waitFor("readiness") { try curl(ports.admin, "/readyz").status == 200 }
        let status = try curl(ports.admin, "/api/status")
        #expect(status.status == 200)
        let json = try JSONSerialization.jsonObject(with: Data(status.body.utf8)) as? [String: Any]
        let connections = (json?["connections"] as? [[String: Any]]) ?? []
        let lanes = Set(connections.compactMap { $0["lane"] as? String })
        #expect(lanes == ["gray", "base"], "connections: \(connections)")
        #expect(connections.filter { $0["listener"] as? String == "ops-mysql" }.map { $0["lane"] as? String } == ["gray"])

        let metrics = try curl(ports.admin, "/metrics").body
        #expect(metrics.contains("shadowgate_connections_total{"))
        #expect(metrics.contains("lane=\"gray\""))
        #expect(metrics.contains("shadowgate_statements_total"))

        // The status page, rendered by a real browser: the live connections table lists both lanes.
        // No virtual-time budget: the page refreshes itself every 2 s, and a budget that reaches the refresh makes
        // Chromium dump the DOM of the next, still empty navigation. Retried because a cold Chromium start on a
        // loaded machine can give up before the first paint.
        var dom = Subprocess.Output(status: -1, stdout: "", stderr: "", stdoutData: Data())
        for _ in 0..<3 {
            dom = try Subprocess.run("chromium", [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--user-data-dir=\(directory.path)/chromium", "--dump-dom", "http://127.0.0.1:\(ports.admin)/",
            ])
            if dom.stdout.contains("Live connections") { break }
        }
        #expect(dom.status == 0, "chromium failed: \(dom.stderr.suffix(500))")
        #expect(dom.stdout.contains("Live connections"), "chromium printed: \(dom.stdout.prefix(300)) \(dom.stderr.suffix(800))")
        let liveSection = dom.stdout.components(separatedBy: "Live connections").last ?? ""
        #expect(liveSection.contains("<td class=\"lane\">gray</td>"), "page: \(liveSection.prefix(2000))")
        #expect(liveSection.contains("<td class=\"lane\">base</td>"))
        #expect(!dom.stdout.contains("<script"))
    }

    @Test("a configuration change reloads without dropping connections; an invalid file keeps the old one; SIGHUP reloads; SIGTERM drains and exits 0")
    func reloadAndShutdown() throws {
        let ports = Ports()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sg-ops-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("shadowgate.yaml").path
        try configuration(ports).write(toFile: config, atomically: true, encoding: .utf8)
        let server = try Server(config: config)
        var stopped = false
        defer { if !stopped { _ = server.terminate() } }
        try waitFor("the admin endpoint") { try curl(ports.admin, "/healthz").status == 200 }

        let gray = try postgres(ports.postgres, lane: "gray")
        let grayMySQL = try mysql(ports.mysql, lane: "gray")
        defer { gray.close(); grayMySQL.close() }
        func lanesConfigured() throws -> [String] {
            let body = try curl(ports.admin, "/api/status").body
            let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            return ((json?["lanes"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }
        }
        #expect(try lanesConfigured() == ["gray"])

        // A valid change is picked up from the file and the open connections keep working.
        try configuration(ports, extraLane: true).write(toFile: config, atomically: true, encoding: .utf8)
        try waitFor("the reload") { try lanesConfigured() == ["gray", "stress"] }
        #expect(try gray.query("SELECT 1").rows == [["1"]])
        #expect(try grayMySQL.query("SELECT 1").rows == [["1"]])

        // An invalid file is rejected; the running configuration stays, and the log names the problem.
        try "lanes:\n  gray:\n    unmapped_writes: rejct\n".write(toFile: config, atomically: true, encoding: .utf8)
        try waitFor("the rejection in the log") { server.output.contains("reload rejected") }
        #expect(try lanesConfigured() == ["gray", "stress"])
        #expect(server.output.contains("rejct"))
        #expect(try gray.query("SELECT 1").rows == [["1"]])

        // SIGHUP reloads the (fixed) file.
        try configuration(ports).write(toFile: config, atomically: true, encoding: .utf8)
        kill(server.process.processIdentifier, SIGHUP)
        try waitFor("the SIGHUP reload") { try lanesConfigured() == ["gray"] }

        // SIGTERM: stop accepting, drain (the idle connections are closed), exit 0.
        let status = server.terminate()
        stopped = true
        #expect(status == 0, "serve output: \(server.output.suffix(2000))")
        #expect(throws: (any Error).self) { try postgres(ports.postgres, lane: nil) }
    }
}
