import ShadowSQL
import Yams

/// Shadow-name safety: a shadow name must differ from every base name the lane knows, and must fit the
/// server's identifier limit (PostgreSQL silently truncates longer names, which could collide with a base table).
extension ConfigurationDecoder {
    /// The dialects the lanes will be used with: those of the listeners, or both when there are none yet.
    private var dialectsInUse: Set<SQLDialect> {
        let dialects = Set(listenerSources.map(\.listener.dialect))
        return dialects.isEmpty ? Set(SQLDialect.allCases) : dialects
    }

    /// Whether some MySQL listener compares table names without regard to case.
    private var anyCaseInsensitive: Bool {
        listenerSources.contains { $0.listener.wireProtocol == .mysql && !$0.listener.caseSensitiveNames }
    }

    private func sameName(_ a: String, _ b: String) -> Bool {
        anyCaseInsensitive ? a.lowercased() == b.lowercased() : a == b
    }

    /// Every base table name known anywhere in the file (explicit map keys and shared tables of all lanes).
    private var knownBaseTables: Set<String> {
        var names = Set<String>()
        for source in laneSources {
            names.formUnion(source.tableEntries.map(\.key))
        }
        return names
    }

    mutating func validateNames(of source: LaneSource) {
        let lane = source.lane.name
        let baseKeys = source.tableEntries.map(\.key) + source.sharedTableNodes.map(\.0)
        for entry in source.tableEntries {
            let path = "lanes.\(lane).tables.map.\(entry.key)"
            if sameName(entry.key, entry.value) {
                reportSameName(entry.value, node: entry.valueNode, path: path, lane: lane)
            } else if let base = baseKeys.first(where: { sameName($0, entry.value) }) {
                reader.report(
                    .shadowEqualsBase, at: entry.valueNode, path: path,
                    "shadow table '\(entry.value)' is also listed as base table '\(base)' in this lane",
                    fix: "map to a table that production never uses"
                )
            }
            checkLength(entry.value, node: entry.valueNode, path: path, what: "shadow table")
        }
        for (shared, node) in source.sharedTableNodes where source.tableEntries.contains(where: { sameName($0.key, shared) }) {
            reader.report(
                .conflictingKeys, at: node, path: "lanes.\(lane).shared_tables",
                "'\(shared)' is both shared with base and mapped in tables.map", fix: "keep it in one of the two"
            )
        }
        for entry in source.databaseEntries {
            let path = "lanes.\(lane).databases.\(entry.key)"
            if sameName(entry.key, entry.value) {
                reportSameName(entry.value, node: entry.valueNode, path: path, lane: lane)
            }
            checkLength(entry.value, node: entry.valueNode, path: path, what: "shadow database")
        }
        if let suffix = source.lane.mapping.tableSuffix, let suffixNode = source.suffixNode {
            let explicit = Set(source.tableEntries.map(\.key))
            let shared = Set(source.sharedTableNodes.map(\.0))
            for table in knownBaseTables.sorted() where !explicit.contains(table) && !shared.contains(table) {
                checkLength(table + suffix, node: suffixNode, path: "lanes.\(lane).tables.suffix", what: "shadow table (from '\(table)' + suffix)")
            }
        }
    }

    private mutating func reportSameName(_ name: String, node: Node, path: String, lane: String) {
        reader.report(
            .shadowEqualsBase, at: node, path: path,
            "shadow name '\(name)' is the base name; lane '\(lane)' would write the production object",
            fix: "map it to a different name, such as \(name)_\(lane)"
        )
    }

    /// Checks each dotted component of `name` against the identifier limits of the dialects in use.
    private mutating func checkLength(_ name: String, node: Node, path: String, what: String) {
        for component in name.split(separator: ".") {
            for dialect in dialectsInUse.sorted(by: { $0.rawValue < $1.rawValue }) {
                let (length, limit, unit) =
                    dialect == .postgres
                    ? (component.utf8.count, 63, "bytes") : (component.count, 64, "characters")
                if length > limit {
                    reader.report(
                        .identifierTooLong, at: node, path: path,
                        "\(what) name '\(component)' is \(length) \(unit), over the \(dialect.rawValue) limit of \(limit)",
                        fix: dialect == .postgres
                            ? "PostgreSQL would silently truncate it; map the table to a shorter name"
                            : "MySQL refuses longer names; map the table to a shorter name"
                    )
                    return
                }
            }
        }
    }
}
