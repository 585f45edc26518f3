import ShadowConfig
import ShadowSQL

/// What a data-tool run works on, resolved from the configuration: the listener (base server), the lane, the
/// logins for each side, and where the lane's shadows live.
public struct DataToolTarget: Sendable {
    public var listener: ListenerConfiguration
    public var lane: LaneConfiguration
    public var baseCredentials: DatabaseCredentials
    public var shadowEndpoint: Endpoint
    public var shadowCredentials: DatabaseCredentials
    public var naming: ShadowNaming
    /// The server the base side is read from: the listener's backend, or for a lane's dual-write stream the server
    /// the lane's statements ran on.
    public var baseEndpoint: Endpoint
    /// Set when the run compares a dual-write stream's primary tables with its mirror instead of base with shadow.
    public var mirror: MirrorPairing?

    public var dialect: SQLDialect { listener.dialect }

    /// Whether the shadows live in the same session's reach as base (same server, and for PostgreSQL the same
    /// database), so DDL can say `LIKE base`.
    public var sameServer: Bool {
        shadowEndpoint == listener.backend && (dialect == .mysql || shadowCredentials.database == baseCredentials.database)
    }

    public static func resolve(configuration: ShadowgateConfiguration, lane laneName: String, listener listenerName: String?)
        throws -> DataToolTarget
    {
        guard let lane = configuration.lanes.first(where: { $0.name == laneName }) else {
            throw DataToolError.unknownLane(laneName, known: configuration.lanes.map(\.name))
        }
        let listener = try chooseListener(configuration: configuration, named: listenerName)
        guard let baseCredentials = listener.credentials ?? lane.credentials else {
            throw DataToolError.missingCredentials(listener: listener.name)
        }
        let ownBackend = lane.backends[listener.name]
        var mapping = lane.mapping
        mapping.caseSensitiveNames = listener.caseSensitiveNames
        return DataToolTarget(
            listener: listener, lane: lane, baseCredentials: baseCredentials,
            shadowEndpoint: ownBackend ?? listener.backend, shadowCredentials: lane.credentials ?? baseCredentials,
            naming: ShadowNaming(mapping: mapping, hasOwnBackend: ownBackend != nil), baseEndpoint: listener.backend,
            mirror: nil
        )
    }

    /// The listener named on the command line, or the only one.
    static func chooseListener(configuration: ShadowgateConfiguration, named listenerName: String?) throws
        -> ListenerConfiguration
    {
        let listener: ListenerConfiguration
        if let listenerName {
            guard let found = configuration.listeners.first(where: { $0.name == listenerName }) else {
                throw DataToolError.listenerChoice(
                    "unknown listener '\(listenerName)'; the configuration defines: "
                        + configuration.listeners.map(\.name).joined(separator: ", ")
                )
            }
            listener = found
        } else if configuration.listeners.count == 1 {
            listener = configuration.listeners[0]
        } else {
            throw DataToolError.listenerChoice(
                "the configuration has \(configuration.listeners.count) listeners; choose one with --listener ("
                    + configuration.listeners.map(\.name).joined(separator: ", ") + ")"
            )
        }
        return listener
    }

    public func connectBase() throws -> any DiffConnection {
        try ServerConnector.connect(
            dialect: dialect, endpoint: baseEndpoint, credentials: baseCredentials, useTLS: listener.backendTLS
        )
    }

    public func connectShadow() throws -> any DiffConnection {
        try ServerConnector.connect(
            dialect: dialect, endpoint: shadowEndpoint, credentials: shadowCredentials,
            // The applier reaches a mirror without TLS; the diff logs in the same way.
            useTLS: mirror == nil && listener.backendTLS
        )
    }

    /// The tables a run covers, with their shadows.
    public func pairs(requested: [String], base: any DiffConnection) throws -> [TablePair] {
        let reader = SchemaReader(connection: base)
        let schema = try (dialect == .mysql ? baseCredentials.database : reader.currentSchema() ?? "public")
        let all = requested.isEmpty ? try reader.tables(in: schema) : []
        if let mirror {
            return try mirror.pairs(naming: naming, requested: requested, baseSchema: schema, baseTables: all)
        }
        return try TableSelection.pairs(naming: naming, requested: requested, baseSchema: schema, laneName: lane.name, baseTables: all)
    }
}
