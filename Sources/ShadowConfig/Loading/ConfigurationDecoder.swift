import ShadowSQL
import Yams

/// Turns a composed YAML document into a ``ShadowgateConfiguration``, collecting every problem on the way.
/// Keeps the nodes that cross-checks need (names, ports, references) so that later errors still point at a line.
struct ConfigurationDecoder {
    /// A decoded listener and the nodes that validation reports against.
    struct ListenerSource {
        var listener: ListenerConfiguration
        var nameNode: Node
        var listenNode: Node
    }

    /// A decoded lane and the nodes that validation reports against.
    struct LaneSource {
        var lane: LaneConfiguration
        var nameNode: Node
        var suffixNode: Node?
        var tableEntries: [(key: String, keyNode: Node, value: String, valueNode: Node)] = []
        var databaseEntries: [(key: String, keyNode: Node, value: String, valueNode: Node)] = []
        var backendRefs: [(listener: String, keyNode: Node)] = []
        var userNodes: [(String, Node)] = []
        var applicationNameNodes: [(String, Node)] = []
        var sharedTableNodes: [(String, Node)] = []
    }

    var reader: NodeReader
    /// Folder against which relative file paths (TLS) are resolved; nil means the current directory.
    let baseDirectory: String?
    var listenerSources: [ListenerSource] = []
    var laneSources: [LaneSource] = []
    var adminListenNode: Node?
    var tlsFiles: [(path: String, node: Node, key: String)] = []
    var dualWriteSources: [DualWriteSource] = []
    var replayLogNode: Node?
    var replayLogDurabilityGiven = false

    init(fileName: String, baseDirectory: String?) {
        self.reader = NodeReader(fileName: fileName)
        self.baseDirectory = baseDirectory
    }

    mutating func decode(_ root: Node) -> ShadowgateConfiguration {
        var configuration = ShadowgateConfiguration()
        guard let entries = reader.mapping(root, path: "", allowedKeys: ConfigurationKeys.root) else {
            return configuration
        }
        // The label comes first whatever the order in the file: lane validation needs the base lane's name.
        if let label = entries.first(where: { $0.key == "label" }) {
            configuration.label = decodeLabel(label.value)
        }
        for entry in entries {
            switch entry.key {
            case "listeners": decodeListeners(entry.value)
            case "lanes": decodeLanes(entry.value, label: configuration.label)
            case "admin": configuration.admin = decodeAdmin(entry.value)
            case "replay_log": configuration.replayLog = decodeReplayLog(entry.value)
            case "base_dual_write":
                decodeDualWrite(entry.value, lane: configuration.label.baseLane, path: "base_dual_write", keyNode: entry.keyNode)
            default: break
            }
        }
        if !entries.contains(where: { $0.key == "listeners" }) {
            reader.report(
                .missingKey, at: root, path: "listeners", "at least one listener is required",
                fix: "add listeners: [{ name, protocol, listen, backend }]"
            )
        }
        configuration.listeners = listenerSources.map(\.listener)
        configuration.lanes = laneSources.map(\.lane)
        resolveDualWrites(&configuration)
        return configuration
    }

    // MARK: Sections

    private mutating func decodeLabel(_ node: Node) -> LabelConfiguration {
        guard let entries = reader.mapping(node, path: "label", allowedKeys: ConfigurationKeys.label) else {
            return LabelConfiguration()
        }
        var values: [String: String] = [:]
        for entry in entries {
            let path = "label.\(entry.key)"
            guard let text = reader.name(entry.value, path: path, what: "name") else { continue }
            let valid: Bool
            switch entry.key {
            case "postgres_setting":
                // PostgreSQL accepts custom settings only when qualified with a dot (`shadow.lane`).
                let parts = text.split(separator: ".", omittingEmptySubsequences: false)
                valid = parts.count >= 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(Self.isWordCharacter) }
            default:
                valid = text.allSatisfy { Self.isWordCharacter($0) || $0 == "-" || $0 == "." }
            }
            if valid {
                values[entry.key] = text
            } else {
                let fix =
                    entry.key == "postgres_setting"
                    ? "PostgreSQL needs a dotted custom setting name such as shadow.lane"
                    : "use letters, digits, '_', '-' and '.' only"
                reader.report(.invalidValue, at: entry.value, path: path, "'\(NodeReader.clip(text))' is not a valid name", fix: fix)
            }
        }
        return LabelConfiguration(
            key: values["key"] ?? "lane",
            postgresSetting: values["postgres_setting"],
            mysqlSessionVariable: values["mysql_session_variable"],
            baseLane: values["base_lane"] ?? "base"
        )
    }

    private mutating func decodeAdmin(_ node: Node) -> AdminConfiguration? {
        guard let entries = reader.mapping(node, path: "admin", allowedKeys: ConfigurationKeys.admin) else { return nil }
        guard let listen = entries.first(where: { $0.key == "listen" }) else {
            reader.report(.missingKey, at: node, path: "admin.listen", "missing key", fix: "add listen: 127.0.0.1:9901")
            return nil
        }
        adminListenNode = listen.value
        return reader.endpoint(listen.value, path: "admin.listen").map(AdminConfiguration.init(listen:))
    }

    static func isWordCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "_")
    }
}
