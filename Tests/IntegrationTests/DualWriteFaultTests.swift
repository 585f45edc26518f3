import DatabaseClients
import Foundation
import ReplayLog
import ShadowConfig
import ShadowDiff
import Testing

/// Dual-write under faults, against real servers: the mirror going away, a crashed proxy, a torn log tail.
@Suite(.serialized) struct DualWriteFaultTests {
    static func proxyClient(_ env: TestEnvironment, port: Int) throws -> MariaDBConnection {
        var configuration = env.mariaDB()
        configuration.host = "127.0.0.1"
        configuration.port = port
        return try MariaDBConnection(configuration: configuration)
    }

    @Test("while the mirror is unreachable the primary path succeeds and the log grows; afterwards the mirror catches up identical")
    func mirrorOutage() async throws {
        let env = try TestEnvironment.load()
        let base = TestEnvironment.uniqueName("dw_outage")
        let mirrorDatabase = TestEnvironment.uniqueName("dw_mirror")
        try DualWriteMySQLTests.createTables(env, base: base, mirrorDatabase: mirrorDatabase, mirror: base)
        defer { DualWriteMySQLTests.dropTables(env, base: base, mirrorDatabase: mirrorDatabase) }
        let relay = TCPRelay(targetHost: env.mysql.host, targetPort: env.mysql.shadowPort)
        try await relay.open()
        let harness = try await DualWriteHarness(
            env: env, wireProtocol: .mysql, tables: [:], mirror: Endpoint(host: "127.0.0.1", port: relay.port),
            mirrorDatabase: mirrorDatabase)
        do {
            let client = try Self.proxyClient(env, port: harness.port)
            defer { client.close() }
            for i in 0..<20 { _ = try client.execute("INSERT INTO \(base) (note, qty) VALUES ('before-\(i)', \(i))") }
            _ = try await harness.waitUntilCaughtUp()

            await relay.cut()
            let started = Date()
            for i in 0..<50 {
                _ = try client.execute("INSERT INTO \(base) (note, qty) VALUES ('during-\(i)', \(i))")
                if i % 10 == 0 { _ = try client.execute("UPDATE \(base) SET qty = qty + 1 WHERE id % 3 = 0") }
            }
            // The primary path did not wait for the mirror.
            #expect(Date().timeIntervalSince(started) < 10)
            try await Task.sleep(for: .milliseconds(300))
            let during = harness.stream.status
            #expect(during.lagRecords > 0)
            #expect(during.applierState == "waiting-for-mirror")
            #expect(during.logBytes > 0)
            #expect(try DualWriteMySQLTests.rows(env, database: mirrorDatabase, shadow: true, table: base).count == 20)

            try await relay.open()
            let status = try await harness.waitUntilCaughtUp(timeout: 30)
            #expect(status.lagRecords == 0)
            let primaryRows = try DualWriteMySQLTests.rows(env, shadow: false, table: base)
            #expect(primaryRows.count == 70)
            #expect(try DualWriteMySQLTests.rows(env, database: mirrorDatabase, shadow: true, table: base) == primaryRows)
            // The data tool agrees: the mirror table is identical to the base table.
            let diffBase = try ServerConnector.connect(
                dialect: .mysql, endpoint: Endpoint(host: env.mysql.host, port: env.mysql.port),
                credentials: DatabaseCredentials(user: env.mysql.user, password: env.mysql.password, database: "mse_demo"))
            let diffMirror = try ServerConnector.connect(
                dialect: .mysql, endpoint: Endpoint(host: env.mysql.host, port: env.mysql.shadowPort),
                credentials: DatabaseCredentials(user: env.mysql.user, password: env.mysql.password, database: mirrorDatabase))
            let diff = try DiffRunner(options: DiffOptions()).run(
                lane: "base", pairs: [TablePair(base: TableName(schema: "mse_demo", name: base), shadow: TableName(schema: mirrorDatabase, name: base))],
                base: diffBase, shadow: diffMirror)
            #expect(diff.report.tables.count == 1)
            #expect(diff.report.exitCode == 0, "diff found differences: \(diff.report.tables)")
        } catch {
            await harness.stop()
            await relay.cut()
            throw error
        }
        await harness.stop()
        await relay.cut()
    }
}

extension DualWriteFaultTests {
    /// The `shadowgate` executable built next to the tests.
    static var shadowgateBinary: String {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/IntegrationTests/DualWriteFaultTests.swift
        return parts.joined(separator: "/") + "/.build/debug/shadowgate"
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw DualWriteHarness.HarnessError("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Starts `shadowgate serve`; its log (standard error) goes to `log` when given.
    static func startServe(config: String, log: String? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: shadowgateBinary)
        process.arguments = ["serve", "--config", config, "--log-level", "error", "--threads", "2"]
        process.standardOutput = FileHandle.nullDevice
        if let log {
            FileManager.default.createFile(atPath: log, contents: nil)
            process.standardError = FileHandle(forWritingAtPath: log)
        }
        try process.run()
        return process
    }

    @Test("kill -9 of shadowgate serve under a sync write load: after a restart every acknowledged write reaches the mirror once")
    func killNine() async throws {
        let env = try TestEnvironment.load()
        let base = TestEnvironment.uniqueName("dw_kill")
        let mirrorDatabase = TestEnvironment.uniqueName("dw_mirror")
        try DualWriteMySQLTests.createTables(env, base: base, mirrorDatabase: mirrorDatabase, mirror: base)
        defer { DualWriteMySQLTests.dropTables(env, base: base, mirrorDatabase: mirrorDatabase) }
        let outcome = try await Self.killNineScenario(
            env, wireProtocol: .mysql, mirrorDatabase: mirrorDatabase,
            connect: { port in
                guard let client = try? Self.proxyClient(env, port: port) else { return nil }
                return { id, step in
                    if step % 4 == 0 {
                        _ = try client.execute("BEGIN")
                        _ = try client.execute("INSERT INTO \(base) (id, note) VALUES (\(id), 'tx')")
                        _ = try client.execute("INSERT INTO \(base) (id, note) VALUES (\(id + 500_000), 'tx')")
                        _ = try client.execute("COMMIT")
                        return [id, id + 500_000]
                    }
                    _ = try client.execute("INSERT INTO \(base) (id, note) VALUES (\(id), 'auto')")
                    return [id]
                }
            },
            ids: { shadow in
                try DualWriteMySQLTests.rows(env, database: shadow ? mirrorDatabase : "mse_demo", shadow: shadow, table: base)
                    .compactMap { $0[0].flatMap { Int($0) } }
            })
        #expect(outcome.acknowledged.subtracting(outcome.mirror).isEmpty)
    }
}

extension DualWriteFaultTests {
    /// What a kill -9 run left: the ids clients saw acknowledged, and the ids on each side once the mirror caught up.
    struct KillNineOutcome {
        var acknowledged: Set<Int>
        var primary: [Int]
        var mirror: [Int]
    }

    /// Runs `shadowgate serve` with a sync base stream into `mirrorDatabase` on the shadow server, writes through it
    /// from four threads, kills it with SIGKILL, restarts it and waits until every acknowledged id is on the mirror.
    /// `connect(port)` opens one client and returns its write step (id, step number → ids acknowledged); `ids(shadow)`
    /// reads the ids of the primary or the mirror table. Checks that nothing is lost, extra or applied twice.
    static func killNineScenario(
        _ env: TestEnvironment, wireProtocol: WireProtocol, mirrorDatabase: String,
        connect: @escaping @Sendable (_ port: Int) -> ((_ id: Int, _ step: Int) throws -> [Int])?,
        ids: (_ shadow: Bool) throws -> [Int]
    ) async throws -> KillNineOutcome {
        let mysql = wireProtocol == .mysql
        let folder = NSTemporaryDirectory() + "dw-kill-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let port = try Self.freePort()
        let config = folder + "/shadowgate.yaml"
        let (host, primaryPort, shadowPort) =
            mysql ? (env.mysql.host, env.mysql.port, env.mysql.shadowPort) : (env.postgres.host, env.postgres.port, env.postgres.shadowPort)
        let (user, password) = mysql ? (env.mysql.user, env.mysql.password) : (env.postgres.user, env.postgres.password)
        try """
            listeners:
              - { name: dwkill, protocol: \(wireProtocol.rawValue), listen: 127.0.0.1:\(port), backend: \(host):\(primaryPort) }
            replay_log: { dir: log }
            base_dual_write:
              mirror:
                backend: \(host):\(shadowPort)
                database: \(mirrorDatabase)
                credentials: { user: \(user), password: "\(password)" }
              durability: sync
            """.write(toFile: config, atomically: true, encoding: .utf8)
        func waitForProxy() async throws {
            let deadline = Date().addingTimeInterval(20)
            while connect(port) == nil {
                if Date() > deadline { throw DualWriteHarness.HarnessError("shadowgate serve did not accept connections on \(port)") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        var serve = try Self.startServe(config: config)
        defer { if serve.isRunning { kill(serve.processIdentifier, SIGKILL) } }
        try await waitForProxy()

        let acknowledged = NIOLockedIDs()
        let stop = NIOLockedIDs()
        let workers = (0..<4).map { worker in
            Thread {
                guard let write = connect(port) else { return }
                var step = 0
                while !stop.contains(1) {
                    step += 1
                    guard let done = try? write(worker * 1_000_000 + step, step) else { return }  // the proxy died under us
                    for id in done { acknowledged.insert(id) }
                }
            }
        }
        for worker in workers { worker.start() }
        try await Task.sleep(for: .milliseconds(1500))
        kill(serve.processIdentifier, SIGKILL)
        serve.waitUntilExit()
        stop.insert(1)
        try await Task.sleep(for: .milliseconds(300))
        let acked = acknowledged.all
        #expect(acked.count > 20, "the load should have acknowledged writes before the kill")

        serve = try Self.startServe(config: config)
        try await waitForProxy()
        let deadline = Date().addingTimeInterval(40)
        var mirrorIDs: Set<Int> = []
        while Date() < deadline {
            mirrorIDs = Set(try ids(true))
            if acked.isSubset(of: mirrorIDs) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(acked.subtracting(mirrorIDs).isEmpty, "acknowledged writes missing on the mirror: \(acked.subtracting(mirrorIDs).sorted().prefix(10))")
        try await Task.sleep(for: .milliseconds(500))
        let primary = try ids(false)
        let mirror = try ids(true)
        // Nothing on the mirror that the primary does not have, and nothing twice.
        #expect(Set(mirror).isSubset(of: Set(primary)))
        #expect(Set(mirror).count == mirror.count)
        let applierError = try? String(contentsOfFile: folder + "/log/base@dwkill/" + ReplayApplier.errorFileName, encoding: .utf8)
        #expect(applierError == nil, "the applier stopped: \(applierError ?? "")")
        kill(serve.processIdentifier, SIGTERM)
        serve.waitUntilExit()
        #expect(serve.terminationStatus == 0, "graceful shutdown after SIGTERM exits 0")
        return KillNineOutcome(acknowledged: acked, primary: primary, mirror: mirror)
    }
}

/// A set of integers shared by load threads.
final class NIOLockedIDs: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: Set<Int> = []
    func insert(_ id: Int) { lock.lock(); ids.insert(id); lock.unlock() }
    func contains(_ id: Int) -> Bool { lock.lock(); defer { lock.unlock() }; return ids.contains(id) }
    var all: Set<Int> { lock.lock(); defer { lock.unlock() }; return ids }
}

extension DualWriteFaultTests {
    @Test("a torn tail on the newest segment is cut at restart and dual-write carries on into an identical mirror")
    func tornTail() async throws {
        let env = try TestEnvironment.load()
        let base = TestEnvironment.uniqueName("dw_torn")
        let mirrorDatabase = TestEnvironment.uniqueName("dw_mirror")
        try DualWriteMySQLTests.createTables(env, base: base, mirrorDatabase: mirrorDatabase, mirror: base)
        defer { DualWriteMySQLTests.dropTables(env, base: base, mirrorDatabase: mirrorDatabase) }
        let logDirectory = NSTemporaryDirectory() + "dw-torn-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: logDirectory) }

        let first = try await DualWriteHarness(
            env: env, wireProtocol: .mysql, tables: [:], mirrorDatabase: mirrorDatabase, logDirectory: logDirectory)
        let streamDirectory = first.stream.directory
        do {
            let client = try Self.proxyClient(env, port: first.port)
            for i in 0..<10 { _ = try client.execute("INSERT INTO \(base) (note) VALUES ('first-\(i)')") }
            client.close()
            _ = try await first.waitUntilCaughtUp()
        } catch {
            await first.stop(removeLog: false)
            throw error
        }
        await first.stop(removeLog: false)

        // A crash in the middle of a write: half a frame header and some payload after the last record.
        let segment = try #require(try SegmentFile.list(in: streamDirectory).last)
        let handle = try #require(FileHandle(forWritingAtPath: segment.path))
        handle.seekToEndOfFile()
        handle.write(Data([0x40, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03]))
        handle.closeFile()
        #expect(try ReplayLogVerifier.verify(directory: streamDirectory).isSound == false)

        let second = try await DualWriteHarness(
            env: env, wireProtocol: .mysql, tables: [:], mirrorDatabase: mirrorDatabase, logDirectory: logDirectory)
        do {
            #expect(try SegmentFile.list(in: streamDirectory).last?.size == segment.size, "the torn tail was cut")
            let client = try Self.proxyClient(env, port: second.port)
            for i in 0..<5 { _ = try client.execute("INSERT INTO \(base) (note) VALUES ('second-\(i)')") }
            client.close()
            let status = try await second.waitUntilCaughtUp()
            #expect(status.lastLSN == 15)
            #expect(try ReplayLogVerifier.verify(directory: streamDirectory).isSound)
            let primaryRows = try DualWriteMySQLTests.rows(env, shadow: false, table: base)
            #expect(primaryRows.count == 15)
            #expect(try DualWriteMySQLTests.rows(env, database: mirrorDatabase, shadow: true, table: base) == primaryRows)
        } catch {
            await second.stop()
            throw error
        }
        await second.stop()
    }
}
