import Yams

/// `replay_log`, `base_dual_write` and `lanes.<lane>.dual_write`, and the checks that tie them together.
extension ConfigurationDecoder {
    /// A decoded dual-write stream and the nodes later checks report against.
    struct DualWriteSource {
        var stream: DualWriteConfiguration
        var path: String
        var node: Node
        var listenerNode: Node?
        var durabilityNode: Node?
    }

    mutating func decodeReplayLog(_ node: Node) -> ReplayLogConfiguration? {
        guard let entries = reader.mapping(node, path: "replay_log", allowedKeys: ConfigurationKeys.replayLog) else {
            return nil
        }
        replayLogNode = node
        var directory: String?
        var configuration = ReplayLogConfiguration(directory: "")
        for entry in entries {
            let path = "replay_log.\(entry.key)"
            switch entry.key {
            case "dir": directory = reader.name(entry.value, path: path, what: "directory path")
            case "durability":
                replayLogDurabilityGiven = true
                configuration.durability =
                    reader.choice(entry.value, path: path, as: ReplayLogConfiguration.Durability.self) ?? configuration.durability
            case "segment_size":
                // Below 64 KiB a segment holds too few records to be worth a file; above 1 GiB recovery scans too long.
                configuration.segmentSize = reader.byteSize(entry.value, path: path, range: (64 << 10)...(1 << 30)) ?? configuration.segmentSize
            case "concurrent_syncs":
                // More than a few overlapping fdatasyncs only spend a throttled disk's budget faster (docs/benchmarks.md).
                configuration.concurrentSyncs =
                    reader.integer(entry.value, path: path, range: 1...8) ?? configuration.concurrentSyncs
            case "max_copy_bytes":
                // A record holds at most 64 MiB (the log's frame limit), statement text and framing included.
                configuration.maxCopyBytes =
                    reader.byteSize(entry.value, path: path, range: 1...(60 << 20)) ?? configuration.maxCopyBytes
            case "retention":
                decodeRetention(entry.value, path: path, into: &configuration.retention)
            default: break
            }
        }
        guard let directory else {
            if !entries.contains(where: { $0.key == "dir" }) {
                reader.report(.missingKey, at: node, path: "replay_log.dir", "missing key", fix: "add dir: ./var/replay")
            }
            return nil
        }
        configuration.directory = directory
        if configuration.retention.hardLimitBytes < configuration.retention.maximumBytes {
            reader.report(
                .invalidValue, at: node, path: "replay_log.retention.hard_limit",
                "hard_limit (\(configuration.retention.hardLimitBytes) bytes) is below max_bytes (\(configuration.retention.maximumBytes) bytes)",
                fix: "hard_limit is where unapplied records start being dropped; make it at least max_bytes")
        }
        return configuration
    }

    private mutating func decodeRetention(_ node: Node, path: String, into retention: inout ReplayLogConfiguration.Retention) {
        guard let entries = reader.mapping(node, path: path, allowedKeys: ConfigurationKeys.retention) else { return }
        for entry in entries {
            let keyPath = "\(path).\(entry.key)"
            switch entry.key {
            case "max_bytes": retention.maximumBytes = reader.byteSize(entry.value, path: keyPath, range: 1...Int.max) ?? retention.maximumBytes
            case "hard_limit": retention.hardLimitBytes = reader.byteSize(entry.value, path: keyPath, range: 1...Int.max) ?? retention.hardLimitBytes
            case "max_age": retention.maximumAgeSeconds = reader.duration(entry.value, path: keyPath) ?? retention.maximumAgeSeconds
            default: break
            }
        }
    }

    /// One `dual_write` section; `lane` is the lane whose writes it mirrors.
    mutating func decodeDualWrite(_ node: Node, lane: String, path: String, keyNode: Node) {
        guard let entries = reader.mapping(node, path: path, allowedKeys: ConfigurationKeys.dualWrite) else { return }
        var source = DualWriteSource(
            stream: DualWriteConfiguration(
                lane: lane, listener: "", mirror: MirrorConfiguration(backend: Endpoint(host: "", port: 0), database: "", user: "")),
            path: path, node: keyNode)
        var mirror: MirrorConfiguration?
        var complete = true
        for entry in entries {
            let keyPath = "\(path).\(entry.key)"
            switch entry.key {
            case "listener":
                source.listenerNode = entry.value
                source.stream.listener = reader.name(entry.value, path: keyPath, what: "listener name") ?? ""
            case "mirror":
                mirror = decodeMirror(entry.value, path: keyPath)
                if mirror == nil { complete = false }
            case "tables":
                let map = reader.nameMap(entry.value, path: keyPath, what: "table name") ?? []
                source.stream.tables = Dictionary(map.map { ($0.key, $0.value) }) { first, _ in first }
            case "columns":
                for table in reader.mapping(entry.value, path: keyPath, allowedKeys: nil) ?? [] {
                    let columns = reader.nameMap(table.value, path: "\(keyPath).\(table.key)", what: "column name") ?? []
                    guard !columns.isEmpty else { continue }
                    source.stream.columns[table.key] = Dictionary(columns.map { ($0.key, $0.value) }) { first, _ in first }
                }
            case "durability":
                source.durabilityNode = entry.value
                source.stream.durability =
                    reader.choice(entry.value, path: keyPath, as: DualWriteConfiguration.Durability.self) ?? source.stream.durability
            case "flush_interval":
                source.stream.flushIntervalSeconds = reader.duration(entry.value, path: keyPath) ?? source.stream.flushIntervalSeconds
            default: break
            }
        }
        if let mirror {
            source.stream.mirror = mirror
        } else if complete {
            reader.report(.missingKey, at: node, path: "\(path).mirror", "missing key", fix: "add mirror: { backend, database, credentials }")
            complete = false
        }
        if complete { dualWriteSources.append(source) }
    }

    private mutating func decodeMirror(_ node: Node, path: String) -> MirrorConfiguration? {
        guard let entries = reader.mapping(node, path: path, allowedKeys: ConfigurationKeys.mirror) else { return nil }
        func entry(_ key: String) -> MappingEntry? { entries.first { $0.key == key } }
        var complete = true
        for required in ["backend", "database", "credentials"] where entry(required) == nil {
            reader.report(.missingKey, at: node, path: "\(path).\(required)", "missing key", fix: "a mirror needs backend, database and credentials")
            complete = false
        }
        let backend = entry("backend").flatMap { reader.endpoint($0.value, path: "\(path).backend") }
        let database = entry("database").flatMap { reader.name($0.value, path: "\(path).database", what: "database name") }
        let login = entry("credentials").flatMap {
            decodeLogin($0.value, path: "\(path).credentials", allowedKeys: ConfigurationKeys.mirrorCredentials)
        }
        guard complete, let backend, let database, let login else { return nil }
        return MirrorConfiguration(backend: backend, database: database, user: login.user, password: login.password)
    }

    /// Resolves each stream's listener and the log's durability once every section is read.
    mutating func resolveDualWrites(_ configuration: inout ShadowgateConfiguration) {
        guard !dualWriteSources.isEmpty else { return }
        let listeners = listenerSources.map(\.listener.name)
        var seen: [String: String] = [:]
        var kept: [DualWriteSource] = []
        for var source in dualWriteSources {
            let path = source.path
            if source.stream.listener.isEmpty {
                guard listeners.count == 1 else {
                    if source.listenerNode == nil {
                        reader.report(
                            .missingKey, at: source.node, path: "\(path).listener",
                            "a mirror speaks one protocol, so a configuration with several listeners must say whose writes it mirrors",
                            fix: "add listener: one of \(listeners.joined(separator: ", "))")
                    }
                    continue
                }
                source.stream.listener = listeners[0]
            } else if !listeners.contains(source.stream.listener) {
                let hint = DidYouMean.closest(to: source.stream.listener, among: listeners).map { "; did you mean '\($0)'?" } ?? ""
                reader.report(
                    .unknownListener, at: source.listenerNode, path: "\(path).listener",
                    "no listener is named '\(source.stream.listener)'\(hint)", fix: "use one of: \(listeners.joined(separator: ", "))")
                continue
            }
            let key = "\(source.stream.lane)@\(source.stream.listener)"
            if let other = seen[key] {
                reader.report(
                    .conflictingKeys, at: source.node, path: path,
                    "lane '\(source.stream.lane)' on listener '\(source.stream.listener)' already dual-writes (\(other))",
                    fix: "one mirror per lane and listener")
                continue
            }
            seen[key] = path
            kept.append(source)
        }
        dualWriteSources = kept
        configuration.dualWrites = kept.map(\.stream)

        guard var log = configuration.replayLog else {
            reader.report(
                .missingKey, at: dualWriteSources.first?.node, path: "replay_log",
                "dual-write needs a replay log", fix: "add replay_log: { dir: ./var/replay }")
            return
        }
        let anySync = kept.contains { $0.stream.durability == .sync }
        if !replayLogDurabilityGiven {
            log.durability = anySync ? .sync : .async
        } else if log.durability == .async, let sync = kept.first(where: { $0.stream.durability == .sync }) {
            reader.report(
                .conflictingKeys, at: sync.durabilityNode ?? sync.node, path: "\(sync.path).durability",
                "a sync dual-write needs a replay log that fsyncs before acknowledging, but replay_log.durability is async",
                fix: "set replay_log.durability: sync, or make this dual-write async")
        }
        configuration.replayLog = log
    }
}
