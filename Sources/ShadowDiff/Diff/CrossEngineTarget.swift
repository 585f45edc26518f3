import ShadowConfig
import ShadowSQL

/// What `diff --against` compares: the tables behind one listener (base) with the tables of the same names behind
/// another listener of the other protocol — a MySQL database against a PostgreSQL one, for releases that move
/// between engines. Each side is read with its listener's `credentials:`; nothing but the shadow side is written.
public struct CrossEngineTarget: Sendable {
    public var base: ListenerConfiguration
    public var other: ListenerConfiguration
    public var baseCredentials: DatabaseCredentials
    public var otherCredentials: DatabaseCredentials

    /// The listeners named by `--listener` (or the only other one) and `--against`; they must speak different
    /// protocols (two servers of one engine are compared through a lane or a mirror instead).
    public static func resolve(configuration: ShadowgateConfiguration, listener: String?, against: String) throws -> CrossEngineTarget {
        guard let other = configuration.listeners.first(where: { $0.name == against }) else {
            throw DataToolError.listenerChoice(
                "unknown listener '\(against)' for --against; the configuration defines: "
                    + configuration.listeners.map(\.name).joined(separator: ", ")
            )
        }
        let candidates = configuration.listeners.filter { $0.name != against }
        let base: ListenerConfiguration
        if let listener {
            base = try DataToolTarget.chooseListener(configuration: configuration, named: listener)
        } else if candidates.count == 1 {
            base = candidates[0]
        } else {
            throw DataToolError.listenerChoice(
                "choose the base side of --against with --listener (" + candidates.map(\.name).joined(separator: ", ") + ")"
            )
        }
        guard base.dialect != other.dialect else {
            throw DataToolError.unsupported(
                "--against compares servers of different protocols; listeners '\(base.name)' and '\(other.name)' both "
                    + "speak \(base.dialect == .mysql ? "mysql" : "postgres"); compare one engine through a lane or --mirror"
            )
        }
        guard let baseCredentials = base.credentials else { throw DataToolError.missingCredentials(listener: base.name) }
        guard let otherCredentials = other.credentials else { throw DataToolError.missingCredentials(listener: other.name) }
        return CrossEngineTarget(base: base, other: other, baseCredentials: baseCredentials, otherCredentials: otherCredentials)
    }

    public func connectBase() throws -> any DiffConnection {
        try ServerConnector.connect(dialect: base.dialect, endpoint: base.backend, credentials: baseCredentials, useTLS: base.backendTLS)
    }

    public func connectOther() throws -> any DiffConnection {
        try ServerConnector.connect(
            dialect: other.dialect, endpoint: other.backend, credentials: otherCredentials, useTLS: other.backendTLS
        )
    }

    /// The table pairs: `t` (or `schema.t`) is compared with the table of the same name in the other side's
    /// database (MySQL) or current schema (PostgreSQL); `base=other` names both sides. Without `--table`, every
    /// table of base's database or schema.
    public func pairs(requested: [String], base: any DiffConnection, other: any DiffConnection) throws -> [TablePair] {
        let baseSchema = try Self.defaultSchema(base, credentials: baseCredentials)
        let otherSchema = try Self.defaultSchema(other, credentials: otherCredentials)
        let specs = requested.isEmpty ? try SchemaReader(connection: base).tables(in: baseSchema) : requested
        return specs.map { spec in
            let sides = spec.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let baseTable = ShadowNaming.parse(sides[0], defaultSchema: baseSchema)
            let otherTable = sides.count == 2
                ? ShadowNaming.parse(sides[1], defaultSchema: otherSchema) : TableName(schema: otherSchema, name: baseTable.name)
            return TablePair(base: baseTable, shadow: otherTable)
        }
    }

    static func defaultSchema(_ connection: any DiffConnection, credentials: DatabaseCredentials) throws -> String {
        try (connection.dialect == .mysql ? credentials.database : SchemaReader(connection: connection).currentSchema() ?? "public")
    }

    /// How the report names the comparison (where a lane's name goes).
    public var label: String { "\(base.name) against \(other.name)" }
}
