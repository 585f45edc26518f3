import Foundation
import Logging
import NIOCore
import Prometheus
import ShadowConfig

/// Everything a running proxy is made of, wired together from one configuration: the routing source, the live
/// connection registry, per-lane statistics, one listener per configured listener, the admin endpoint and the
/// server service that runs them. `serve`, the demo and the tests build the proxy through this one place.
public final class ProxyRuntime: Sendable {
    public let routing: RoutingSource
    public let connections: ConnectionRegistry
    public let statistics: LaneStatistics
    public let listeners: [any ProxyListener]
    public let admin: AdminServer?
    public let server: ShadowgateServer
    /// Replay-log writers and appliers; nil when no lane dual-writes. Run it before ``server`` in the service group
    /// so it shuts down after the listeners drained.
    public let dualWrite: DualWriteService?

    public init(
        configuration: ShadowgateConfiguration,
        registry: PrometheusCollectorRegistry,
        group: any EventLoopGroup,
        drainTimeout: TimeAmount,
        logger: Logger,
        version: String = ShadowgateVersion.current,
        configurationDirectory: String? = nil
    ) throws {
        let dualWrite =
            configuration.dualWrites.isEmpty
            ? nil : try DualWriteService(configuration: configuration, baseDirectory: configurationDirectory, logger: logger)
        let routing = RoutingSource(RoutingTable(configuration: configuration))
        let connections = ConnectionRegistry()
        let statistics = LaneStatistics()
        let readiness = ReadinessProbe()
        let context = ListenerContext(
            routing: routing, connections: connections, statistics: statistics, group: group, logger: logger,
            dualWrite: dualWrite)
        let listeners = try configuration.listeners.map { try ListenerFactory.make($0, context: context) }
        let admin = configuration.admin.map { adminConfiguration in
            AdminServer(
                listen: adminConfiguration.listen,
                router: AdminRouter(
                    version: version, routing: routing, connections: connections, statistics: statistics,
                    registry: registry, readiness: readiness, startedAt: Date().timeIntervalSince1970,
                    dualWrite: dualWrite),
                group: group, logger: logger)
        }
        self.dualWrite = dualWrite
        self.routing = routing
        self.connections = connections
        self.statistics = statistics
        self.listeners = listeners
        self.admin = admin
        self.server = ShadowgateServer(
            routing: routing, connections: connections, statistics: statistics, listeners: listeners, admin: admin,
            readiness: readiness, group: group, drainTimeout: drainTimeout, logger: logger)
    }

    /// The listener called `name`.
    public func listener(named name: String) -> (any ProxyListener)? {
        listeners.first { $0.name == name }
    }
}

/// The version reported by the admin endpoint.
public enum ShadowgateVersion {
    public static let current = "0.1.0"
}

/// What every listener shares with the rest of the process.
public struct ListenerContext: Sendable {
    public let routing: RoutingSource
    public let connections: ConnectionRegistry
    public let statistics: LaneStatistics
    public let group: any EventLoopGroup
    public let logger: Logger
    /// Where connections find their lane's dual-write stream; nil when nothing is mirrored.
    public let dualWrite: DualWriteService?

    public init(
        routing: RoutingSource, connections: ConnectionRegistry, statistics: LaneStatistics,
        group: any EventLoopGroup, logger: Logger, dualWrite: DualWriteService? = nil
    ) {
        self.dualWrite = dualWrite
        self.routing = routing
        self.connections = connections
        self.statistics = statistics
        self.group = group
        self.logger = logger
    }

    /// The event loops a listener's connections run on. A listener with a dual-write stream runs all of them on one
    /// loop: the replay log's order is the order the proxy handles the primary's acknowledgements, and on one loop
    /// that is the order they arrived (epoll reports ready sockets first come, first served), so a write that waited
    /// for another connection's lock is logged after it, as the primary committed them. Spread over several loops, a
    /// busy loop could handle the first acknowledgement after another loop logged the second, and the mirror would
    /// apply the two in the wrong order (found by `scripts/soak.sh --dual-write`; docs/dual-write.md, "Order").
    public func connectionGroup(for listener: ListenerConfiguration) -> any EventLoopGroup {
        guard let dualWrite, dualWrite.streams.contains(where: { $0.configuration.listener == listener.name }) else {
            return group
        }
        return group.next()
    }
}
