import DatabaseClients
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ShadowConfig
import ShadowProxy
import ShadowSQL
import Testing

/// Operations behaviour of the MySQL proxy against the real MariaDB servers: connection registry, lane statistics,
/// metrics, logs without secrets, configuration reload (also under load), graceful shutdown, change of user and
/// reset, and KILL across lane servers.
@Suite("MySQL proxy operations against real servers", .serialized)
struct MySQLProxyOperationsTests {
    func eventually(_ condition: () throws -> Bool) async rethrows -> Bool {
        for _ in 0..<300 {
            if try condition() { return true }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return try condition()
    }

    func count(_ conn: MariaDBConnection, _ table: String, location: String) throws -> Int {
        Int(try conn.query("SELECT COUNT(*) FROM \(table) WHERE location = '\(location)'").scalar ?? "") ?? -1
    }

    /// The proxy's configuration with the routing table swapped for one whose lanes are `lanes`.
    func table(_ proxy: MySQLTestProxy, lanes: [LaneConfiguration]) -> RoutingTable {
        RoutingTable(configuration: ShadowgateConfiguration(listeners: [proxy.listener.configuration], lanes: lanes))
    }

    @Test("live MySQL connections are in the registry with user, lane and server; a session switch moves the lane")
    func registry() async throws {
        let env = try TestEnvironment.load()
        let proxy = try await MySQLTestProxy.start(env: env)
        defer { Task { await proxy.stop() } }
        let gray = try proxy.connect(attributes: ["lane": "gray"])
        let base = try proxy.connect()
        let remote = try proxy.connect(attributes: ["lane": "remote"])
        let marker = TestEnvironment.uniqueName("registry")
        try gray.execute("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')")
        let live = proxy.context.connections.snapshot
        #expect(live.count == 3)
        #expect(live.allSatisfy { $0.wireProtocol == "mysql" && $0.user == env.mysql.user })
        #expect(live.map(\.lane).sorted() == ["base", "gray", "remote"])
        #expect(live.first { $0.lane == "remote" }?.backend == "\(env.mysql.host):\(env.mysql.shadowPort)")
        #expect(live.first { $0.lane == "base" }?.backend == "\(env.mysql.host):\(env.mysql.port)")
        try base.execute("SET @lane = 'gray'")
        #expect(await eventually { proxy.context.connections.snapshot.filter { $0.lane == "gray" }.count == 2 })
        let statistics = proxy.context.statistics.snapshot["gray"]
        #expect(statistics?.rewrites == 1)
        // The example keeps the shape of the statement but not the value.
        #expect(statistics?.lastRewrites.first?.contains("mse_demo_table_gray") == true)
        #expect(statistics?.lastRewrites.first?.contains(marker) == false)
        gray.close()
        base.close()
        remote.close()
        #expect(await eventually { proxy.context.connections.count == 0 })
        #expect(await eventually { proxy.listener.connectionCount == 0 })
    }

    @Test("metrics count connections, statements, rewrites, refusals by rule, latency, connect errors and bytes")
    func metrics() async throws {
        let env = try TestEnvironment.load()
        _ = TestMetrics.registry
        let name = "mysql-metrics-\(UInt32.random(in: 0...UInt32.max))"
        var config = MySQLTestProxy.configuration(env: env, listenerName: name)
        // A lane whose server is down, for the backend connect error counter.
        let dead = try MySQLProxyFaultTests.closedPort()
        defer { dead.release() }
        let deadPort = dead.port
        config.lanes.append(LaneConfiguration(
            name: "down", mapping: LaneMapping(lane: "down"), backends: [name: Endpoint(host: "127.0.0.1", port: deadPort)]))
        let proxy = try await MySQLTestProxy.start(env: env, configuration: config)
        defer { Task { await proxy.stop() } }
        let l = ["listener": name]
        let gray = try proxy.connect(attributes: ["lane": "gray"])
        let strict = try proxy.connect(attributes: ["lane": "strict"])
        let marker = TestEnvironment.uniqueName("metrics")
        try gray.execute("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')")
        _ = try gray.query("SELECT 1")
        #expect(throws: DatabaseClientError.self) { try strict.execute("INSERT INTO mse_orders (item) VALUES ('x')") }
        #expect(throws: DatabaseClientError.self) { try proxy.connect(attributes: ["lane": "down"]) }
        #expect(TestMetrics.value("shadowgate_connections_total", l.merging(["lane": "gray"]) { $1 }) == 1)
        #expect(TestMetrics.value("shadowgate_connections_current", l) == 2)
        #expect(TestMetrics.value("shadowgate_statements_total", l.merging(["lane": "gray"]) { $1 }) >= 2)
        #expect(TestMetrics.value("shadowgate_rewrites_total", l.merging(["lane": "gray"]) { $1 }) == 1)
        #expect(TestMetrics.value("shadowgate_refusals_total", l.merging(["lane": "strict", "rule": "unmapped_writes"]) { $1 }) == 1)
        #expect(TestMetrics.value("shadowgate_statement_duration_seconds_count", l.merging(["lane": "gray"]) { $1 }) >= 2)
        #expect(TestMetrics.value("shadowgate_backend_connect_errors_total", l.merging(["backend": "127.0.0.1:\(deadPort)"]) { $1 }) == 1)
        #expect(TestMetrics.value("shadowgate_bytes_total", l.merging(["direction": "in"]) { $1 }) > 0)
        #expect(TestMetrics.value("shadowgate_bytes_total", l.merging(["direction": "out"]) { $1 }) > 0)
        gray.close()
        strict.close()
        #expect(await eventually { TestMetrics.value("shadowgate_connections_current", l) == 0 })
    }

    @Test("statement metrics follow the session's lane when it switches to gray and back to base")
    func metricsFollowLaneSwitches() async throws {
        let env = try TestEnvironment.load()
        _ = TestMetrics.registry
        let name = "mysql-lane-metrics-\(UInt32.random(in: 0...UInt32.max))"
        let proxy = try await MySQLTestProxy.start(env: env, configuration: MySQLTestProxy.configuration(env: env, listenerName: name))
        defer { Task { await proxy.stop() } }
        let conn = try proxy.connect()
        defer { conn.close() }
        let base = ["listener": name, "lane": "base"]
        let gray = ["listener": name, "lane": "gray"]
        for _ in 0..<3 { _ = try conn.query("SELECT 1") }
        try conn.execute("SET @lane = 'gray'")
        for _ in 0..<2 { _ = try conn.query("SELECT 1") }
        try conn.execute("SET @lane = 'base'")
        _ = try conn.query("SELECT 1")
        // base: 3 SELECTs, SET @lane = 'gray' (runs in base), 1 SELECT; gray: 2 SELECTs, SET @lane = 'base'.
        #expect(TestMetrics.value("shadowgate_statements_total", base) == 5)
        #expect(TestMetrics.value("shadowgate_statements_total", gray) == 3)
        #expect(TestMetrics.value("shadowgate_statement_duration_seconds_count", base) == 5)
        #expect(TestMetrics.value("shadowgate_statement_duration_seconds_count", gray) == 3)
    }

    @Test("no log line carries the password of a mysql_native_password login or a SQL literal")
    func logsWithoutSecrets() async throws {
        let env = try TestEnvironment.load()
        let captured = CapturedLog()
        let proxy = try await MySQLTestProxy.start(env: env, logLevel: .trace, logHandler: { captured.handler($0) })
        defer { Task { await proxy.stop() } }
        let secret = "literal-secret-\(UInt32.random(in: 0...UInt32.max))"
        let gray = try proxy.connect(user: "gray_app", password: "gray-pass")
        try gray.execute("INSERT INTO mse_demo_table (location) VALUES ('\(secret)')")
        #expect(throws: DatabaseClientError.self) {
            try gray.execute("INSERT INTO mse_demo_table (location) VALUES ('\(secret)'); DROP TABLE mse_orders")
        }
        gray.close()
        let strict = try proxy.connect(attributes: ["lane": "strict"])
        #expect(throws: DatabaseClientError.self) { try strict.execute("INSERT INTO mse_orders (item) VALUES ('\(secret)')") }
        strict.close()
        _ = try MySQLCommandLineClient.run(port: proxy.port, user: env.mysql.user, password: env.mysql.password, sql: "SELECT '\(secret)'")
        #expect(await eventually { captured.lines.filter { $0.contains("mysql connection closed") }.count >= 3 })
        let lines = captured.lines
        #expect(lines.contains { $0.contains("mysql connection opened") && $0.contains("user=gray_app") && $0.contains("lane=gray") })
        #expect(lines.contains { $0.contains("mysql connection closed") && $0.contains("reason=client quit") && $0.contains("statements=") })
        #expect(lines.contains { $0.contains("statement rewritten") && $0.contains("mse_demo_table_gray") })
        #expect(lines.contains { $0.contains("statement refused") && $0.contains("rule=unmapped_writes") && $0.contains("table=mse_orders") })
        for secret in ["gray-pass", env.mysql.password, secret] {
            #expect(!lines.contains { $0.contains(secret) }, "a log line contains \(secret)")
        }
    }

    @Test("after a reload a session keeps its lane with the new mapping; a removed lane is refused, new lanes work")
    func reload() async throws {
        let env = try TestEnvironment.load()
        let proxy = try await MySQLTestProxy.start(env: env)
        defer { Task { await proxy.stop() } }
        let marker = TestEnvironment.uniqueName("reload")
        let gray = try proxy.connect(attributes: ["lane": "gray"])
        try gray.execute("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')")
        // Same lane name, now a database lane: the open session follows the new mapping.
        let regrayed = LaneConfiguration(
            name: "gray", mapping: LaneMapping(lane: "gray", databases: ["mse_demo": "mse_demo_gray"], unmappedWrites: .pass))
        proxy.context.routing.replace(with: table(proxy, lanes: [regrayed]))
        // The server is still in mse_demo, which the lane now maps to mse_demo_gray: statements are refused until the
        // database is selected again in the lane (an unqualified write would otherwise land in base).
        let moved = #expect(throws: DatabaseClientError.self) {
            try gray.execute("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')")
        }
        #expect(moved?.message.contains("database-level lanes are connection-level") == true)
        try gray.execute("USE mse_demo")
        try gray.execute("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')")
        let direct = try proxy.direct()
        #expect(try count(direct, "mse_demo_gray.mse_demo_table", location: marker) == 1)
        #expect(try count(direct, "mse_demo.mse_demo_table", location: marker) == 0)
        // The lane goes away: the session is refused, with the lanes that exist.
        let renamed = LaneConfiguration(name: "gray2", mapping: LaneMapping(lane: "gray2", tableSuffix: "_gray"))
        proxy.context.routing.replace(with: table(proxy, lanes: [renamed]))
        let error = #expect(throws: DatabaseClientError.self) {
            try gray.execute("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')")
        }
        #expect(error?.message.contains("no longer configured") == true, "\(String(describing: error))")
        #expect(error?.message.contains("gray2") == true)
        // The connection stays usable for a lane that exists, once the database is selected in it.
        try gray.execute("/* lane=gray2 */ USE mse_demo")
        try gray.execute("/* lane=gray2 */ INSERT INTO mse_demo_table (location) VALUES ('\(marker)')")
        #expect(try count(direct, "mse_demo_table", location: marker) == 0)
        #expect(try count(direct, "mse_demo_table_gray", location: marker) == 2)
        #expect(throws: DatabaseClientError.self) { try proxy.connect(attributes: ["lane": "gray"]) }
        let newLane = try proxy.connect(attributes: ["lane": "gray2"])
        try newLane.execute("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')")
        #expect(try count(direct, "mse_demo_table_gray", location: marker) == 3)
        gray.close()
        newLane.close()
    }

    @Test("reloading the routing table repeatedly under load drops no connection and fails no statement")
    func reloadUnderLoad() async throws {
        let env = try TestEnvironment.load()
        let proxy = try await MySQLTestProxy.start(env: env)
        defer { Task { await proxy.stop() } }
        let original = proxy.context.routing.current.configuration
        let marker = TestEnvironment.uniqueName("load")
        let stop = ManagedAtomicFlag()
        let workers = 4
        let results = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for worker in 0..<workers {
                group.addTask {
                    // Blocking clients on threads of their own, so the cooperative pool stays free for the swaps.
                    try await onThread {
                        let lane = worker % 2 == 0 ? "gray" : "base"
                        let conn = try proxy.connect(attributes: ["lane": lane])
                        defer { conn.close() }
                        var done = 0
                        do {
                            while !stop.isSet || done < 20 {
                                try conn.execute("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')")
                                _ = try conn.query("SELECT COUNT(*) FROM mse_demo_table WHERE location = '\(marker)'")
                                done += 1
                            }
                        } catch {
                            return (done, "\(error)")
                        }
                        return (done, nil)
                    }
                }
            }
            group.addTask {
                // On a thread too: the swaps must not wait for a busy cooperative pool while the workers spin.
                try await onThread {
                    for round in 0..<10 {
                        Thread.sleep(forTimeInterval: 0.03)
                        var configuration = original
                        // Alternate between two equivalent tables (another lane order) so each swap is a new table.
                        if round % 2 == 0 { configuration.lanes.reverse() }
                        proxy.context.routing.replace(with: RoutingTable(configuration: configuration))
                    }
                    stop.set()
                    return (0, nil)
                }
            }
            var all: [(Int, String?)] = []
            for try await result in group { all.append(result) }
            return all
        }
        #expect(proxy.context.routing.generation == 11)
        #expect(results.compactMap(\.1).isEmpty, "\(results.compactMap(\.1))")
        let statements = results.map(\.0).reduce(0, +)
        #expect(statements >= workers * 20)
        let direct = try proxy.direct()
        let inserted = try count(direct, "mse_demo_table", location: marker) + count(direct, "mse_demo_table_gray", location: marker)
        #expect(inserted == statements)
        #expect(await eventually { proxy.context.connections.count == 0 })
    }

    @Test("graceful shutdown lets an open transaction commit, closes idle connections at once and refuses new ones")
    func gracefulDrain() async throws {
        let env = try TestEnvironment.load()
        let proxy = try await MySQLTestProxy.start(env: env)
        let marker = TestEnvironment.uniqueName("drain")
        let busy = try proxy.connect()
        let idle = try proxy.connect()
        try busy.execute("BEGIN")
        try busy.execute("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')")
        let listener = proxy.listener
        let shutdown = Task { await listener.shutdown(gracefulDeadline: .now() + .seconds(10)) }
        // The idle connection is closed at once; the one in a transaction stays.
        #expect(await eventually { listener.connectionCount == 1 })
        #expect(throws: DatabaseClientError.self) { _ = try idle.query("SELECT 1") }
        #expect(throws: DatabaseClientError.self) { try proxy.connect() }
        try busy.execute("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')")
        try busy.execute("COMMIT")
        await shutdown.value
        #expect(listener.connectionCount == 0)
        #expect(throws: DatabaseClientError.self) { _ = try busy.query("SELECT 1") }
        #expect(try count(try proxy.direct(), "mse_demo_table", location: marker) == 2)
        busy.close()
        idle.close()
    }

    @Test("at the shutdown deadline a connection still in a transaction is closed and its transaction rolled back")
    func shutdownDeadline() async throws {
        let env = try TestEnvironment.load()
        let proxy = try await MySQLTestProxy.start(env: env)
        let marker = TestEnvironment.uniqueName("deadline")
        let conn = try proxy.connect()
        try conn.execute("BEGIN")
        try conn.execute("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')")
        await proxy.listener.shutdown(gracefulDeadline: .now() + .milliseconds(300))
        #expect(proxy.listener.connectionCount == 0)
        let error = #expect(throws: DatabaseClientError.self) { _ = try conn.query("SELECT 1") }
        // Either the ERR 1053 the proxy sent while the client waited, or the closed socket.
        #expect(error?.serverErrorNumber == 1053 || error?.serverErrorNumber == 2006 || error?.serverErrorNumber == 2013,
                "\(String(describing: error))")
        let direct = try proxy.direct()
        #expect(try await eventually { try count(direct, "mse_demo_table", location: marker) == 0 })
        conn.close()
    }

    @Test("COM_CHANGE_USER moves the connection to the new user's lane; COM_RESET_CONNECTION drops the session lane")
    func changeUserAndReset() async throws {
        let env = try TestEnvironment.load()
        let proxy = try await MySQLTestProxy.start(env: env)
        defer { Task { await proxy.stop() } }
        let marker = TestEnvironment.uniqueName("chuser")
        let conn = try proxy.connect()
        try conn.execute("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')")
        try conn.changeUser("gray_app", password: "gray-pass", database: "mse_demo")
        #expect(try conn.query("SELECT CURRENT_USER()").scalar?.hasPrefix("gray_app@") == true)
        try conn.execute("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')")
        #expect(await eventually { proxy.context.connections.snapshot.first?.lane == "gray" })
        #expect(proxy.context.connections.snapshot.first?.user == "gray_app")
        try conn.changeUser(env.mysql.user, password: env.mysql.password, database: "mse_demo")
        try conn.execute("SET @lane = 'gray'")
        try conn.execute("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')")
        try conn.resetConnection()
        try conn.execute("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')")
        #expect(await eventually { proxy.context.connections.snapshot.first?.lane == "base" })
        let direct = try proxy.direct()
        #expect(try count(direct, "mse_demo_table", location: marker) == 2)
        #expect(try count(direct, "mse_demo_table_gray", location: marker) == 2)
        conn.close()
    }

    @Test("KILL names the id the client was given: mapped to the real thread on a lane server, refused from another server")
    func killAcrossServers() async throws {
        let env = try TestEnvironment.load()
        let proxy = try await MySQLTestProxy.start(env: env)
        defer { Task { await proxy.stop() } }
        let target = try proxy.connect(attributes: ["lane": "remote"])
        // The client was given the base server's greeting id; on the lane server the connection has another one.
        let given = target.threadID
        let real = try #require(UInt64(try target.query("SELECT CONNECTION_ID()").scalar ?? ""))
        let base = try proxy.connect()
        let error = #expect(throws: DatabaseClientError.self) { try base.execute("KILL \(given)") }
        #expect(error?.message.contains("thread \(given) is a connection on another server") == true, "\(String(describing: error))")
        #expect(error?.message.contains("\(env.mysql.shadowPort)") == true)
        #expect(try target.query("SELECT 'still alive'").scalar == "still alive")
        // From a connection on the lane server, the given id reaches the real thread.
        let sameServer = try proxy.connect(attributes: ["lane": "remote"])
        try sameServer.execute("KILL QUERY \(given)")
        #expect(try target.query("SELECT 'query killed, connection kept'").scalar == "query killed, connection kept")
        try sameServer.execute("KILL \(given)")
        #expect(throws: DatabaseClientError.self) { _ = try target.query("SELECT 1") }
        let shadow = try proxy.direct(shadow: true)
        #expect(try await eventually {
            try shadow.query("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = \(real)").scalar == "0"
        })
        // Base connections are untouched: a base connection KILLs another base connection by its id.
        let victim = try proxy.connect()
        try base.execute("KILL CONNECTION \(victim.threadID)")
        #expect(throws: DatabaseClientError.self) { _ = try victim.query("SELECT 1") }
        #expect(try base.query("SELECT 'ok'").scalar == "ok")
        for conn in [target, base, sameServer, victim] { conn.close() }
    }

    @Test("KILL in a lane ends only that lane's connections: base ones, unknown ids and KILL USER are refused; a session switch moves a connection")
    func killInLane() async throws {
        try await MySQLTestProxy.with { proxy in
            let gray = try proxy.connect(attributes: ["lane": "gray"])
            let killer = try proxy.connect(attributes: ["lane": "gray"])
            let base = try proxy.connect()
            let outside = try proxy.direct()
            defer { for conn in [gray, killer, base, outside] { conn.close() } }
            let toBase = #expect(throws: DatabaseClientError.self) { try killer.execute("KILL CONNECTION \(base.threadID)") }
            #expect(toBase?.message.contains("it is a connection of lane 'base'") == true, "\(String(describing: toBase))")
            let toOutside = #expect(throws: DatabaseClientError.self) { try killer.execute("KILL QUERY \(outside.threadID)") }
            #expect(toOutside?.message.contains("not a connection of lane 'gray' through this proxy") == true)
            let toUser = #expect(throws: DatabaseClientError.self) { try killer.execute("KILL USER \(proxy.env.mysql.user)") }
            #expect(toUser?.message.contains("KILL other than one") == true)
            #expect(try base.query("SELECT 'base alive'").scalar == "base alive")
            #expect(try outside.query("SELECT 'outside alive'").scalar == "outside alive")
            // The session switch moves the base connection into the lane, and back.
            _ = try base.execute("SET @lane = 'gray'")
            try killer.execute("KILL QUERY \(base.threadID)")
            _ = try base.execute("SET @lane = NULL")
            #expect(throws: DatabaseClientError.self) { try killer.execute("KILL QUERY \(base.threadID)") }
            // Within the lane a KILL passes; the base lane may end any connection.
            try killer.execute("KILL CONNECTION \(gray.threadID)")
            #expect(throws: DatabaseClientError.self) { _ = try gray.query("SELECT 1") }
            try base.execute("KILL CONNECTION \(killer.threadID)")
            #expect(throws: DatabaseClientError.self) { _ = try killer.query("SELECT 1") }
        }
    }
}

/// Runs blocking work on a thread of its own.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// A flag set once by one task and read by others.
final class ManagedAtomicFlag: Sendable {
    private let storage = NIOLockedValueBox(false)
    var isSet: Bool { storage.withLockedValue { $0 } }
    func set() { storage.withLockedValue { $0 = true } }
}
