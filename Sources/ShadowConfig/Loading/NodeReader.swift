import Yams

/// One `key: value` pair of a YAML mapping, with the key already read as text.
struct MappingEntry {
    var key: String
    var keyNode: Node
    var value: Node
}

/// Reads typed values out of composed YAML nodes and collects a ``ConfigError`` for everything that is wrong
/// instead of stopping at the first problem. Every reader returns nil after reporting, so callers simply skip the
/// value and carry on.
struct NodeReader {
    let fileName: String
    private(set) var errors: [ConfigError] = []

    init(fileName: String) {
        self.fileName = fileName
    }

    // MARK: Reporting

    func location(of node: Node?) -> SourceLocation? {
        guard let mark = node?.mark else { return nil }
        return SourceLocation(file: fileName, line: mark.line, column: mark.column)
    }

    mutating func report(_ code: ConfigError.Code, at node: Node?, path: String, _ message: String, fix: String? = nil) {
        errors.append(ConfigError(code: code, location: location(of: node), path: path, message: message, fix: fix))
    }

    mutating func append(_ error: ConfigError) {
        errors.append(error)
    }

    // MARK: Shapes

    /// A short description of what a node is, for "expected X, found Y" messages.
    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a map"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            if isNull(scalar) { return "nothing" }
            return "'\(clip(scalar.string))'"
        }
    }

    static func clip(_ text: String) -> String {
        text.count > 40 ? String(text.prefix(40)) + "…" : text
    }

    static func isNull(_ scalar: Node.Scalar) -> Bool {
        scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// The entries of a mapping whose keys are all text; reports keys outside `allowedKeys` (unless nil) with a
    /// suggestion when one is close.
    mutating func mapping(_ node: Node, path: String, allowedKeys: [String]?) -> [MappingEntry]? {
        guard case .mapping(let mapping) = node else {
            if case .scalar(let scalar) = node, Self.isNull(scalar) { return [] }
            report(.wrongType, at: node, path: path, "expected a map, found \(Self.describe(node))")
            return nil
        }
        var entries: [MappingEntry] = []
        for (keyNode, value) in mapping {
            let childPath = { (key: String) in path.isEmpty ? key : "\(path).\(key)" }
            guard case .scalar(let scalar) = keyNode, !Self.isNull(scalar) else {
                report(.wrongType, at: keyNode, path: path, "expected a text key, found \(Self.describe(keyNode))")
                continue
            }
            let key = scalar.string
            if let allowedKeys, !allowedKeys.contains(key) {
                let hint = DidYouMean.closest(to: key, among: allowedKeys)
                let suggestion = hint.map { "; did you mean '\($0)'?" } ?? ""
                report(
                    .unknownKey, at: keyNode, path: childPath(key), "unknown key\(suggestion)",
                    fix: "use one of: \(allowedKeys.joined(separator: ", "))"
                )
                continue
            }
            entries.append(MappingEntry(key: key, keyNode: keyNode, value: value))
        }
        return entries
    }

    mutating func sequence(_ node: Node, path: String) -> [Node]? {
        switch node {
        case .sequence(let sequence): return Array(sequence)
        case .scalar(let scalar) where Self.isNull(scalar): return []
        default:
            report(.wrongType, at: node, path: path, "expected a list, found \(Self.describe(node))")
            return nil
        }
    }

    // MARK: Scalars

    mutating func string(_ node: Node, path: String) -> String? {
        guard case .scalar(let scalar) = node, !Self.isNull(scalar) else {
            report(.wrongType, at: node, path: path, "expected text, found \(Self.describe(node))")
            return nil
        }
        return scalar.string
    }

    /// Text used as an SQL identifier or lane name: not empty, no control characters, no spaces around it.
    mutating func name(_ node: Node, path: String, what: String) -> String? {
        guard let text = string(node, path: path) else { return nil }
        if text.isEmpty || text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
            || text.trimmingSpaces != text
        {
            report(.invalidValue, at: node, path: path, "expected a \(what), found '\(Self.clip(text))'")
            return nil
        }
        return text
    }

    mutating func bool(_ node: Node, path: String) -> Bool? {
        if case .scalar(let scalar) = node {
            switch scalar.string.lowercased() {
            case "true": return true
            case "false": return false
            default: break
            }
        }
        report(.wrongType, at: node, path: path, "expected true or false, found \(Self.describe(node))")
        return nil
    }

    mutating func integer(_ node: Node, path: String, range: ClosedRange<Int>) -> Int? {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string) else {
            report(.wrongType, at: node, path: path, "expected a whole number, found \(Self.describe(node))")
            return nil
        }
        guard range.contains(value) else {
            report(.invalidValue, at: node, path: path, "expected \(range.lowerBound)...\(range.upperBound), found \(value)")
            return nil
        }
        return value
    }

    /// One of a closed set, spelled exactly as the raw values.
    mutating func choice<T: RawRepresentable & CaseIterable>(_ node: Node, path: String, as type: T.Type) -> T?
    where T.RawValue == String {
        choice(node, path: path, among: Array(T.allCases))
    }

    /// One of `cases`, spelled exactly as their raw values; the message lists them in this order.
    mutating func choice<T: RawRepresentable>(_ node: Node, path: String, among cases: [T]) -> T? where T.RawValue == String {
        let options = cases.map(\.rawValue).joined(separator: ", ")
        guard case .scalar(let scalar) = node, !Self.isNull(scalar) else {
            report(.wrongType, at: node, path: path, "expected one of \(options), found \(Self.describe(node))")
            return nil
        }
        guard let value = T(rawValue: scalar.string) else {
            report(.invalidValue, at: node, path: path, "expected one of \(options), found '\(Self.clip(scalar.string))'")
            return nil
        }
        return value
    }

    mutating func endpoint(_ node: Node, path: String) -> Endpoint? {
        guard let text = string(node, path: path) else { return nil }
        guard let endpoint = Endpoint(parsing: text), endpoint.port > 0 else {
            report(
                .badEndpoint, at: node, path: path, "expected host:port, found '\(Self.clip(text))'",
                fix: "write it like 127.0.0.1:3307 or [::1]:5432, with a port from 1 to 65535"
            )
            return nil
        }
        return endpoint
    }

    /// A duration with a unit (`10s`, `500ms`, `2m`, `1h`, `1.5s`), in seconds.
    mutating func duration(_ node: Node, path: String) -> Double? {
        guard let text = string(node, path: path) else { return nil }
        guard let seconds = ValueParsers.seconds(text), seconds > 0 else {
            report(
                .invalidValue, at: node, path: path, "expected a positive duration like 10s or 500ms, found '\(Self.clip(text))'",
                fix: "add a unit: ms, s, m or h"
            )
            return nil
        }
        return seconds
    }

    /// A size in bytes: a whole number or `512KiB`, `64MiB`, `1GiB`.
    mutating func byteSize(_ node: Node, path: String, range: ClosedRange<Int>) -> Int? {
        guard let text = string(node, path: path) else { return nil }
        guard let bytes = ValueParsers.bytes(text) else {
            report(
                .invalidValue, at: node, path: path, "expected a size like 65536 or 64MiB, found '\(Self.clip(text))'",
                fix: "use a number of bytes or a unit: B, KiB, MiB, GiB"
            )
            return nil
        }
        guard range.contains(bytes) else {
            report(.invalidValue, at: node, path: path, "expected \(range.lowerBound)...\(range.upperBound) bytes, found \(bytes)")
            return nil
        }
        return bytes
    }

    /// A list of names; also accepts a single name for convenience.
    mutating func nameList(_ node: Node, path: String, what: String) -> [(String, Node)]? {
        if case .scalar(let scalar) = node, !Self.isNull(scalar) {
            return name(node, path: path, what: what).map { [($0, node)] }
        }
        guard let items = sequence(node, path: path) else { return nil }
        var names: [(String, Node)] = []
        for (index, item) in items.enumerated() {
            if let value = name(item, path: "\(path)[\(index)]", what: what) { names.append((value, item)) }
        }
        return names
    }

    /// A map of names to names (table and database maps).
    mutating func nameMap(_ node: Node, path: String, what: String) -> [(key: String, keyNode: Node, value: String, valueNode: Node)]? {
        guard let entries = mapping(node, path: path, allowedKeys: nil) else { return nil }
        var result: [(key: String, keyNode: Node, value: String, valueNode: Node)] = []
        for entry in entries {
            let childPath = "\(path).\(entry.key)"
            guard name(entry.keyNode, path: childPath, what: what) != nil,
                let value = name(entry.value, path: childPath, what: what)
            else { continue }
            result.append((entry.key, entry.keyNode, value, entry.value))
        }
        return result
    }
}

extension String {
    var trimmingSpaces: Substring {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
