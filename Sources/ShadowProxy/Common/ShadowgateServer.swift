import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import ShadowConfig

/// The running proxy as one ServiceLifecycle service: admin endpoint, listeners and readiness probes.
/// On graceful shutdown (SIGTERM/SIGINT through the ServiceGroup) listeners stop accepting, in-flight statements
/// drain until `drainTimeout`, then the admin endpoint closes and `run()` returns.
public final class ShadowgateServer: Service, Sendable {
    public let routing: RoutingSource
    public let connections: ConnectionRegistry
    public let statistics: LaneStatistics
    public let listeners: [any ProxyListener]
    public let admin: AdminServer?
    private let readiness: ReadinessProbe
    private let group: any EventLoopGroup
    private let drainTimeout: TimeAmount
    private let logger: Logger

    public init(
        routing: RoutingSource, connections: ConnectionRegistry, statistics: LaneStatistics,
        listeners: [any ProxyListener], admin: AdminServer?, readiness: ReadinessProbe,
        group: any EventLoopGroup, drainTimeout: TimeAmount, logger: Logger
    ) {
        self.routing = routing
        self.connections = connections
        self.statistics = statistics
        self.listeners = listeners
        self.admin = admin
        self.readiness = readiness
        self.group = group
        self.drainTimeout = drainTimeout
        self.logger = logger
    }

    /// Binds everything; throws (and closes what was bound) if any listener cannot bind.
    public func start() async throws {
        do {
            try await admin?.start()
            for listener in listeners {
                try await listener.start()
                logger.info(
                    "listening",
                    metadata: ["listener": "\(listener.name)", "address": "\(listener.localAddress.map { "\($0)" } ?? "?")"])
            }
        } catch {
            await stop()
            throw error
        }
    }

    public func run() async throws {
        try await start()
        await withGracefulShutdownHandler {
            // Keep readiness fresh until shutdown.
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                await readiness.probe(routing.current, group: group)
                try? await Task.sleep(for: .seconds(2))
            }
        } onGracefulShutdown: {
            self.logger.info("graceful shutdown: no new connections; draining", metadata: ["drain_timeout": "\(self.drainTimeout)"])
        }
        await stop()
        logger.info("stopped")
    }

    /// Stops accepting, drains and closes every listener, then the admin endpoint.
    public func stop() async {
        let deadline = NIODeadline.now() + drainTimeout
        await withTaskGroup(of: Void.self) { group in
            for listener in listeners {
                group.addTask { await listener.shutdown(deadline: deadline) }
            }
        }
        await admin?.shutdown()
    }
}
