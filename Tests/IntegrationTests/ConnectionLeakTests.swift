import DatabaseClients
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ShadowConfig
@testable import ShadowProxy
import Testing

/// Promise 5 (bounded memory per connection): after a client disconnects, nothing of its connection may stay
/// reachable. Each test opens real connections through an in-process proxy, keeps only weak references to the
/// per-connection handlers, and checks that they are all released and that every process-wide map is empty again.
@Suite("Per-connection objects are released after close")
struct ConnectionLeakTests {
    static let connections = 40

    @Test("PostgreSQL connect, SELECT 1, disconnect leaves no handler, registry entry or cancel key behind")
    func postgresConnectionsAreReleased() async throws {
        let env = try TestEnvironment.load()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let listenerConfiguration = ListenerConfiguration(
            name: "leak-pg", wireProtocol: .postgres, listen: Endpoint(host: "127.0.0.1", port: 0),
            backend: Endpoint(host: env.postgres.host, port: env.postgres.port))
        let table = RoutingTable(configuration: ShadowgateConfiguration(listeners: [listenerConfiguration], lanes: []))
        var logger = Logger(label: "test.leak-pg")
        logger.logLevel = .warning
        let context = ListenerContext(
            routing: RoutingSource(table), connections: ConnectionRegistry(), statistics: LaneStatistics(),
            group: group, logger: logger)
        let cancelKeys = PostgresCancelRegistry()
        let listener = PostgresListener(configuration: listenerConfiguration, context: context, cancelRegistry: cancelKeys)
        let handlers = WeakReferences()
        listener.acceptedChannelHook.withLockedValue {
            $0 = { channel in
                if let handler = try? channel.pipeline.syncOperations.handler(type: PostgresFrontendHandler.self) {
                    handlers.add(handler)
                }
            }
        }
        try await listener.start()
        let port = try #require(listener.localAddress?.port)

        for _ in 0..<Self.connections {
            let connection = try PostgresConnection(
                configuration: .init(
                    host: "127.0.0.1", port: port, user: env.postgres.user, password: env.postgres.password,
                    database: "mse_demo"))
            #expect(try connection.simpleQuery("SELECT 1").scalar == "1")
            connection.close()
        }

        let settled = await eventually { listener.connectionCount == 0 && context.connections.count == 0 && cancelKeys.count == 0 && handlers.alive == 0 }
        #expect(handlers.tracked == Self.connections)
        #expect(listener.connectionCount == 0, "listener connection table not emptied")
        #expect(context.connections.count == 0, "ConnectionRegistry entries left behind")
        #expect(cancelKeys.count == 0, "cancel keys left behind")
        #expect(handlers.alive == 0, "\(handlers.alive) of \(handlers.tracked) frontend handlers still alive after close")
        #expect(settled)
        await listener.shutdown(gracefulDeadline: .now() + .seconds(1))
        try await group.shutdownGracefully()
    }

    @Test("MySQL connect, SELECT 1, disconnect leaves no handler or connection-table entry behind")
    func mysqlConnectionsAreReleased() async throws {
        let env = try TestEnvironment.load()
        let proxy = try await MySQLTestProxy.start(env: env)
        let handlers = WeakReferences()
        proxy.listener.acceptedChannelHook.withLockedValue {
            $0 = { channel in
                if let handler = try? channel.pipeline.syncOperations.handler(type: MySQLFrontendHandler.self) {
                    handlers.add(handler)
                }
            }
        }

        for _ in 0..<Self.connections {
            let connection = try proxy.connect()
            #expect(try connection.query("SELECT 1").scalar == "1")
            connection.close()
        }

        let settled = await eventually { proxy.listener.connectionCount == 0 && handlers.alive == 0 }
        #expect(handlers.tracked == Self.connections)
        #expect(proxy.listener.connectionCount == 0, "listener connection table not emptied")
        #expect(handlers.alive == 0, "\(handlers.alive) of \(handlers.tracked) frontend handlers still alive after close")
        #expect(settled)
        await proxy.stop()
    }

    /// Polls `condition` for up to five seconds (closes finish on the event loops, after the client returns).
    private func eventually(_ condition: () -> Bool) async -> Bool {
        let deadline = NIODeadline.now() + .seconds(5)
        while NIODeadline.now() < deadline {
            if condition() { return true }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return condition()
    }
}

/// Weak references to per-connection objects, filled from event loops and read by the test.
private final class WeakReferences: @unchecked Sendable {
    private final class Box {
        weak var object: AnyObject?
        init(_ object: AnyObject) { self.object = object }
    }

    private let lock = NIOLock()
    private var boxes: [Box] = []

    func add(_ object: AnyObject) { lock.withLock { boxes.append(Box(object)) } }

    /// How many objects were registered.
    var tracked: Int { lock.withLock { boxes.count } }

    /// How many are still alive.
    var alive: Int { lock.withLock { boxes.filter { $0.object != nil }.count } }
}
