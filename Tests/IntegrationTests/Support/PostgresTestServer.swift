import DatabaseClients
import Foundation
import Logging
import NIOCore
import NIOPosix
import ShadowConfig
import ShadowProxy
import ShadowSQL
import Testing

/// The real PostgreSQL servers started by scripts/servers.sh, read from SHADOWGATE_* variables. Missing variables
/// fail the test: these tests never silently skip.
struct PostgresTestServer {
    var host: String
    var port: Int
    var shadowPort: Int
    var user: String
    var password: String
    var socketDirectory: String
    var tlsCertificate: String
    var tlsKey: String

    static func fromEnvironment() throws -> PostgresTestServer {
        let env = ProcessInfo.processInfo.environment
        func need(_ name: String) throws -> String {
            guard let value = env[name], !value.isEmpty else {
                throw PostgresTestError(
                    "\(name) is not set: run `bash scripts/servers.sh start DIR` and `source DIR/env.sh` first")
            }
            return value
        }
        return PostgresTestServer(
            host: try need("SHADOWGATE_PG_HOST"),
            port: Int(try need("SHADOWGATE_PG_PORT")) ?? 0,
            shadowPort: Int(try need("SHADOWGATE_PG_SHADOW_PORT")) ?? 0,
            user: try need("SHADOWGATE_PG_USER"),
            password: try need("SHADOWGATE_PG_PASSWORD"),
            socketDirectory: try need("SHADOWGATE_PG_SOCKET_DIR"),
            tlsCertificate: try need("SHADOWGATE_TLS_CERT"),
            tlsKey: try need("SHADOWGATE_TLS_KEY"))
    }

    /// Runs SQL directly on a server (not through the proxy) as the superuser.
    @discardableResult
    func direct(_ sql: String, database: String = "mse_demo", port: Int? = nil) throws -> String {
        try PostgresClientProcess.psql(
            conninfo: "host=\(host) port=\(port ?? self.port) user=\(user) dbname=\(database) sslmode=disable",
            password: password, sql: sql)
    }
}

struct PostgresTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs real client programs (psql, pgbench, python3 with psycopg2) as subprocesses.
enum PostgresClientProcess {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ executable: String, _ arguments: [String], environment extra: [String: String] = [:], stdin: String? = nil)
        throws -> Output
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in extra { environment[k] = v }
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }

    /// psql in unaligned tuples-only mode; throws with stderr when psql fails.
    @discardableResult
    static func psql(conninfo: String, password: String, sql: String, stdin: String? = nil) throws -> String {
        let output = try run(
            "psql", ["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", conninfo, "-c", sql],
            environment: ["PGPASSWORD": password, "PGCONNECT_TIMEOUT": "10"], stdin: stdin)
        guard output.status == 0 else { throw PostgresTestError("psql failed (\(output.status)): \(output.stderr)") }
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// psql reading a script from stdin; returns the whole output, including errors, without throwing.
    static func psqlScript(conninfo: String, password: String, script: String) throws -> Output {
        try run(
            "psql", ["-X", "-A", "-t", "-q", conninfo], environment: ["PGPASSWORD": password, "PGCONNECT_TIMEOUT": "10"],
            stdin: script)
    }
}

/// The proxy running in-process in front of the test servers.
final class PostgresTestProxy: @unchecked Sendable {
    let listener: PostgresListener
    let group: MultiThreadedEventLoopGroup
    let server: PostgresTestServer
    let port: Int
    let context: ListenerContext

    static func start(
        server: PostgresTestServer, lanes: [LaneConfiguration], tls: Bool = false, backendTLS: Bool = false,
        name: String = "orders-pg", logHandler: (@Sendable (String) -> any LogHandler)? = nil
    ) async throws -> PostgresTestProxy {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let listenerConfiguration = ListenerConfiguration(
            name: name, wireProtocol: .postgres, listen: Endpoint(host: "127.0.0.1", port: 0),
            backend: Endpoint(host: server.host, port: server.port),
            tls: tls ? TLSFiles(certificatePath: server.tlsCertificate, privateKeyPath: server.tlsKey) : nil,
            backendTLS: backendTLS)
        let configuration = ShadowgateConfiguration(listeners: [listenerConfiguration], lanes: lanes)
        let table = RoutingTable(configuration: configuration)
        var logger =
            logHandler.map { Logger(label: "test.postgres-proxy", factory: $0) } ?? Logger(label: "test.postgres-proxy")
        logger.logLevel = logHandler == nil ? .info : .trace
        let context = ListenerContext(
            routing: RoutingSource(table), connections: ConnectionRegistry(), statistics: LaneStatistics(),
            group: group, logger: logger)
        let listener = PostgresListener(configuration: listenerConfiguration, context: context)
        try await listener.start()
        guard let port = listener.localAddress?.port else { throw PostgresTestError("listener has no port") }
        return PostgresTestProxy(listener: listener, group: group, server: server, port: port, context: context)
    }

    private init(
        listener: PostgresListener, group: MultiThreadedEventLoopGroup, server: PostgresTestServer, port: Int,
        context: ListenerContext
    ) {
        self.listener = listener
        self.group = group
        self.server = server
        self.port = port
        self.context = context
    }

    /// A libpq connection string to the proxy.
    func conninfo(user: String? = nil, database: String = "mse_demo", extra: String = "") -> String {
        "host=127.0.0.1 port=\(port) user=\(user ?? server.user) dbname=\(database) sslmode=disable \(extra)"
    }

    @discardableResult
    func psql(_ sql: String, user: String? = nil, password: String? = nil, database: String = "mse_demo", extra: String = "")
        throws -> String
    {
        try PostgresClientProcess.psql(
            conninfo: conninfo(user: user, database: database, extra: extra), password: password ?? server.password,
            sql: sql)
    }

    func stop() async {
        await listener.shutdown(gracefulDeadline: .now() + .seconds(2))
        try? await group.shutdownGracefully()
    }

    /// Runs `body` with a proxy of `lanes` in front of `server` (the environment's by default), stopping it
    /// afterwards.
    static func with(
        server: PostgresTestServer? = nil, lanes: [LaneConfiguration], tls: Bool = false, backendTLS: Bool = false,
        _ body: (PostgresTestProxy) async throws -> Void
    ) async throws {
        let proxy = try await start(
            server: try server ?? PostgresTestServer.fromEnvironment(), lanes: lanes, tls: tls, backendTLS: backendTLS)
        do {
            try await body(proxy)
        } catch {
            await proxy.stop()
            throw error
        }
        await proxy.stop()
    }

    /// A libpq connection through the proxy to `mse_demo`.
    func connect(options: String? = nil) throws -> PostgresConnection {
        try PostgresConnection(
            configuration: .init(
                host: "127.0.0.1", port: port, user: server.user, password: server.password, database: "mse_demo",
                options: options))
    }

    /// (rows in the base table, rows in its `_gray` shadow) with `location = marker`.
    func counts(_ marker: String, table: String = "mse_demo_table") throws -> (String, String) {
        (
            try server.direct("SELECT count(*) FROM \(table) WHERE location = '\(marker)'"),
            try server.direct("SELECT count(*) FROM \(table)_gray WHERE location = '\(marker)'")
        )
    }
}

/// Whether the real SQL engine has landed (the placeholder rewriter changes nothing). Tests that need renaming or
/// hint/session scanning are enabled only then.

/// Unique names so parallel tests on shared servers never clash.
func postgresUniqueName(_ prefix: String) -> String {
    "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
}
