import DatabaseClients
import Foundation
import Logging
import NIOCore
import NIOPosix
import ShadowConfig
import ShadowProxy
import ShadowSQL
import Testing

/// An in-process MySQL proxy in front of the real base server, on 127.0.0.1 with a free port.
struct MySQLTestProxy {
    static let listenerName = "mysql-test"

    let env: TestEnvironment
    let listener: MySQLListener
    let port: Int
    /// The routing source, registry and statistics the listener reports to.
    let context: ListenerContext
    /// Event loops of this proxy alone (shut down by ``stop()``); nil when it shares the process-wide ones.
    var ownLoops: MultiThreadedEventLoopGroup? = nil

    /// The lanes every MySQL integration test uses:
    /// - gray: shadow tables (`T → T_gray`), user gray_app, the stored function `sg_vouched` allowed;
    /// - dbgray: shadow database (`mse_demo → mse_demo_gray`);
    /// - remote: the whole connection on the second MariaDB server (no renaming);
    /// - strict: only `mse_demo_table` is mapped, writes to anything else are refused.
    static func configuration(env: TestEnvironment, backend: Endpoint? = nil, tls: TLSFiles? = nil, handshakeTimeout: Double = 5, backendTLS: Bool = false, listenerName: String = listenerName) -> ShadowgateConfiguration {
        let listener = ListenerConfiguration(
            name: listenerName, wireProtocol: .mysql, listen: Endpoint(host: "127.0.0.1", port: 0),
            backend: backend ?? Endpoint(host: env.mysql.host, port: env.mysql.port), tls: tls, backendTLS: backendTLS,
            handshakeTimeoutSeconds: handshakeTimeout, connectTimeoutSeconds: 2)
        let gray = LaneConfiguration(
            name: "gray",
            mapping: LaneMapping(
                lane: "gray", tables: ["mse_demo_table": "mse_demo_table_gray"], tableSuffix: "_gray",
                allowedRoutines: ["sg_vouched"]),
            users: ["gray_app"])
        let dbgray = LaneConfiguration(
            name: "dbgray",
            mapping: LaneMapping(lane: "dbgray", databases: ["mse_demo": "mse_demo_gray"], unmappedWrites: .pass))
        let remote = LaneConfiguration(
            name: "remote", mapping: LaneMapping(lane: "remote", unmappedWrites: .pass),
            backends: [listenerName: Endpoint(host: env.mysql.host, port: env.mysql.shadowPort)])
        let strict = LaneConfiguration(
            name: "strict",
            mapping: LaneMapping(lane: "strict", tables: ["mse_demo_table": "mse_demo_table_gray"], unmappedWrites: .reject))
        return ShadowgateConfiguration(listeners: [listener], lanes: [gray, dbgray, remote, strict])
    }

    static func start(
        env: TestEnvironment, backend: Endpoint? = nil, tls: TLSFiles? = nil, handshakeTimeout: Double = 5,
        backendTLS: Bool = false, listenerName: String = listenerName, logLevel: Logger.Level = .info,
        logHandler: (@Sendable (String) -> any LogHandler)? = nil, ownLoops: Bool = false
    ) async throws -> MySQLTestProxy {
        let config = configuration(
            env: env, backend: backend, tls: tls, handshakeTimeout: handshakeTimeout, backendTLS: backendTLS,
            listenerName: listenerName)
        return try await start(env: env, configuration: config, logLevel: logLevel, logHandler: logHandler, ownLoops: ownLoops)
    }

    /// Starts the first listener of `configuration` with a fresh routing source, registry and statistics.
    static func start(
        env: TestEnvironment, configuration config: ShadowgateConfiguration, logLevel: Logger.Level = .info,
        logHandler: (@Sendable (String) -> any LogHandler)? = nil, ownLoops: Bool = false
    ) async throws -> MySQLTestProxy {
        // A test that sends 16 MiB statements keeps an event loop busy for seconds in a debug build (a lane
        // rewrites them on the loop): on loops of its own it cannot hold up the connections of other tests.
        let owned = ownLoops ? MultiThreadedEventLoopGroup(numberOfThreads: 1) : nil
        var logger = logHandler.map { Logger(label: "mysql-proxy-test", factory: $0) } ?? Logger(label: "mysql-proxy-test")
        logger.logLevel = logLevel
        let context = ListenerContext(
            routing: RoutingSource(RoutingTable(configuration: config)), connections: ConnectionRegistry(),
            statistics: LaneStatistics(), group: owned ?? MultiThreadedEventLoopGroup.singleton, logger: logger)
        let listener = MySQLListener(configuration: config.listeners[0], context: context)
        try await listener.start()
        let port = listener.localAddress?.port ?? 0
        return MySQLTestProxy(env: env, listener: listener, port: port, context: context, ownLoops: owned)
    }

    func stop() async {
        await listener.shutdown(gracefulDeadline: .now() + .seconds(2))
        try? await ownLoops?.shutdownGracefully()
    }

    /// Connects libmariadb through the proxy.
    func connect(
        user: String? = nil, password: String? = nil, database: String? = "mse_demo",
        attributes: [String: String] = [:], multiStatements: Bool = false,
        tls: MariaDBConnection.Configuration.TLS = .disabled
    ) throws -> MariaDBConnection {
        try MariaDBConnection(configuration: .init(
            host: "127.0.0.1", port: port, user: user ?? env.mysql.user, password: password ?? env.mysql.password,
            database: database, connectionAttributes: attributes, tls: tls,
            timeouts: .init(connect: 10, read: 30, write: 30), multiStatements: multiStatements))
    }

    /// Connects libmariadb straight to the base (or shadow) server, to check what landed where.
    func direct(shadow: Bool = false, database: String? = "mse_demo") throws -> MariaDBConnection {
        try MariaDBConnection(configuration: env.mariaDB(shadow: shadow, database: database, multiStatements: true))
    }
}

/// Runs a Python script (PyMySQL) as a subprocess; returns its stdout, throws with stderr on failure.
enum MySQLPythonClient {
    struct Failed: Error, CustomStringConvertible { var description: String }

    static func run(_ script: String, environment: [String: String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failed(description: "python exited \(process.terminationStatus): \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: output, as: UTF8.self)
    }
}

/// Runs the `mariadb` command-line client against the proxy; returns its stdout, throws with stderr on failure.
enum MySQLCommandLineClient {
    static func run(port: Int, user: String, password: String, database: String = "mse_demo", sql: String, extra: [String] = []) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/mariadb")
        process.arguments = ["--no-defaults", "-h127.0.0.1", "-P\(port)", "-u\(user)", "-p\(password)", "-N", "-B", "-D", database] + extra + ["-e", sql]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw MySQLPythonClient.Failed(description: "mariadb exited \(process.terminationStatus): \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: output, as: UTF8.self)
    }
}

extension MySQLTestProxy {
    /// Runs `body` against a proxy in front of the real servers and stops the proxy afterwards, also on failure.
    static func with<T>(
        backend: Endpoint? = nil, tls: TLSFiles? = nil, ownLoops: Bool = false, _ body: (MySQLTestProxy) async throws -> T
    ) async throws -> T {
        let env = try TestEnvironment.load()
        let proxy = try await MySQLTestProxy.start(env: env, backend: backend, tls: tls, ownLoops: ownLoops)
        do {
            let result = try await body(proxy)
            await proxy.stop()
            return result
        } catch {
            await proxy.stop()
            throw error
        }
    }
}
