import ShadowConfig
import ShadowSQL

/// Turns lane names from labels into lanes, with the error a client sees for a name that is not configured.
/// `nil` lane means base.
struct LaneResolver: Sendable {
    let routing: RoutingTable

    enum Resolution: Sendable {
        case base
        case lane(LaneConfiguration)
        case unknown(String)
    }

    func resolve(_ name: String) -> Resolution {
        if routing.isBase(name) { return .base }
        if let lane = routing.lane(named: name) { return .lane(lane) }
        return .unknown(name)
    }

    /// "unknown lane 'x'; configured lanes: base, gray, stress".
    func unknownLaneMessage(_ name: String, source: String) -> String {
        let names = [routing.label.baseLane] + routing.configuration.lanes.map(\.name)
        return "shadowgate: unknown lane '\(name)' in \(source); configured lanes: \(names.joined(separator: ", "))"
    }

    /// The connection's lane was removed by a configuration reload.
    func removedLaneMessage(_ name: String) -> String {
        let names = [routing.label.baseLane] + routing.configuration.lanes.map(\.name)
        return "shadowgate: lane '\(name)' is no longer configured (was it removed by a configuration reload?); configured lanes: \(names.joined(separator: ", ")); reconnect or switch lanes"
    }
}
