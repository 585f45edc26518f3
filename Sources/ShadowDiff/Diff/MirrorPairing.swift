import ShadowConfig
import ShadowSQL

/// How a diff pairs tables when it compares a dual-write stream's primary with its mirror (`diff --mirror`): the
/// primary side is the table the lane's statements ran on (the base table for `base_dual_write`, the lane's shadow
/// for `lanes.<lane>.dual_write`), and the mirror side is that name after the stream's `tables` map, with the
/// stream's `columns` map as the pair's column renames — the same renames the capture applies to every mirrored
/// statement, so the diff compares what the applier wrote.
public struct MirrorPairing: Sendable {
    public let stream: DualWriteConfiguration
    /// Whether the stream is `base_dual_write` (the primary side is then the base table itself).
    public let isBaseStream: Bool
    /// Whether names compare case-sensitively (the listener's rule; MySQL column names never do).
    public let caseSensitiveNames: Bool
    public let dialect: SQLDialect

    public init(stream: DualWriteConfiguration, isBaseStream: Bool, caseSensitiveNames: Bool, dialect: SQLDialect) {
        self.stream = stream
        self.isBaseStream = isBaseStream
        self.caseSensitiveNames = caseSensitiveNames
        self.dialect = dialect
    }

    private func lookup<Value>(_ dictionary: [String: Value], _ table: TableName) -> Value? {
        for key in [table.description, table.name] {
            if let exact = dictionary[key] { return exact }
            if !caseSensitiveNames, let found = dictionary.first(where: { $0.key.lowercased() == key.lowercased() }) {
                return found.value
            }
        }
        return nil
    }

    /// The mirror's name for a table as the primary ran it. Unqualified names run in the mirror's database on
    /// MySQL and in the same schema on PostgreSQL (the applier's session has the default search path).
    public func mirrorTable(for primary: TableName) -> TableName {
        let target = lookup(stream.tables, primary) ?? primary.name
        let parts = target.split(separator: ".", maxSplits: 1).map(String.init)
        if parts.count == 2 { return TableName(schema: parts[0], name: parts[1]) }
        return TableName(schema: dialect == .mysql ? stream.mirror.database : primary.schema, name: target)
    }

    /// The pair for a base table: the primary-side table, its mirror, and the stream's column map for it.
    public func pair(base: TableName, naming: ShadowNaming) throws -> TablePair {
        var primary = base
        if !isBaseStream {
            guard let shadow = naming.shadow(of: base) else {
                throw DataToolError.unmappedTable(base.description, lane: stream.lane)
            }
            primary = shadow
        }
        return TablePair(
            base: primary, shadow: mirrorTable(for: primary), columns: lookup(stream.columns, primary) ?? [:],
            caseInsensitiveColumns: dialect == .mysql || !caseSensitiveNames
        )
    }

    /// The tables a run covers (named by their base names on the command line, else every table the lane maps —
    /// every base table for the base stream), paired with their mirrors.
    func pairs(naming: ShadowNaming, requested: [String], baseSchema: String, baseTables: [String]) throws -> [TablePair] {
        let bases: [TableName]
        if isBaseStream && requested.isEmpty {
            bases = baseTables.map { TableName(schema: baseSchema, name: $0) }
        } else {
            bases = TableSelection.bases(naming: naming, requested: requested, baseSchema: baseSchema, baseTables: baseTables)
        }
        return try bases.map { try pair(base: $0, naming: naming) }
    }
}

extension DataToolTarget {
    /// The target for comparing the dual-write stream of `laneName` (the base lane's name for `base_dual_write`)
    /// with its mirror: the primary side is read where the lane's statements ran, the mirror with the applier's login.
    public static func resolveMirror(
        configuration: ShadowgateConfiguration, lane laneName: String, listener listenerName: String?
    ) throws -> DataToolTarget {
        let baseLaneName = configuration.label.baseLane
        let streams = configuration.dualWrites.filter {
            $0.lane == laneName && (listenerName == nil || $0.listener == listenerName)
        }
        guard let stream = streams.first else {
            let named = configuration.dualWrites.map { $0.lane == baseLaneName ? "\($0.lane) (base_dual_write)" : $0.lane }
            throw DataToolError.unsupported(
                "lane '\(laneName)' has no dual-write stream\(listenerName.map { " on listener '\($0)'" } ?? "") to compare "
                    + "with --mirror; streams are configured for: \(named.isEmpty ? "(none)" : named.joined(separator: ", "))"
            )
        }
        guard streams.count == 1 else {
            throw DataToolError.listenerChoice(
                "lane '\(laneName)' has dual-write streams on several listeners; choose one with --listener ("
                    + streams.map(\.listener).joined(separator: ", ") + ")"
            )
        }
        let listener = try chooseListener(configuration: configuration, named: stream.listener)
        let isBase = laneName == baseLaneName
        let lane: LaneConfiguration
        if isBase {
            lane = LaneConfiguration(name: baseLaneName, mapping: LaneMapping(lane: baseLaneName))
        } else if let found = configuration.lanes.first(where: { $0.name == laneName }) {
            lane = found
        } else {
            throw DataToolError.unknownLane(laneName, known: configuration.lanes.map(\.name))
        }
        let ownBackend = isBase ? nil : lane.backends[listener.name]
        let primaryCredentials = ownBackend == nil ? listener.credentials ?? lane.credentials : lane.credentials ?? listener.credentials
        guard let baseCredentials = primaryCredentials else { throw DataToolError.missingCredentials(listener: listener.name) }
        var mapping = lane.mapping
        mapping.caseSensitiveNames = listener.caseSensitiveNames
        let mirror = stream.mirror
        return DataToolTarget(
            listener: listener, lane: lane, baseCredentials: baseCredentials, shadowEndpoint: mirror.backend,
            shadowCredentials: DatabaseCredentials(user: mirror.user, password: mirror.password, database: mirror.database),
            naming: ShadowNaming(mapping: mapping, hasOwnBackend: ownBackend != nil),
            baseEndpoint: ownBackend ?? listener.backend,
            mirror: MirrorPairing(
                stream: stream, isBaseStream: isBase, caseSensitiveNames: listener.caseSensitiveNames, dialect: listener.dialect
            )
        )
    }
}
