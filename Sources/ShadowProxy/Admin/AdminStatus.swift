import ShadowConfig

/// Everything the admin endpoint shows, gathered at request time.
public struct AdminStatus: Sendable, Codable {
    /// One lane's mapping and counters.
    public struct Lane: Sendable, Codable {
        public var name: String
        public var suffix: String?
        public var tables: [String: String]
        public var databases: [String: String]
        public var backends: [String: String]
        public var users: [String]
        public var unmappedWrites: String
        public var unmappedReads: String
        public var statistics: LaneStatistics.Lane
    }

    /// One listener and its base server.
    public struct Listener: Sendable, Codable {
        public var name: String
        public var wireProtocol: String
        public var listen: String
        public var backend: String
        public var tls: Bool
        public var connections: Int
    }

    public var version: String
    public var configurationGeneration: Int
    public var startedAt: Double
    public var lanes: [Lane]
    public var baseLane: Lane
    public var listeners: [Listener]
    public var connections: [ConnectionSnapshot]
    /// Dual-write streams: replay-log position, lag and applier state.
    public var dualWrite: [DualWriteStatus] = []

    /// Builds the status from the live objects.
    public static func gather(
        version: String,
        routing: RoutingSource,
        connections: ConnectionRegistry,
        statistics: LaneStatistics,
        startedAt: Double,
        dualWrite: [DualWriteStatus] = []
    ) -> AdminStatus {
        let table = routing.current
        let stats = statistics.snapshot
        let live = connections.snapshot
        let config = table.configuration
        let lanes = config.lanes.map { lane in
            Lane(
                name: lane.name,
                suffix: lane.mapping.tableSuffix,
                tables: lane.mapping.tables,
                databases: lane.mapping.databases,
                backends: lane.backends.mapValues { $0.description },
                users: lane.users,
                unmappedWrites: lane.mapping.unmappedWrites.rawValue,
                unmappedReads: lane.mapping.unmappedReads.rawValue,
                statistics: stats[lane.name] ?? LaneStatistics.Lane()
            )
        }
        let base = Lane(
            name: config.label.baseLane, suffix: nil, tables: [:], databases: [:], backends: [:], users: [],
            unmappedWrites: "pass", unmappedReads: "pass",
            statistics: stats[config.label.baseLane] ?? LaneStatistics.Lane()
        )
        let listeners = config.listeners.map { listener in
            Listener(
                name: listener.name,
                wireProtocol: listener.wireProtocol.rawValue,
                listen: listener.listen.description,
                backend: listener.backend.description,
                tls: listener.tls != nil,
                connections: live.filter { $0.listener == listener.name }.count
            )
        }
        return AdminStatus(
            version: version, configurationGeneration: routing.generation, startedAt: startedAt, lanes: lanes,
            baseLane: base, listeners: listeners, connections: live, dualWrite: dualWrite
        )
    }
}
