import ShadowSQL
import Yams

extension ConfigurationDecoder {
    mutating func decodeListeners(_ node: Node) {
        guard let items = reader.sequence(node, path: "listeners") else { return }
        if items.isEmpty {
            reader.report(
                .missingKey, at: node, path: "listeners", "at least one listener is required",
                fix: "add listeners: [{ name, protocol, listen, backend }]"
            )
        }
        for (index, item) in items.enumerated() {
            if let source = decodeListener(item, path: "listeners[\(index)]") { listenerSources.append(source) }
        }
    }

    private mutating func decodeListener(_ node: Node, path: String) -> ListenerSource? {
        guard let entries = reader.mapping(node, path: path, allowedKeys: ConfigurationKeys.listener) else { return nil }
        func entry(_ key: String) -> MappingEntry? { entries.first { $0.key == key } }
        var complete = true
        for required in ["name", "protocol", "listen", "backend"] where entry(required) == nil {
            reader.report(.missingKey, at: node, path: "\(path).\(required)", "missing key", fix: "every listener needs name, protocol, listen and backend")
            complete = false
        }
        let name = entry("name").flatMap { reader.name($0.value, path: "\(path).name", what: "listener name") }
        let wireProtocol = entry("protocol").flatMap { reader.choice($0.value, path: "\(path).protocol", as: WireProtocol.self) }
        let listen = entry("listen").flatMap { reader.endpoint($0.value, path: "\(path).listen") }
        let backend = entry("backend").flatMap { reader.endpoint($0.value, path: "\(path).backend") }

        var tls: TLSFiles?
        if let tlsEntry = entry("tls") { tls = decodeTLS(tlsEntry.value, path: "\(path).tls") }
        let backendTLS = entry("backend_tls").flatMap { reader.bool($0.value, path: "\(path).backend_tls") } ?? false
        let maxMessageSize = entry("max_message_size").flatMap {
            reader.byteSize($0.value, path: "\(path).max_message_size", range: 1024...(1 << 30))
        }
        let handshake = entry("handshake_timeout").flatMap { reader.duration($0.value, path: "\(path).handshake_timeout") }
        let connect = entry("connect_timeout").flatMap { reader.duration($0.value, path: "\(path).connect_timeout") }
        let caseSensitive = decodeNameCase(entries, path: path, wireProtocol: wireProtocol)
        let credentials = entry("credentials").flatMap { decodeCredentials($0.value, path: "\(path).credentials") }

        guard complete, let name, let wireProtocol, let listen, let backend, let nameEntry = entry("name"),
            let listenEntry = entry("listen")
        else { return nil }
        let listener = ListenerConfiguration(
            name: name,
            wireProtocol: wireProtocol,
            listen: listen,
            backend: backend,
            tls: tls,
            backendTLS: backendTLS,
            maxMessageSize: maxMessageSize ?? 64 << 20,
            handshakeTimeoutSeconds: handshake ?? 10,
            connectTimeoutSeconds: connect ?? 5,
            caseSensitiveNames: caseSensitive ?? true,
            credentials: credentials
        )
        return ListenerSource(listener: listener, nameNode: nameEntry.value, listenNode: listenEntry.value)
    }

    private mutating func decodeTLS(_ node: Node, path: String) -> TLSFiles? {
        guard let entries = reader.mapping(node, path: path, allowedKeys: ConfigurationKeys.tls) else { return nil }
        var paths: [String: String] = [:]
        for key in ConfigurationKeys.tls {
            guard let entry = entries.first(where: { $0.key == key }) else {
                reader.report(.missingKey, at: node, path: "\(path).\(key)", "missing key", fix: "TLS needs both cert and key (PEM files)")
                continue
            }
            if let file = reader.name(entry.value, path: "\(path).\(key)", what: "file path") {
                paths[key] = file
                tlsFiles.append((file, entry.value, "\(path).\(key)"))
            }
        }
        guard let cert = paths["cert"], let key = paths["key"] else { return nil }
        return TLSFiles(certificatePath: cert, privateKeyPath: key)
    }

    /// MySQL table-name case rules. `lower_case_table_names` mirrors the server variable of the same name
    /// (0: case-sensitive; 1 and 2: compared in lower case); `case_sensitive_names` says it directly.
    /// PostgreSQL folds unquoted names itself and compares exactly, so neither key applies there.
    private mutating func decodeNameCase(_ entries: [MappingEntry], path: String, wireProtocol: WireProtocol?) -> Bool? {
        let lower = entries.first { $0.key == "lower_case_table_names" }
        let sensitive = entries.first { $0.key == "case_sensitive_names" }
        if let lower, sensitive != nil {
            reader.report(
                .conflictingKeys, at: lower.keyNode, path: "\(path).lower_case_table_names",
                "both lower_case_table_names and case_sensitive_names are set", fix: "keep only one of them"
            )
            return nil
        }
        if wireProtocol == .postgres, let given = lower ?? sensitive {
            reader.report(
                .invalidValue, at: given.keyNode, path: "\(path).\(given.key)",
                "applies to mysql listeners only; PostgreSQL folds unquoted names and compares them exactly",
                fix: "remove it from this listener"
            )
            return nil
        }
        if let lower {
            return reader.integer(lower.value, path: "\(path).lower_case_table_names", range: 0...2).map { $0 == 0 }
        }
        if let sensitive {
            return reader.bool(sensitive.value, path: "\(path).case_sensitive_names")
        }
        return nil
    }
}
