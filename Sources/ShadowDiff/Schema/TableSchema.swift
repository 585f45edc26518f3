import ShadowSQL

/// A table as the data tools address it: database (MySQL) or schema (PostgreSQL), and name.
public struct TableName: Sendable, Hashable, CustomStringConvertible, Comparable {
    public var schema: String
    public var name: String

    public init(schema: String, name: String) {
        self.schema = schema
        self.name = name
    }

    /// The qualified, quoted form for SQL.
    public func sql(_ dialect: SQLDialect) -> String {
        SQLText.identifier(schema, dialect) + "." + SQLText.identifier(name, dialect)
    }

    public var description: String { "\(schema).\(name)" }

    public static func < (a: TableName, b: TableName) -> Bool { (a.schema, a.name) < (b.schema, b.name) }
}

/// How a column's values are made canonical before hashing, decided from its declared type.
public enum ValueClass: String, Sendable, Hashable {
    case integer, decimal, float, boolean
    /// Points in time stored with a zone (PostgreSQL timestamptz, MySQL TIMESTAMP): rendered in UTC.
    case instant
    /// Wall-clock date and time without a zone (PostgreSQL timestamp, MySQL DATETIME).
    case dateTime
    case date, time
    /// Bytes: compared as hex.
    case binary
    /// Text and everything else: compared byte for byte in its text form.
    case text
}

/// One column as read from the server's catalog.
public struct ColumnInfo: Sendable, Hashable {
    public var name: String
    /// The full declared type, as the server spells it (`varchar(255)`, `numeric(10,2)`, `bigint unsigned`).
    public var columnType: String
    /// The bare type name (`varchar`, `numeric`, `timestamp with time zone`).
    public var dataType: String
    public var isNullable: Bool
    /// The default expression, nil when none.
    public var defaultExpression: String?
    /// Whether the server computes the column (generated/virtual): never written by repair.
    public var isGenerated: Bool
    /// PostgreSQL identity (`a` always, `d` by default) or MySQL `auto_increment`; empty when neither.
    public var identity: String
    /// MySQL's collation of a text column (it decides the bytes a value is stored as); empty otherwise.
    public var collation: String

    public init(
        name: String, columnType: String, dataType: String, isNullable: Bool, defaultExpression: String? = nil,
        isGenerated: Bool = false, identity: String = "", collation: String = ""
    ) {
        self.collation = collation
        self.name = name
        self.columnType = columnType
        self.dataType = dataType
        self.isNullable = isNullable
        self.defaultExpression = defaultExpression
        self.isGenerated = isGenerated
        self.identity = identity
    }

    /// The canonicalisation class for this column's type. `dataType` is MySQL's `DATA_TYPE` or PostgreSQL's
    /// `pg_type.typname` (`int8`, `timestamptz`), which name the same words differently (MySQL's `timestamp` is
    /// zoned, PostgreSQL's is not), hence the dialect.
    public func valueClass(_ dialect: SQLDialect) -> ValueClass {
        let type = dataType.lowercased()
        switch dialect {
        case .mysql:
            switch type {
            case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year": return .integer
            case "decimal", "numeric": return .decimal
            case "float", "double", "real": return .float
            case "timestamp": return .instant
            case "datetime": return .dateTime
            case "date": return .date
            case "time": return .time
            case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "bit": return .binary
            default: return .text
            }
        case .postgres:
            switch type {
            case "int2", "int4", "int8", "oid": return .integer
            case "numeric": return .decimal
            case "float4", "float8": return .float
            case "bool": return .boolean
            case "timestamptz": return .instant
            case "timestamp": return .dateTime
            case "date": return .date
            case "time", "timetz": return .time
            case "bytea": return .binary
            default: return .text
            }
        }
    }
}

/// An index or key on a table.
public struct IndexInfo: Sendable, Hashable {
    public var name: String
    public var isPrimary: Bool
    public var isUnique: Bool
    /// Column names in key order; nil entries are expressions.
    public var columns: [String?]
    /// What else shapes the index (method, prefix lengths, predicate), compared but not interpreted.
    public var detail: String

    public init(name: String, isPrimary: Bool, isUnique: Bool, columns: [String?], detail: String = "") {
        self.name = name
        self.isPrimary = isPrimary
        self.isUnique = isUnique
        self.columns = columns
        self.detail = detail
    }
}

/// A foreign key from this table to another.
public struct ForeignKeyInfo: Sendable, Hashable {
    public var name: String
    public var columns: [String]
    public var referencedTable: TableName
    public var referencedColumns: [String]
    /// `CASCADE`, `SET NULL`, `RESTRICT`, `NO ACTION`, `SET DEFAULT`.
    public var onUpdate: String
    public var onDelete: String

    public init(
        name: String, columns: [String], referencedTable: TableName, referencedColumns: [String], onUpdate: String,
        onDelete: String
    ) {
        self.name = name
        self.columns = columns
        self.referencedTable = referencedTable
        self.referencedColumns = referencedColumns
        self.onUpdate = onUpdate
        self.onDelete = onDelete
    }
}

/// A table's shape: what the diff needs (columns, a key) and what shadow-ddl compares.
public struct TableSchema: Sendable, Hashable {
    public var table: TableName
    public var columns: [ColumnInfo]
    public var indexes: [IndexInfo]
    public var foreignKeys: [ForeignKeyInfo]

    public init(table: TableName, columns: [ColumnInfo], indexes: [IndexInfo] = [], foreignKeys: [ForeignKeyInfo] = []) {
        self.table = table
        self.columns = columns
        self.indexes = indexes
        self.foreignKeys = foreignKeys
    }

    public func column(named name: String) -> ColumnInfo? { columns.first { $0.name == name } }

    /// The key the diff splits by: the primary key, else the shortest unique key whose columns are all NOT NULL
    /// plain columns. nil when there is none (the diff then falls back to a full ordered scan).
    public var chunkKey: [String]? {
        if let primary = indexes.first(where: \.isPrimary), let columns = plainColumns(primary) { return columns }
        let candidates = indexes.filter(\.isUnique).compactMap { index -> [String]? in
            guard let columns = plainColumns(index), index.detail.isEmpty || !index.detail.contains("WHERE") else { return nil }
            return columns.allSatisfy({ self.column(named: $0)?.isNullable == false }) ? columns : nil
        }
        return candidates.min { $0.count != $1.count ? $0.count < $1.count : $0.lexicographicallyPrecedes($1) }
    }

    private func plainColumns(_ index: IndexInfo) -> [String]? {
        let names = index.columns.compactMap { $0 }
        guard names.count == index.columns.count, !names.isEmpty else { return nil }
        return names
    }
}

