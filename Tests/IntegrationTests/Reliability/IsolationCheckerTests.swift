import Foundation
import Logging
import NIOCore
import NIOPosix
import ShadowConfig
import ShadowProxy
import ShadowSQL
import Testing

/// Promise 1 (isolation), checked by volume: a randomized, seeded workload of several concurrent clients mixing
/// every way of choosing a lane and many statement shapes, across a configuration reload and a backend restart,
/// on a private server whose statement log is on. Replay with SHADOWGATE_ISOLATION_SEED; scale with
/// SHADOWGATE_ISOLATION_STATEMENTS (default 20,000 per protocol).
@Suite("Isolation checker")
struct IsolationCheckerTests {
    @Test("MySQL: a randomized multi-lane workload across a reload and a backend restart never writes across lanes, and refused statements never reach the server")
    func mysqlIsolation() async throws {
        try await IsolationRun(dialect: .mysql).run()
    }

    @Test("PostgreSQL: a randomized multi-lane workload (pipelines, COPY, prepared statements) across a reload and a backend restart never writes across lanes, and refused statements never reach the server")
    func postgresIsolation() async throws {
        try await IsolationRun(dialect: .postgres).run()
    }
}

/// One isolation run for one protocol.
struct IsolationRun {
    let dialect: SQLDialect
    var clients = 6

    var protocolName: String { dialect == .mysql ? "mysql" : "postgres" }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["SHADOWGATE_ISOLATION_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1..<(1 << 53))
        let total = environment["SHADOWGATE_ISOLATION_STATEMENTS"].flatMap { Int($0) } ?? 20_000
        print("isolation \(protocolName): seed \(seed) (replay with SHADOWGATE_ISOLATION_SEED=\(seed)), \(total) statements")

        let server = try ReliabilityPrivateServer.start(dialect == .mysql ? .mariadb : .postgres)
        defer { server.destroy() }
        let schema = IsolationSchema()
        try createTables(schema, on: server)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let listenerConfiguration = ListenerConfiguration(
            name: "iso-\(protocolName)", wireProtocol: dialect == .mysql ? .mysql : .postgres,
            listen: Endpoint(host: "127.0.0.1", port: 0), backend: Endpoint(host: "127.0.0.1", port: server.port),
            connectTimeoutSeconds: 2)
        @Sendable func configuration(afterReload: Bool) -> ShadowgateConfiguration {
            let lanes = schema.lanes(afterReload: afterReload).map { mapping in
                LaneConfiguration(
                    name: mapping.lane, mapping: mapping, users: mapping.lane == "gray" ? ["gray_app"] : [],
                    applicationNamePrefixes: mapping.lane == "gray" ? ["gray-"] : [])
            }
            return ShadowgateConfiguration(listeners: [listenerConfiguration], lanes: lanes)
        }
        let routing = RoutingSource(RoutingTable(configuration: configuration(afterReload: false)))
        var logger = Logger(label: "isolation")
        logger.logLevel = .warning
        let context = ListenerContext(
            routing: routing, connections: ConnectionRegistry(), statistics: LaneStatistics(), group: group, logger: logger)
        let listener = try ListenerFactory.make(listenerConfiguration, context: context)
        try await listener.start()
        let port = listener.localAddress?.port ?? 0

        let tally = IsolationTally()
        let phase = IsolationPhase()
        let started = Date()
        let workers = (0..<clients).map { index in
            IsolationClient(
                schema: schema, dialect: dialect, tally: tally, phase: phase, statements: (total + clients - 1) / clients,
                seed: seed &+ UInt64(index) &* 7919, followsReloadPerStatement: true,
                connect: { [dialect] label -> any IsolationConnection in
                    if dialect == .mysql { return try MySQLIsolationConnection(port: port, label: label) }
                    return try PostgresIsolationConnection(port: port, label: label)
                })
        }
        // The controller: reload at 30 %, crash and restart the backend at 60 %.
        let controller = Thread {
            _ = ReliabilityProcessStats.waitUntil(timeout: 300) { tally.total >= total * 3 / 10 }
            phase.reload { routing.replace(with: RoutingTable(configuration: configuration(afterReload: true))) }
            _ = ReliabilityProcessStats.waitUntil(timeout: 300) { tally.total >= total * 6 / 10 }
            phase.beginRestart()
            let before = tally.total
            server.crash()
            do { try server.launch() } catch { tally.fail("backend restart failed: \(error)") }
            phase.endRestart()
            print("isolation: backend restarted after \(before) statements (\(tally.total - before) attempted while it was down)")
        }
        controller.start()
        await runThreads(workers.map { worker in { worker.run() } })
        _ = ReliabilityProcessStats.waitUntil(timeout: 60) { phase.reloaded && !phase.isRestarting && phase.restartEpoch == 1 }
        let seconds = Date().timeIntervalSince(started)
        await listener.shutdown(deadline: .now() + .seconds(2))
        try? await group.shutdownGracefully()

        print(
            "isolation \(protocolName): \(tally.total) statements in \(String(format: "%.1f", seconds)) s, "
                + "\(tally.refusals) refused, \(tally.tolerated) tolerated (deadlocks, restart), seed \(seed)")
        #expect(tally.failures.isEmpty, "seed \(seed): \(tally.failures.joined(separator: "\n"))")
        #expect(tally.total >= total)
        #expect(tally.refusals > 0)
        #expect(phase.reloaded && phase.restartEpoch == 1, "the reload and the restart must both have happened")

        // No row of the wrong lane anywhere; nothing of a rolled-back transaction survived.
        for (table, lane) in schema.physicalTables {
            let rows = try server.rootQuery("SELECT lane, COUNT(*) FROM \(table) GROUP BY lane")
            let lanes = rows.map { $0.split(separator: "\t").first.map(String.init) ?? "" }
            #expect(lanes.allSatisfy { $0 == lane }, "seed \(seed): table \(table) (lane \(lane)) holds rows of lanes \(rows)")
            let survivors = try server.rootQuery("SELECT COUNT(*) FROM \(table) WHERE marker LIKE '\(schema.rollbackMarker)%'")
            #expect(survivors == ["0"], "seed \(seed): rolled-back rows survived in \(table)")
        }
        let written = try server.rootQuery("SELECT COUNT(*) FROM \(schema.main)_gray")
        #expect((Int(written.first ?? "") ?? 0) > 0, "lane gray wrote nothing: the workload did not exercise it")
        // Refused statements never reached the server; accepted ones did (the log works).
        let log = server.statementLog()
        #expect(!log.contains(schema.refusedMarker), "seed \(seed): a refused statement reached the server")
        #expect(log.contains(schema.acceptedMarker), "the server's statement log shows no accepted statement")
    }

    private func createTables(_ schema: IsolationSchema, on server: ReliabilityPrivateServer) throws {
        let columns = dialect == .mysql
            ? "id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, lane VARCHAR(16) NOT NULL, marker VARCHAR(64) NOT NULL, v BIGINT NOT NULL"
            : "id BIGSERIAL PRIMARY KEY, lane VARCHAR(16) NOT NULL, marker VARCHAR(64) NOT NULL, v BIGINT NOT NULL"
        let sql = schema.physicalTables.map { "CREATE TABLE \($0.table) (\(columns));" }.joined(separator: "\n")
        try server.rootSQL(sql)
        switch dialect {
        case .mysql:
            try server.rootSQL("""
                DELIMITER //
                CREATE FUNCTION \(schema.writer)(l VARCHAR(16), m VARCHAR(64)) RETURNS INT MODIFIES SQL DATA
                BEGIN INSERT INTO \(schema.main) (lane, marker, v) VALUES (l, m, 1); RETURN 1; END//
                DELIMITER ;
                """)
        case .postgres:
            try server.rootSQL("""
                CREATE FUNCTION \(schema.writer)(l text, m text) RETURNS int LANGUAGE sql AS
                $$ INSERT INTO \(schema.main) (lane, marker, v) VALUES (l, m, 1) RETURNING 1 $$;
                """)
        }
        // Seed a row per table so reads and updates have something to see.
        try server.rootSQL(
            schema.physicalTables.map { "INSERT INTO \($0.table) (lane, marker, v) VALUES ('\($0.lane)', 'seed', 1);" }
                .joined(separator: "\n"))
    }
}

/// Runs blocking bodies on their own threads (client libraries block) and waits for all of them.
func runThreads(_ bodies: [@Sendable () -> Void]) async {
    let group = DispatchGroup()
    for body in bodies {
        group.enter()
        let thread = Thread {
            body()
            group.leave()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        group.notify(queue: .global()) { continuation.resume() }
    }
}
