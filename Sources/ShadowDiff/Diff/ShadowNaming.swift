import ShadowSQL

/// Where a lane keeps the shadow of a base table, following the same rules as the rewriter: an explicit map entry
/// (qualified `db.t` or bare `t`) wins, then the suffix rule; the database/schema map moves the table; with none of
/// these, a lane with its own backend keeps the same name on that server.
public struct ShadowNaming: Sendable {
    public let mapping: LaneMapping
    /// Whether the lane has a backend of its own for the listener (shadow database on another server).
    public let hasOwnBackend: Bool

    public init(mapping: LaneMapping, hasOwnBackend: Bool) {
        self.mapping = mapping
        self.hasOwnBackend = hasOwnBackend
    }

    private func same(_ a: String, _ b: String) -> Bool {
        mapping.caseSensitiveNames ? a == b : a.lowercased() == b.lowercased()
    }

    private func lookup(_ dictionary: [String: String], _ key: String) -> String? {
        if let exact = dictionary[key] { return exact }
        return dictionary.first { same($0.key, key) }?.value
    }

    /// Whether the lane deliberately shares this table with base.
    public func isShared(_ table: TableName) -> Bool {
        mapping.sharedTables.contains { same($0, table.name) || same($0, table.description) }
    }

    /// The shadow of `table`, or nil when the lane has no rule for it.
    public func shadow(of table: TableName) -> TableName? {
        if isShared(table) { return nil }
        let schema = lookup(mapping.databases, table.schema) ?? table.schema
        if let target = lookup(mapping.tables, table.description) ?? lookup(mapping.tables, table.name) {
            let parts = target.split(separator: ".", maxSplits: 1).map(String.init)
            return parts.count == 2 ? TableName(schema: parts[0], name: parts[1]) : TableName(schema: schema, name: target)
        }
        if let suffix = mapping.tableSuffix { return TableName(schema: schema, name: table.name + suffix) }
        if schema != table.schema || hasOwnBackend { return TableName(schema: schema, name: table.name) }
        return nil
    }

    /// Whether `table` is itself a shadow (a value of the explicit map, or named with the suffix), so listing "all
    /// tables" does not shadow the shadows.
    public func isShadowName(_ table: TableName) -> Bool {
        if mapping.tables.values.contains(where: { same($0, table.name) || same($0, table.description) }) { return true }
        if let suffix = mapping.tableSuffix, table.name.count > suffix.count,
            same(String(table.name.suffix(suffix.count)), suffix)
        {
            return true
        }
        return false
    }

    /// The explicit map's base tables, bare names resolved against `schema`.
    public func explicitBaseTables(defaultSchema schema: String) -> [TableName] {
        mapping.tables.keys.sorted().map { key in
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            return parts.count == 2 ? TableName(schema: parts[0], name: parts[1]) : TableName(schema: schema, name: key)
        }
    }

    /// Whether the rule covers every table of a schema (suffix rule, schema redirect or own backend).
    public func coversAllTables(in schema: String) -> Bool {
        mapping.tableSuffix != nil || lookup(mapping.databases, schema) != nil || hasOwnBackend
    }

    /// Parses a `--table` argument: `t` (in `defaultSchema`) or `schema.t`.
    public static func parse(_ text: String, defaultSchema: String) -> TableName {
        let parts = text.split(separator: ".", maxSplits: 1).map(String.init)
        return parts.count == 2 ? TableName(schema: parts[0], name: parts[1]) : TableName(schema: defaultSchema, name: text)
    }
}

/// A base table and where its shadow is.
public struct TablePair: Sendable, Hashable {
    public var base: TableName
    public var shadow: TableName
    /// Base column → shadow column, for a shadow whose columns were renamed (a dual-write mirror's `columns:`).
    /// Columns not listed are compared under their own name.
    public var columns: [String: String]

    /// Whether ``columns`` keys match base columns regardless of case (MySQL compares column names so).
    public var caseInsensitiveColumns: Bool

    public init(base: TableName, shadow: TableName, columns: [String: String] = [:], caseInsensitiveColumns: Bool = false) {
        self.base = base
        self.shadow = shadow
        self.columns = columns
        self.caseInsensitiveColumns = caseInsensitiveColumns
    }

    /// The shadow's name for a base column.
    public func shadowColumn(_ base: String) -> String {
        if let exact = columns[base] { return exact }
        guard caseInsensitiveColumns else { return base }
        return columns.first { $0.key.lowercased() == base.lowercased() }?.value ?? base
    }
}

/// Chooses the tables a run covers: those named on the command line, else every mapped table of the base schema.
public enum TableSelection {
    public static func pairs(
        naming: ShadowNaming, requested: [String], baseSchema: String, laneName: String, baseTables: [String]
    ) throws -> [TablePair] {
        try bases(naming: naming, requested: requested, baseSchema: baseSchema, baseTables: baseTables).map { base in
            guard let shadow = naming.shadow(of: base) else { throw DataToolError.unmappedTable(base.description, lane: laneName) }
            return TablePair(base: base, shadow: shadow)
        }
    }

    /// The base tables a run covers: those named on the command line, else every mapped table of the base schema.
    static func bases(naming: ShadowNaming, requested: [String], baseSchema: String, baseTables: [String]) -> [TableName] {
        var bases: [TableName]
        if !requested.isEmpty {
            bases = requested.map { ShadowNaming.parse($0, defaultSchema: baseSchema) }
        } else {
            bases = naming.explicitBaseTables(defaultSchema: baseSchema)
            if naming.coversAllTables(in: baseSchema) {
                for name in baseTables {
                    let table = TableName(schema: baseSchema, name: name)
                    if !naming.isShadowName(table), !naming.isShared(table), !bases.contains(table) { bases.append(table) }
                }
            }
        }
        return bases
    }
}
