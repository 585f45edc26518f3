import Foundation
import Logging
import ReplayLog
import Testing

/// `shadowgate replay … --config`: the streams' logs found through the configuration, run as the binary.
@Suite struct ReplayCommandConfigTests {
    /// A configuration with one base dual-write stream whose log holds three records.
    static func fixture() async throws -> (config: String, folder: String) {
        let folder = NSTemporaryDirectory() + "replay-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder + "/log", withIntermediateDirectories: true)
        let config = folder + "/shadowgate.yaml"
        try """
            listeners:
              - { name: l1, protocol: mysql, listen: 127.0.0.1:13399, backend: 127.0.0.1:3306 }
            replay_log: { dir: log }
            base_dual_write:
              mirror: { backend: 127.0.0.1:1, database: mirror, credentials: { user: u } }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let writer = try ReplayLogWriter(configuration: .init(directory: folder + "/log/base@l1"), logger: Logger(label: "test"))
        for i in 0..<3 {
            _ = try await writer.append(
                ReplayRecord(
                    timestampMicros: 1, connectionID: 1, transactionID: 0, dialect: .mysql, target: "base@l1",
                    statements: [ReplayStatement(sql: "INSERT INTO t VALUES (\(i))")]))
        }
        writer.close()
        return (config, folder)
    }

    @Test("status and verify read the stream's folder under replay_log.dir, relative to the configuration file")
    func statusAndVerify() async throws {
        let (config, folder) = try await Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let tests = BinaryTests()
        let (statusCode, status, _) = try tests.run(["replay", "status", "--config", config])
        #expect(statusCode == 0)
        #expect(status.contains("last LSN:       3"))
        #expect(status.contains("lag:            3 records"))
        let (verifyCode, verify, _) = try tests.run(["replay", "verify", "--config", config, "--stream", "base@l1"])
        #expect(verifyCode == 0)
        #expect(verify.contains("ok: 3 records"))
        let (tailCode, tail, _) = try tests.run(["replay", "tail", "--config", config, "-c", "1"])
        #expect(tailCode == 0)
        #expect(tail.contains("INSERT INTO t VALUES (2)") && !tail.contains("VALUES (1)"))
    }

    @Test("an unknown stream names the streams, and --dir with --config is refused")
    func badSelection() async throws {
        let (config, folder) = try await Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let tests = BinaryTests()
        let (code, _, err) = try tests.run(["replay", "status", "--config", config, "--stream", "gray@l1"])
        #expect(code != 0)
        #expect(err.contains("no dual-write stream 'gray@l1'; streams: base@l1"))
        let (both, _, bothErr) = try tests.run(["replay", "status", "--config", config, "--dir", folder])
        #expect(both != 0)
        #expect(bothErr.contains("exactly one of --dir and --config"))
    }
}
