import ShadowSQL

/// The immutable runtime form of a configuration: lane lookups by name, user and application name.
/// Passed explicitly to every session; a reload swaps in a new table, sessions keep the one they started with
/// for their lane decision.
public struct RoutingTable: Sendable {
    public let configuration: ShadowgateConfiguration
    private let lanesByName: [String: LaneConfiguration]
    private let laneByUser: [String: String]

    public init(configuration: ShadowgateConfiguration) {
        self.configuration = configuration
        var byName: [String: LaneConfiguration] = [:]
        var byUser: [String: String] = [:]
        for lane in configuration.lanes {
            byName[lane.name] = lane
            for user in lane.users { byUser[user] = lane.name }
        }
        self.lanesByName = byName
        self.laneByUser = byUser
    }

    /// The label settings.
    public var label: LabelConfiguration { configuration.label }

    /// Whether `name` is the base lane.
    public func isBase(_ name: String) -> Bool { name == configuration.label.baseLane }

    /// The lane called `name`, or nil for base and unknown lanes.
    public func lane(named name: String) -> LaneConfiguration? { lanesByName[name] }

    /// The lane a login user is always in, if any.
    public func lane(forUser user: String) -> LaneConfiguration? {
        laneByUser[user].flatMap { lanesByName[$0] }
    }

    /// The lane whose application_name prefix matches, if any (first in file order).
    public func lane(forApplicationName applicationName: String) -> LaneConfiguration? {
        configuration.lanes.first { lane in lane.applicationNamePrefixes.contains { applicationName.hasPrefix($0) } }
    }

    /// The listener called `name`.
    public func listener(named name: String) -> ListenerConfiguration? {
        configuration.listeners.first { $0.name == name }
    }

    /// The server a connection in `lane` on `listener` talks to: the lane's own backend, or the listener's base.
    public func backend(for listener: ListenerConfiguration, lane: LaneConfiguration?) -> Endpoint {
        lane?.backends[listener.name] ?? listener.backend
    }

    /// The mapping a lane uses on `listener`, with that server's table-name case rule applied.
    public func mapping(for lane: LaneConfiguration, listener: ListenerConfiguration) -> LaneMapping {
        var mapping = lane.mapping
        mapping.caseSensitiveNames = listener.caseSensitiveNames
        return mapping
    }

    /// The mapping a lane uses for `dialect` when no particular listener is in view (the `rewrite` command).
    /// PostgreSQL compares folded names exactly. For MySQL the listeners' rule is used when they agree; when they
    /// disagree, or there is no MySQL listener, names compare case-sensitively (MySQL's default on Linux).
    public func mapping(for lane: LaneConfiguration, dialect: SQLDialect) -> LaneMapping {
        var mapping = lane.mapping
        switch dialect {
        case .postgres:
            mapping.caseSensitiveNames = true
        case .mysql:
            let rules = Set(configuration.listeners.filter { $0.wireProtocol == .mysql }.map(\.caseSensitiveNames))
            mapping.caseSensitiveNames = rules.count == 1 ? rules.first ?? true : true
        }
        return mapping
    }
}
