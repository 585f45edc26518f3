import ShadowSQL
import Yams

extension ConfigurationDecoder {
    mutating func decodeLanes(_ node: Node, label: LabelConfiguration) {
        guard let entries = reader.mapping(node, path: "lanes", allowedKeys: nil) else { return }
        for entry in entries {
            let path = "lanes.\(entry.key)"
            guard let name = reader.name(entry.keyNode, path: path, what: "lane name") else { continue }
            guard name.count <= 64, name.allSatisfy({ Self.isWordCharacter($0) || $0 == "-" || $0 == "." }) else {
                reader.report(
                    .invalidValue, at: entry.keyNode, path: path, "'\(NodeReader.clip(name))' is not a valid lane name",
                    fix: "lane names travel in hints and baggage: use up to 64 letters, digits, '_', '-' or '.'"
                )
                continue
            }
            if name == label.baseLane {
                reader.report(
                    .laneNamedLikeBase, at: entry.keyNode, path: path,
                    "'\(name)' is the base lane's name; the base lane is production and has no mapping",
                    fix: "rename the lane, or change label.base_lane"
                )
                continue
            }
            if let source = decodeLane(name: name, nameNode: entry.keyNode, node: entry.value, path: path) {
                laneSources.append(source)
            }
        }
    }

    private mutating func decodeLane(name: String, nameNode: Node, node: Node, path: String) -> LaneSource? {
        guard let entries = reader.mapping(node, path: path, allowedKeys: ConfigurationKeys.lane) else { return nil }
        var source = LaneSource(lane: LaneConfiguration(name: name, mapping: LaneMapping(lane: name)), nameNode: nameNode)
        var mapping = LaneMapping(lane: name)
        for entry in entries {
            let keyPath = "\(path).\(entry.key)"
            switch entry.key {
            case "tables":
                decodeTables(entry.value, path: keyPath, into: &mapping, source: &source)
            case "databases":
                source.databaseEntries = reader.nameMap(entry.value, path: keyPath, what: "database name") ?? []
                mapping.databases = Dictionary(source.databaseEntries.map { ($0.key, $0.value) }) { first, _ in first }
            case "default_database":
                mapping.defaultDatabase = reader.name(entry.value, path: keyPath, what: "database name")
            case "backends":
                for backend in reader.mapping(entry.value, path: keyPath, allowedKeys: nil) ?? [] {
                    source.backendRefs.append((backend.key, backend.keyNode))
                    if let endpoint = reader.endpoint(backend.value, path: "\(keyPath).\(backend.key)") {
                        source.lane.backends[backend.key] = endpoint
                    }
                }
            case "users":
                source.userNodes = reader.nameList(entry.value, path: keyPath, what: "user name") ?? []
            case "application_names":
                source.applicationNameNodes = reader.nameList(entry.value, path: keyPath, what: "application_name prefix") ?? []
            case "unmapped_writes":
                mapping.unmappedWrites = reader.choice(entry.value, path: keyPath, among: [UnmappedTablePolicy.reject, .pass]) ?? .reject
            case "unmapped_reads":
                mapping.unmappedReads = reader.choice(entry.value, path: keyPath, among: [UnmappedTablePolicy.pass, .reject]) ?? .pass
            case "routines":
                mapping.allowedRoutines = Set((reader.nameList(entry.value, path: keyPath, what: "routine name") ?? []).map(\.0))
            case "credentials":
                source.lane.credentials = decodeCredentials(entry.value, path: keyPath)
            case "dual_write":
                decodeDualWrite(entry.value, lane: name, path: keyPath, keyNode: entry.keyNode)
            case "shared_tables":
                source.sharedTableNodes = reader.nameList(entry.value, path: keyPath, what: "table name") ?? []
                mapping.sharedTables = Set(source.sharedTableNodes.map(\.0))
            default:
                break
            }
        }
        source.lane.mapping = mapping
        source.lane.users = source.userNodes.map(\.0)
        source.lane.applicationNamePrefixes = source.applicationNameNodes.map(\.0)
        return source
    }

    private mutating func decodeTables(_ node: Node, path: String, into mapping: inout LaneMapping, source: inout LaneSource) {
        guard let entries = reader.mapping(node, path: path, allowedKeys: ConfigurationKeys.tables) else { return }
        for entry in entries {
            let keyPath = "\(path).\(entry.key)"
            switch entry.key {
            case "suffix":
                guard let suffix = reader.string(entry.value, path: keyPath) else { continue }
                source.suffixNode = entry.value
                if suffix.isEmpty {
                    reader.report(
                        .emptySuffix, at: entry.value, path: keyPath, "an empty suffix maps every table onto itself",
                        fix: "use a suffix such as _gray, or remove the key to rely on the explicit map"
                    )
                } else if suffix.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == " " || $0 == "." }) {
                    reader.report(.invalidValue, at: entry.value, path: keyPath, "a suffix may not contain spaces, dots or control characters")
                } else {
                    mapping.tableSuffix = suffix
                }
            case "map":
                source.tableEntries = reader.nameMap(entry.value, path: keyPath, what: "table name") ?? []
                mapping.tables = Dictionary(source.tableEntries.map { ($0.key, $0.value) }) { first, _ in first }
            default:
                break
            }
        }
    }
}
