import DatabaseClients
import Foundation
import Logging
import NIOCore
import NIOPosix
import ReplayLog
import ShadowConfig
import ShadowProxy

/// An in-process proxy with dual-write: a listener in front of the real base server, a `DualWriteService` whose
/// mirror is a real server (the shadow server, or a relay in front of it), and the service's applier running.
final class DualWriteHarness: @unchecked Sendable {
    static let listenerName = "dw-test"

    let configuration: ShadowgateConfiguration
    let service: DualWriteService
    let listener: any ProxyListener
    let port: Int
    let logDirectory: String
    private var runner: Task<Void, any Error>?

    /// `mirror` defaults to the shadow server of the same protocol.
    init(
        env: TestEnvironment, wireProtocol: WireProtocol, tables: [String: String], columns: [String: [String: String]] = [:],
        durability: DualWriteConfiguration.Durability = .sync,
        mirror: Endpoint? = nil, mirrorDatabase: String, lanes: [LaneConfiguration] = [], logDirectory: String? = nil,
        maxCopyBytes: Int = ReplayLogConfiguration.defaultMaxCopyBytes
    ) async throws {
        let backend =
            wireProtocol == .mysql
            ? Endpoint(host: env.mysql.host, port: env.mysql.port) : Endpoint(host: env.postgres.host, port: env.postgres.port)
        let shadow =
            wireProtocol == .mysql
            ? Endpoint(host: env.mysql.host, port: env.mysql.shadowPort)
            : Endpoint(host: env.postgres.host, port: env.postgres.shadowPort)
        let listener = ListenerConfiguration(
            name: Self.listenerName, wireProtocol: wireProtocol, listen: Endpoint(host: "127.0.0.1", port: 0), backend: backend,
            connectTimeoutSeconds: 2)
        let user = wireProtocol == .mysql ? env.mysql.user : env.postgres.user
        let password = wireProtocol == .mysql ? env.mysql.password : env.postgres.password
        let directory = logDirectory ?? NSTemporaryDirectory() + "dw-it-" + UUID().uuidString
        self.logDirectory = directory
        var replayLog = ReplayLogConfiguration(directory: directory, durability: durability == .sync ? .sync : .async)
        replayLog.maxCopyBytes = maxCopyBytes
        configuration = ShadowgateConfiguration(
            listeners: [listener], lanes: lanes, replayLog: replayLog,
            dualWrites: [
                DualWriteConfiguration(
                    lane: "base", listener: Self.listenerName,
                    mirror: MirrorConfiguration(backend: mirror ?? shadow, database: mirrorDatabase, user: user, password: password),
                    tables: tables, columns: columns, durability: durability)
            ])
        var logger = Logger(label: "dual-write-test")
        logger.logLevel = .warning
        service = try DualWriteService(configuration: configuration, logger: logger, metricsInterval: .milliseconds(100))
        let context = ListenerContext(
            routing: RoutingSource(RoutingTable(configuration: configuration)), connections: ConnectionRegistry(),
            statistics: LaneStatistics(), group: MultiThreadedEventLoopGroup.singleton, logger: logger, dualWrite: service)
        let made = try ListenerFactory.make(listener, context: context)
        self.listener = made
        if let mysql = made as? MySQLListener {
            try await mysql.start()
            port = mysql.localAddress?.port ?? 0
        } else if let postgres = made as? PostgresListener {
            try await postgres.start()
            port = postgres.localAddress?.port ?? 0
        } else {
            port = 0
        }
        let service = self.service
        // Appliers run on their own threads at once, whatever the state of the test's task pool.
        service.startAppliers()
        runner = Task { try await service.run() }
    }

    var stream: DualWriteStream { service.streams[0] }

    /// Waits until the applier has applied everything appended so far.
    func waitUntilCaughtUp(timeout: Double = 20) async throws -> DualWriteStatus {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let status = stream.status
            if status.lastLSN > 0 && status.appliedLSN == status.lastLSN { return status }
            if Date() > deadline { throw HarnessError("applier did not catch up: \(status)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Stops the listener, then the applier and the writer (the order `serve` uses).
    func stop(removeLog: Bool = true) async {
        await listener.shutdown(deadline: .now() + .seconds(2))
        runner?.cancel()
        _ = await runner?.result
        service.close()
        if removeLog { try? FileManager.default.removeItem(atPath: logDirectory) }
    }

    /// Creates a private database on the shadow server to mirror into (with the given table), so the progress
    /// table and mirror tables never meet other tests; `dropMirrorDatabase` removes it.
    static func createMirrorDatabase(_ env: TestEnvironment, wireProtocol: WireProtocol, name: String, tableDDL: String) throws {
        switch wireProtocol {
        case .mysql:
            let server = try MariaDBConnection(configuration: env.mariaDB(shadow: true, database: nil))
            defer { server.close() }
            _ = try server.execute("CREATE DATABASE \(name)")
            _ = try server.execute("CREATE TABLE \(name).\(tableDDL)")
        case .postgres:
            let server = try PostgresConnection(configuration: env.postgresServer(shadow: true, database: "postgres"))
            _ = try server.simpleQuery("CREATE DATABASE \(name)")
            server.close()
            let database = try PostgresConnection(configuration: env.postgresServer(shadow: true, database: name))
            defer { database.close() }
            _ = try database.simpleQuery("CREATE TABLE \(tableDDL)")
        }
    }

    static func dropMirrorDatabase(_ env: TestEnvironment, wireProtocol: WireProtocol, name: String) {
        switch wireProtocol {
        case .mysql:
            if let server = try? MariaDBConnection(configuration: env.mariaDB(shadow: true, database: nil)) {
                _ = try? server.execute("DROP DATABASE IF EXISTS \(name)")
                server.close()
            }
        case .postgres:
            if let server = try? PostgresConnection(configuration: env.postgresServer(shadow: true, database: "postgres")) {
                _ = try? server.simpleQuery("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
                server.close()
            }
        }
    }

    struct HarnessError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
