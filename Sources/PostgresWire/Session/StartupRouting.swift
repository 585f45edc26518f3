import NIOCore
import ShadowConfig
import ShadowSQL

/// Where a new connection goes, decided once from its StartupMessage: the connection's lane, the server, and the
/// StartupMessage to forward (lane option stripped if the server would reject it, database redirected, protocol
/// pinned to 3.0).
public struct StartupRouting: Sendable {
    /// The connection-level lane name (the base lane's name when unlabelled).
    public var laneName: String
    /// The lane's configuration; nil for base.
    public var lane: LaneConfiguration?
    /// The server this connection talks to.
    public var backend: Endpoint
    /// What to send the server.
    public var startup: StartupMessage
    /// The database the client asked for (`database`, else `user`), and the one sent to the server.
    public var requestedDatabase: String
    public var database: String
    /// `_pq_.` protocol options the client asked for that the proxy does not support (reported in
    /// NegotiateProtocolVersion), and whether it must be sent (minor version > 0 or such options).
    public var unsupportedProtocolOptions: [String]
    public var mustNegotiateProtocolVersion: Bool
    /// The `search_path` values the StartupMessage sets (a parameter and `options=-c search_path=…`; the server
    /// applies one of them); empty leaves the server's default.
    public var searchPaths: [String] = []

    /// Decides the routing, or returns the refusal to send before closing (unknown lane).
    public static func decide(
        startup: StartupMessage, listener: ListenerConfiguration, routing: RoutingTable
    ) -> Result<StartupRouting, Refusal> {
        let setting = routing.label.postgresSetting
        let settingLower = setting.lowercased()
        var parameters: [(name: String, value: String)] = []
        var unsupported: [String] = []
        var labelled: String?
        var options: StartupOptions?
        // The server uses the last copy of a repeated parameter, and the proxy routes by one copy: refuse rather
        // than route by a copy the server ignores (a lane's database redirect would miss the database used).
        var seen = Set<String>()
        for (name, _) in startup.parameters where !seen.insert(name.lowercased()).inserted {
            return .failure(PostgresRefusals.duplicateStartupParameter(name, lane: routing.label.baseLane))
        }
        for (name, value) in startup.parameters {
            if name.hasPrefix("_pq_.") {
                unsupported.append(name)
                continue
            }
            if name.lowercased() == settingLower {
                labelled = value
            }
            if name == "options" { options = StartupOptions(parsing: value) }
            parameters.append((name, value))
        }
        if let fromOptions = options?.value(of: setting) { labelled = fromOptions }
        // The lane setting given twice (as a parameter and in options, or twice in options): the server applies
        // them in an order of its own, so refuse unless every copy names the same lane.
        var copies = (options?.settings ?? []).filter { $0.name.lowercased() == settingLower }.map(\.value)
        copies += startup.parameters.filter { $0.name.lowercased() == settingLower }.map(\.value)
        if Set(copies).count > 1 {
            return .failure(PostgresRefusals.duplicateStartupParameter(setting, lane: routing.label.baseLane))
        }

        var laneName = routing.label.baseLane
        if let labelled {
            laneName = labelled
        } else if let app = startup.value(of: "application_name"), let lane = routing.lane(forApplicationName: app) {
            laneName = lane.name
        } else if let user = startup.value(of: "user"), let lane = routing.lane(forUser: user) {
            laneName = lane.name
        }
        let lane = routing.lane(named: laneName)
        if lane == nil && !routing.isBase(laneName) {
            return .failure(PostgresRefusals.unknownLane(laneName, routing: routing))
        }

        // Custom settings need a dot; a dotless name would make the server reject the connection.
        if !setting.contains(".") {
            parameters.removeAll { $0.name.lowercased() == settingLower }
            if let options, let index = parameters.firstIndex(where: { $0.name == "options" }) {
                parameters[index].value = options.removing(setting)
            }
        }
        let requested = startup.value(of: "database") ?? startup.value(of: "user") ?? ""
        var database = requested
        if let lane {
            if let target = lane.mapping.databases[requested] {
                database = target
                if let index = parameters.firstIndex(where: { $0.name == "database" }) {
                    parameters[index].value = target
                } else {
                    parameters.append(("database", target))
                }
            }
        }
        var decided = StartupRouting(
            laneName: laneName,
            lane: lane,
            backend: routing.backend(for: listener, lane: lane),
            startup: StartupMessage(protocolVersion: 0x0003_0000, parameters: parameters),
            requestedDatabase: requested,
            database: database,
            unsupportedProtocolOptions: unsupported,
            mustNegotiateProtocolVersion: startup.minorVersion > 0 || !unsupported.isEmpty
        )
        decided.searchPaths = [options?.value(of: "search_path"), startup.value(of: "search_path")].compactMap { $0 }
        return .success(decided)
    }
}
