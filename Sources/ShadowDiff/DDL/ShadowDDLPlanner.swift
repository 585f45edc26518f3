import ShadowSQL

/// What shadow-ddl found and will do.
public struct ShadowDDLPlan: Sendable, Hashable {
    /// Statements to run on the shadow side, in order: schemas, tables, sequences, then foreign keys (so parents
    /// exist before children point at them).
    public var statements: [String] = []
    /// Shapes that differ and foreign keys that cannot be re-pointed: reported, exit 1.
    public var problems: [String] = []
    /// Shadow tables that already exist with the right shape.
    public var upToDate: [String] = []
    /// Tables the plan creates.
    public var created: [String] = []

    public init() {}
}

/// Plans the DDL that gives every mapped base table its shadow.
///
/// MariaDB/MySQL on the same server: `CREATE TABLE shadow LIKE base`, which copies columns, keys, indexes,
/// defaults and generated columns exactly but drops foreign keys; they are added back pointing at the parents'
/// shadows. On another server the base's `SHOW CREATE TABLE` is replayed without its foreign keys, which are added
/// the same way. PostgreSQL: `CREATE TABLE shadow (LIKE base INCLUDING ALL)` (columns, defaults, constraints,
/// indexes, identity with a new sequence, generated columns), then each `nextval(…)` default — which LIKE copies
/// still pointing at the base sequence — is replaced by a sequence of the shadow's own, owned by its column. A
/// PostgreSQL shadow in another database or on another server gets the definition rebuilt from base's catalog
/// (``PostgresTableDefinition``), then the same sequences and foreign keys.
public struct ShadowDDLPlanner {
    public let base: any DiffConnection
    public let shadow: any DiffConnection
    public let naming: ShadowNaming
    public let sameServer: Bool
    public let lane: String

    public init(base: any DiffConnection, shadow: any DiffConnection, naming: ShadowNaming, sameServer: Bool, lane: String) {
        self.base = base
        self.shadow = shadow
        self.naming = naming
        self.sameServer = sameServer
        self.lane = lane
    }

    private var dialect: SQLDialect { base.dialect }
    private func q(_ name: String) -> String { SQLText.identifier(name, dialect) }

    public func plan(_ pairs: [TablePair]) throws -> ShadowDDLPlan {
        var plan = ShadowDDLPlan()
        let limit = SQLText.identifierLimit(dialect)
        let pending = Set(pairs.map(\.shadow))
        var schemasCreated = Set<String>()
        var foreignKeyStatements: [String] = []
        let baseReader = SchemaReader(connection: base)
        let shadowReader = SchemaReader(connection: shadow)
        for pair in pairs {
            for name in [pair.shadow.name, pair.shadow.schema] where name.utf8.count > limit {
                throw DataToolError.nameTooLong(name: name, table: pair.base.description, limit: limit)
            }
            guard let baseSchema = try baseReader.read(pair.base) else { throw DataToolError.unknownTable(pair.base.description) }
            let parent: (TableName) -> TableName? = { referenced in
                naming.isShared(referenced) ? referenced : naming.shadow(of: referenced)
            }
            if let existing = try shadowReader.read(pair.shadow) {
                let found = SchemaComparison.differences(
                    base: baseSchema, shadow: existing, dialect: dialect, sameDatabase: sameServer, expectedParent: parent
                )
                if found.isEmpty { plan.upToDate.append(pair.shadow.description) } else { plan.problems += found }
                continue
            }
            if pair.shadow.schema != pair.base.schema || !sameServer, !schemasCreated.contains(pair.shadow.schema),
                try !shadowReader.schemaExists(pair.shadow.schema)
            {
                plan.statements.append(
                    dialect == .mysql
                        ? "CREATE DATABASE IF NOT EXISTS \(q(pair.shadow.schema))"
                        : "CREATE SCHEMA IF NOT EXISTS \(q(pair.shadow.schema))"
                )
                schemasCreated.insert(pair.shadow.schema)
            }
            plan.statements += try createTable(pair, baseSchema: baseSchema, limit: limit)
            plan.created.append(pair.shadow.description)
            for key in baseSchema.foreignKeys {
                guard let target = parent(key.referencedTable) else {
                    plan.problems.append(
                        "\(pair.shadow): foreign key \(key.name) references \(key.referencedTable), which has no shadow in lane "
                            + "'\(lane)'; the shadow is created without it — map \(key.referencedTable.name) in the lane "
                            + "(or list it in shared_tables) and run shadow-ddl again"
                    )
                    continue
                }
                if !naming.isShared(key.referencedTable), !pending.contains(target), try shadowReader.read(target) == nil {
                    plan.problems.append(
                        "\(pair.shadow): foreign key \(key.name) needs \(target) (shadow of \(key.referencedTable)), which does "
                            + "not exist and is not being created; include \(key.referencedTable.name) with --table"
                    )
                    continue
                }
                foreignKeyStatements.append(addForeignKey(key, to: pair.shadow, parent: target))
            }
        }
        plan.statements += foreignKeyStatements
        return plan
    }

    private func createTable(_ pair: TablePair, baseSchema: TableSchema, limit: Int) throws -> [String] {
        let shadowSQL = pair.shadow.sql(dialect)
        switch dialect {
        case .mysql:
            for column in baseSchema.columns where (column.defaultExpression ?? "").lowercased().contains("nextval(") {
                throw DataToolError.unsupported(
                    "\(pair.base).\(column.name) takes its default from a sequence (\(column.defaultExpression ?? "")); a "
                        + "copied default would draw from base's sequence. Create the shadow and its own sequence by hand"
                )
            }
            if sameServer { return ["CREATE TABLE \(shadowSQL) LIKE \(pair.base.sql(dialect))"] }
            let rows = try base.query("SHOW CREATE TABLE \(pair.base.sql(dialect))")
            guard let text = rows.first?[1] ?? nil else { throw DataToolError.unknownTable(pair.base.description) }
            return [Self.replayableCreate(text, as: shadowSQL)]
        case .postgres:
            // Same database: LIKE copies everything. Elsewhere the definition is rebuilt from base's catalog.
            var statements = sameServer
                ? ["CREATE TABLE \(shadowSQL) (LIKE \(pair.base.sql(dialect)) INCLUDING ALL)"]
                : try PostgresTableDefinition(base: base).statements(for: pair.base, as: pair.shadow)
            for column in baseSchema.columns where column.identity.isEmpty {
                guard let expression = column.defaultExpression, expression.lowercased().contains("nextval(") else { continue }
                let sequenceName = "\(pair.shadow.name)_\(column.name)_seq"
                guard sequenceName.utf8.count <= limit else {
                    throw DataToolError.nameTooLong(name: sequenceName, table: pair.base.description, limit: limit)
                }
                let sequence = TableName(schema: pair.shadow.schema, name: sequenceName).sql(dialect)
                let type = ["int2": "smallint", "int4": "integer"][column.dataType] ?? "bigint"
                statements.append("CREATE SEQUENCE \(sequence) AS \(type)")
                statements.append(
                    "ALTER TABLE \(shadowSQL) ALTER COLUMN \(q(column.name)) SET DEFAULT "
                        + "nextval(\(SQLText.literal(sequence, dialect))::regclass)"
                )
                statements.append("ALTER SEQUENCE \(sequence) OWNED BY \(shadowSQL).\(q(column.name))")
            }
            return statements
        }
    }

    private func addForeignKey(_ key: ForeignKeyInfo, to table: TableName, parent: TableName) -> String {
        let columns = key.columns.map(q).joined(separator: ", ")
        let referenced = key.referencedColumns.map(q).joined(separator: ", ")
        // MySQL constraint names are unique per database, so the shadow's key is left for the server to name;
        // PostgreSQL names are per table, so the base's name is kept.
        let name = dialect == .postgres ? "CONSTRAINT \(q(key.name)) " : ""
        return "ALTER TABLE \(table.sql(dialect)) ADD \(name)FOREIGN KEY (\(columns)) REFERENCES \(parent.sql(dialect)) "
            + "(\(referenced)) ON UPDATE \(key.onUpdate) ON DELETE \(key.onDelete)"
    }

    /// `SHOW CREATE TABLE` text renamed to the shadow, without its foreign keys (added back separately).
    static func replayableCreate(_ text: String, as shadowSQL: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { return text }
        if let open = lines[0].firstIndex(of: "(") {
            lines[0] = "CREATE TABLE \(shadowSQL) " + lines[0][open...]
        }
        lines.removeAll { line in
            let trimmed = line.drop { $0 == " " }
            return trimmed.hasPrefix("CONSTRAINT") && line.contains("FOREIGN KEY")
        }
        if let close = lines.lastIndex(where: { $0.hasPrefix(")") }), close > 0, lines[close - 1].hasSuffix(",") {
            lines[close - 1].removeLast()
        }
        return lines.joined(separator: "\n")
    }

    /// Runs the plan on the shadow side. PostgreSQL runs it in one transaction (its DDL is transactional); MySQL
    /// commits each statement implicitly, so statements run in dependency order.
    public func apply(_ plan: ShadowDDLPlan) throws {
        guard !plan.statements.isEmpty else { return }
        if dialect == .postgres { try shadow.execute("BEGIN") }
        do {
            for statement in plan.statements { try shadow.execute(statement) }
            if dialect == .postgres { try shadow.execute("COMMIT") }
        } catch {
            if dialect == .postgres { _ = try? shadow.execute("ROLLBACK") }
            throw error
        }
    }
}
