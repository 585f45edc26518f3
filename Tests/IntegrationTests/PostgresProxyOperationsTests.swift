import DatabaseClients
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ShadowConfig
import ShadowProxy
import ShadowSQL
import Testing

/// Operations behaviour of the PostgreSQL proxy against the real servers: connection registry, lane statistics,
/// logs without secrets, configuration reload and graceful shutdown.
@Suite("PostgreSQL proxy operations against real servers", .serialized)
struct PostgresProxyOperationsTests {
    static let gray = LaneConfiguration(name: "gray", mapping: LaneMapping(lane: "gray", tableSuffix: "_gray"))

    func connect(_ proxy: PostgresTestProxy, options: String? = nil) throws -> PostgresConnection {
        try PostgresConnection(
            configuration: .init(
                host: "127.0.0.1", port: proxy.port, user: proxy.server.user, password: proxy.server.password,
                database: "mse_demo", options: options))
    }

    func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<200 {
            if condition() { return true }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return condition()
    }

    @Test("a connection is in the registry with its user and lane while open and gone after close")
    func registry() async throws {
        let proxy = try await PostgresTestProxy.start(server: try .fromEnvironment(), lanes: [Self.gray])
        defer { Task { await proxy.stop() } }
        let connection = try connect(proxy, options: "-c shadow.lane=gray")
        let marker = postgresUniqueName("registry")
        try connection.execute("INSERT INTO mse_demo_table (location) VALUES ($1)", params: [marker])
        let live = proxy.context.connections.snapshot
        #expect(live.count == 1)
        #expect(live.first?.lane == "gray")
        #expect(live.first?.user == proxy.server.user)
        #expect(live.first?.wireProtocol == "postgresql")
        #expect(live.first?.backend == "\(proxy.server.host):\(proxy.server.port)")
        try connection.simpleQuery("SET shadow.lane = 'base'")
        #expect(await eventually { proxy.context.connections.snapshot.first?.lane == "base" })
        let gray = proxy.context.statistics.snapshot["gray"]
        #expect(gray?.rewrites == 1)
        // The example keeps the shape of the statement but not the value.
        #expect(gray?.lastRewrites.first?.contains("mse_demo_table_gray") == true)
        #expect(gray?.lastRewrites.first?.contains(marker) == false)
        connection.close()
        #expect(await eventually { proxy.context.connections.count == 0 })
        #expect(await eventually { proxy.listener.connectionCount == 0 })
    }

    @Test("refusals are counted per lane with a masked example")
    func refusalStatistics() async throws {
        let strict = LaneConfiguration(
            name: "strict", mapping: LaneMapping(lane: "strict", tables: ["mse_demo_table": "mse_demo_table_gray"]))
        let proxy = try await PostgresTestProxy.start(server: try .fromEnvironment(), lanes: [strict])
        defer { Task { await proxy.stop() } }
        let connection = try connect(proxy, options: "-c shadow.lane=strict")
        defer { connection.close() }
        #expect(throws: DatabaseClientError.self) {
            try connection.simpleQuery("INSERT INTO nowhere_table (location) VALUES ('top-secret-value')")
        }
        let lane = proxy.context.statistics.snapshot["strict"]
        #expect(lane?.refusals == 1)
        #expect(lane?.lastRefusals.first?.contains("nowhere_table") == true)
        #expect(lane?.lastRefusals.first?.contains("top-secret-value") == false)
    }

    @Test("no log line carries a password during md5 and cleartext logins, and SQL literals are masked")
    func logsWithoutSecrets() async throws {
        let captured = CapturedLog()
        let proxy = try await PostgresTestProxy.start(
            server: try .fromEnvironment(), lanes: [Self.gray], logHandler: { label in captured.handler(label) })
        defer { Task { await proxy.stop() } }
        try proxy.psql("SELECT 1", user: "shadow_md5", password: "md5-pass")
        try proxy.psql("SELECT 1", user: "shadow_password", password: "plain-pass")
        try proxy.psql(
            "INSERT INTO mse_demo_table (location) VALUES ('literal-secret-42')", extra: "options='-c shadow.lane=gray'")
        #expect(await eventually { captured.lines.filter { $0.contains("postgres connection closed") }.count >= 3 })
        let lines = captured.lines
        #expect(lines.contains { $0.contains("postgres connection opened") && $0.contains("user=shadow_md5") })
        #expect(lines.contains { $0.contains("statement rewritten") && $0.contains("mse_demo_table_gray") })
        for secret in ["md5-pass", "plain-pass", "literal-secret-42", proxy.server.password] {
            #expect(!lines.contains { $0.contains(secret) }, "a log line contains \(secret)")
        }
    }

    @Test("after a reload that removes a lane, its sessions are refused and new connections rejected")
    func reloadRemovesLane() async throws {
        let proxy = try await PostgresTestProxy.start(server: try .fromEnvironment(), lanes: [Self.gray])
        defer { Task { await proxy.stop() } }
        let marker = postgresUniqueName("reload")
        let connection = try connect(proxy, options: "-c shadow.lane=gray")
        defer { connection.close() }
        try connection.execute("INSERT INTO mse_demo_table (location) VALUES ($1)", params: [marker])
        let renamed = LaneConfiguration(name: "gray2", mapping: LaneMapping(lane: "gray2", tableSuffix: "_gray"))
        proxy.context.routing.replace(
            with: RoutingTable(
                configuration: ShadowgateConfiguration(listeners: [proxy.listener.configuration], lanes: [renamed])))
        let error = #expect(throws: DatabaseClientError.self) {
            try connection.execute("INSERT INTO mse_demo_table (location) VALUES ($1)", params: [marker])
        }
        #expect(error?.message.contains("no longer configured") == true)
        #expect(error?.message.contains("gray2") == true)
        #expect(try proxy.server.direct("SELECT count(*) FROM mse_demo_table WHERE location = '\(marker)'") == "0")
        #expect(try proxy.server.direct("SELECT count(*) FROM mse_demo_table_gray WHERE location = '\(marker)'") == "1")
        #expect(throws: DatabaseClientError.self) { try connect(proxy, options: "-c shadow.lane=gray") }
        let newLane = try connect(proxy, options: "-c shadow.lane=gray2")
        defer { newLane.close() }
        try newLane.execute("INSERT INTO mse_demo_table (location) VALUES ($1)", params: [marker])
        #expect(try proxy.server.direct("SELECT count(*) FROM mse_demo_table_gray WHERE location = '\(marker)'") == "2")
    }

    @Test("graceful shutdown lets an open transaction commit, then closes the connection and refuses new ones")
    func gracefulDrain() async throws {
        let proxy = try await PostgresTestProxy.start(server: try .fromEnvironment(), lanes: [Self.gray])
        let marker = postgresUniqueName("drain")
        let busy = try connect(proxy)
        defer { busy.close() }
        let idle = try connect(proxy)
        defer { idle.close() }
        try busy.simpleQuery("BEGIN")
        try busy.execute("INSERT INTO mse_demo_table (location) VALUES ($1)", params: [marker])
        let listener = proxy.listener
        let shutdown = Task { await listener.shutdown(gracefulDeadline: .now() + .seconds(10)) }
        // The idle connection is closed at once; the one in a transaction stays.
        #expect(await eventually { listener.connectionCount == 1 })
        #expect(throws: DatabaseClientError.self) { try connect(proxy) }
        try busy.execute("INSERT INTO mse_demo_table (location) VALUES ($1)", params: [marker])
        try busy.simpleQuery("COMMIT")
        await shutdown.value
        #expect(listener.connectionCount == 0)
        #expect(throws: DatabaseClientError.self) { try busy.simpleQuery("SELECT 1") }
        #expect(try proxy.server.direct("SELECT count(*) FROM mse_demo_table WHERE location = '\(marker)'") == "2")
        try? await proxy.group.shutdownGracefully()
    }

    @Test("at the shutdown deadline a connection still in a transaction gets 57P01 and is closed")
    func shutdownDeadline() async throws {
        let proxy = try await PostgresTestProxy.start(server: try .fromEnvironment(), lanes: [Self.gray])
        let marker = postgresUniqueName("deadline")
        let (_, results) = try await withThrowingTaskGroup(of: (String?, [PostgresRawClient.StepResult]).self) { group in
            group.addTask {
                try PostgresRawClient.run(
                    port: proxy.port,
                    steps: [
                        [["Q", "BEGIN; INSERT INTO mse_demo_table (location) VALUES ('\(marker)')"]],
                        // Far longer than the deadline: on a loaded machine the shutdown below may start seconds
                        // after the sleep does, and a sleep that ends first would answer with ReadyForQuery.
                        [["Q", "SELECT pg_sleep(120) /* \(marker) */"]],
                    ])
            }
            // Shut down only once the client is inside its transaction, in the sleep (a loaded machine may take a
            // while to get there; a fixed delay made this test flaky).
            for _ in 0..<400 {
                let active = try proxy.server.direct(
                    "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND query LIKE 'SELECT pg_sleep(120) /* \(marker)%'")
                if active == "1" { break }
                try await Task.sleep(nanoseconds: 25_000_000)
            }
            await proxy.listener.shutdown(gracefulDeadline: .now() + .milliseconds(300))
            return try await group.next()!
        }
        #expect(proxy.listener.connectionCount == 0)
        // The sleep's ReadyForQuery never comes: the FATAL arrives first, then the connection closes.
        #expect(results.count == 3)
        #expect(results.last?.status == "closed")
        #expect(results.last?.errors.first?.hasPrefix("57P01: terminating connection") == true)
        #expect(try proxy.server.direct("SELECT count(*) FROM mse_demo_table WHERE location = '\(marker)'") == "0")
        // The server notices the closed connection only when the sleep ends; do not leave it holding a session.
        _ = try? proxy.server.direct(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE 'SELECT pg_sleep(120) /* \(marker)%'")
        try? await proxy.group.shutdownGracefully()
    }
}

/// Collects every rendered log line (message and metadata) in memory.
final class CapturedLog: Sendable {
    private let storage = NIOLockedValueBox<[String]>([])

    var lines: [String] { storage.withLockedValue { $0 } }

    func handler(_ label: String) -> any LogHandler {
        Handler(log: self)
    }

    fileprivate func append(_ line: String) { storage.withLockedValue { $0.append(line) } }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(
            level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
            file: String, function: String, line: UInt
        ) {
            let all = metadata.merging(explicit ?? [:]) { $1 }
            let rendered = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            log.append("\(level) \(message) \(rendered)")
        }
    }
}
