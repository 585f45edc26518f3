import DatabaseClients
import Foundation
import ShadowConfig
import Testing

extension DualWriteFaultTests {
    @Test("serve refuses a hot reload that changes the dual-write mirror: the log says why and writes keep reaching the old mirror")
    func reloadChangingStreamRefused() async throws {
        let env = try TestEnvironment.load()
        let base = TestEnvironment.uniqueName("dw_reload")
        let mirrorDatabase = TestEnvironment.uniqueName("dw_mirror")
        try DualWriteMySQLTests.createTables(env, base: base, mirrorDatabase: mirrorDatabase, mirror: base)
        defer { DualWriteMySQLTests.dropTables(env, base: base, mirrorDatabase: mirrorDatabase) }
        let folder = NSTemporaryDirectory() + "dw-reload-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let port = try Self.freePort()
        let config = folder + "/shadowgate.yaml"
        func write(mirror database: String) throws {
            try """
                listeners:
                  - { name: dwreload, protocol: mysql, listen: 127.0.0.1:\(port), backend: \(env.mysql.host):\(env.mysql.port) }
                replay_log: { dir: log }
                base_dual_write:
                  mirror:
                    backend: \(env.mysql.host):\(env.mysql.shadowPort)
                    database: \(database)
                    credentials: { user: \(env.mysql.user), password: "\(env.mysql.password)" }
                  durability: sync
                """.write(toFile: config, atomically: true, encoding: .utf8)
        }
        try write(mirror: mirrorDatabase)
        let log = folder + "/serve.log"
        let serve = try Self.startServe(config: config, log: log)
        defer { if serve.isRunning { kill(serve.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(20)
        var connected: MariaDBConnection?
        while connected == nil && Date() < deadline {
            connected = try? Self.proxyClient(env, port: port)
            if connected == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let client = try #require(connected, "shadowgate serve did not accept connections")
        defer { client.close() }

        try write(mirror: mirrorDatabase + "_other")
        kill(serve.processIdentifier, SIGHUP)
        var text = ""
        while !text.contains("reload rejected") && Date() < deadline.addingTimeInterval(20) {
            try await Task.sleep(for: .milliseconds(100))
            text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        }
        #expect(text.contains("configuration reload rejected; the previous configuration stays in force"), "\(text)")
        #expect(text.contains("dual-write stream base@dwreload would change"), "\(text)")

        _ = try client.execute("INSERT INTO \(base) (note) VALUES ('after-reload')")
        var mirrored: [[String?]] = []
        while mirrored.isEmpty && Date() < deadline.addingTimeInterval(40) {
            mirrored = try DualWriteMySQLTests.rows(env, database: mirrorDatabase, shadow: true, table: base)
            if mirrored.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(mirrored.map { $0[1] } == ["after-reload"], "the running stream still mirrors into the old database")
        kill(serve.processIdentifier, SIGTERM)
        serve.waitUntilExit()
        #expect(serve.terminationStatus == 0)
    }
}
