import ShadowConfig
import ShadowSQL

/// The human-readable effective routing printed by `check`: for every listener, where each lane goes and how
/// its names change, with the listener's case rule applied. Deterministic (sorted maps) so it can be diffed.
struct RoutingReport {
    let routing: RoutingTable

    func render(fileName: String) -> String {
        let configuration = routing.configuration
        let label = configuration.label
        var out = "\(fileName): OK (\(configuration.listeners.count) listener(s), \(configuration.lanes.count) lane(s))\n"
        out += "label: key=\(label.key) postgres_setting=\(label.postgresSetting) "
        out += "mysql_session_variable=\(label.mysqlSessionVariable) base_lane=\(label.baseLane)\n"
        if let admin = configuration.admin { out += "admin: \(admin.listen)\n" }
        if let log = configuration.replayLog { out += "replay_log: \(log.directory) (durability \(log.durability.rawValue))\n" }
        for listener in configuration.listeners {
            out += "\n" + renderListener(listener)
        }
        return out
    }

    private func renderListener(_ listener: ListenerConfiguration) -> String {
        var out = "listener \(listener.name) (\(listener.wireProtocol.rawValue)) \(listener.listen) -> \(listener.backend)\n"
        var options = ["tls \(listener.tls == nil ? "off" : "on")", "backend_tls \(listener.backendTLS ? "on" : "off")"]
        options.append("max_message_size \(listener.maxMessageSize)")
        options.append("handshake_timeout \(listener.handshakeTimeoutSeconds)s")
        options.append("connect_timeout \(listener.connectTimeoutSeconds)s")
        options.append("table names \(listener.caseSensitiveNames ? "case-sensitive" : "case-insensitive")")
        out += "  " + options.joined(separator: ", ") + "\n"
        out += "  lane \(routing.label.baseLane): backend \(listener.backend), names unchanged\n"
        for lane in routing.configuration.lanes {
            out += renderLane(lane, on: listener)
        }
        return out
    }

    private func renderLane(_ lane: LaneConfiguration, on listener: ListenerConfiguration) -> String {
        let mapping = routing.mapping(for: lane, listener: listener)
        let backend = routing.backend(for: listener, lane: lane)
        var out = "  lane \(lane.name): backend \(backend)\(backend == listener.backend ? "" : " (lane server)")\n"
        func line(_ key: String, _ value: String) { out += "    \(key): \(value)\n" }
        line("tables.map", Self.pairs(mapping.tables))
        line("tables.suffix", mapping.tableSuffix.map { "T -> T\($0)" } ?? "(none: tables outside the map are unmapped)")
        line("databases", Self.pairs(mapping.databases))
        line("default_database", mapping.defaultDatabase ?? "(none)")
        line("unmapped_writes", mapping.unmappedWrites.rawValue)
        line("unmapped_reads", mapping.unmappedReads.rawValue)
        line("shared_tables", Self.list(mapping.sharedTables))
        line("routines", Self.list(mapping.allowedRoutines))
        line("users", Self.list(lane.users))
        line("application_names", Self.list(lane.applicationNamePrefixes))
        return out
    }

    static func pairs(_ map: [String: String]) -> String {
        map.isEmpty ? "(none)" : map.sorted { $0.key < $1.key }.map { "\($0.key) -> \($0.value)" }.joined(separator: ", ")
    }

    static func list(_ items: some Collection<String>) -> String {
        items.isEmpty ? "(none)" : items.sorted().joined(separator: ", ")
    }
}
