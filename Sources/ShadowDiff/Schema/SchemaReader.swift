import ShadowSQL

/// Reads table shapes from a server's catalog (information_schema for MySQL/MariaDB, pg_catalog for PostgreSQL).
public struct SchemaReader {
    public let connection: any DiffConnection

    public init(connection: any DiffConnection) {
        self.connection = connection
    }

    private var dialect: SQLDialect { connection.dialect }
    private func lit(_ text: String) -> String { SQLText.literal(text, dialect) }

    /// The session's default database (MySQL) or first schema on the search path (PostgreSQL).
    public func currentSchema() throws -> String? {
        try connection.scalar(dialect == .mysql ? "SELECT DATABASE()" : "SELECT current_schema()")
    }

    /// Ordinary tables of a database/schema, by name.
    public func tables(in schema: String) throws -> [String] {
        let sql: String
        switch dialect {
        case .mysql:
            sql = "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = \(lit(schema)) "
                + "AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME"
        case .postgres:
            sql = "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE n.nspname = \(lit(schema)) AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname"
        }
        return try connection.query(sql).compactMap { $0.first ?? nil }
    }

    /// Whether a database (MySQL) or schema (PostgreSQL) exists.
    public func schemaExists(_ schema: String) throws -> Bool {
        let sql = dialect == .mysql
            ? "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = \(lit(schema))"
            : "SELECT COUNT(*) FROM pg_namespace WHERE nspname = \(lit(schema))"
        return try connection.scalar(sql) != "0"
    }

    /// The table's shape, or nil when it does not exist.
    public func read(_ table: TableName) throws -> TableSchema? {
        let columns = try readColumns(table)
        guard !columns.isEmpty else { return nil }
        return TableSchema(table: table, columns: columns, indexes: try readIndexes(table), foreignKeys: try readForeignKeys(table))
    }

    private func readColumns(_ table: TableName) throws -> [ColumnInfo] {
        switch dialect {
        case .mysql:
            let rows = try connection.query(
                "SELECT COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, "
                    + "IF(GENERATION_EXPRESSION IS NULL OR GENERATION_EXPRESSION = '', 0, 1), COALESCE(COLLATION_NAME, '') "
                    + "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = \(lit(table.schema)) "
                    + "AND TABLE_NAME = \(lit(table.name)) ORDER BY ORDINAL_POSITION"
            )
            return rows.map { row in
                let extra = (row[5] ?? "").lowercased()
                return ColumnInfo(
                    name: row[0] ?? "", columnType: row[1] ?? "", dataType: row[2] ?? "", isNullable: row[3] == "YES",
                    defaultExpression: row[4], isGenerated: row[6] == "1" || extra.contains("generated"),
                    identity: extra.contains("auto_increment") ? "auto_increment" : "", collation: row[7] ?? ""
                )
            }
        case .postgres:
            let rows = try connection.query(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typname, NOT a.attnotnull, "
                    + "pg_get_expr(d.adbin, d.adrelid), a.attgenerated <> '', a.attidentity "
                    + "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                    + "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid "
                    + "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                    + "WHERE n.nspname = \(lit(table.schema)) AND c.relname = \(lit(table.name)) "
                    + "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
            )
            return rows.map { row in
                let generated = row[5] == "t" || row[5] == "true"
                return ColumnInfo(
                    name: row[0] ?? "", columnType: row[1] ?? "", dataType: row[2] ?? "",
                    isNullable: row[3] == "t" || row[3] == "true", defaultExpression: generated ? nil : row[4],
                    isGenerated: generated, identity: row[6] ?? ""
                )
            }
        }
    }

    private func readIndexes(_ table: TableName) throws -> [IndexInfo] {
        let rows: [[String?]]
        switch dialect {
        case .mysql:
            // name, primary, unique, column (NULL for expressions), detail (prefix length, type)
            rows = try connection.query(
                "SELECT INDEX_NAME, IF(INDEX_NAME = 'PRIMARY', 1, 0), IF(NON_UNIQUE = 0, 1, 0), COLUMN_NAME, "
                    + "CONCAT(INDEX_TYPE, IF(SUB_PART IS NULL, '', CONCAT(' prefix ', SUB_PART))) "
                    + "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = \(lit(table.schema)) "
                    + "AND TABLE_NAME = \(lit(table.name)) ORDER BY INDEX_NAME, SEQ_IN_INDEX"
            )
        case .postgres:
            rows = try connection.query(
                "SELECT ic.relname, CASE WHEN ix.indisprimary THEN 1 ELSE 0 END, CASE WHEN ix.indisunique THEN 1 ELSE 0 END, "
                    + "a.attname, regexp_replace(pg_get_indexdef(ix.indexrelid), '^.* USING ', 'USING ') "
                    + "FROM pg_index ix JOIN pg_class ic ON ic.oid = ix.indexrelid JOIN pg_class c ON c.oid = ix.indrelid "
                    + "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    + "CROSS JOIN LATERAL unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) "
                    + "LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum "
                    + "WHERE n.nspname = \(lit(table.schema)) AND c.relname = \(lit(table.name)) "
                    + "AND k.ord <= ix.indnkeyatts ORDER BY ic.relname, k.ord"
            )
        }
        var indexes: [IndexInfo] = []
        for row in rows {
            let name = row[0] ?? ""
            if let last = indexes.last, last.name == name {
                indexes[indexes.count - 1].columns.append(row[3])
            } else {
                indexes.append(
                    IndexInfo(name: name, isPrimary: row[1] == "1", isUnique: row[2] == "1", columns: [row[3]], detail: row[4] ?? "")
                )
            }
        }
        return indexes
    }

    private func readForeignKeys(_ table: TableName) throws -> [ForeignKeyInfo] {
        let rows: [[String?]]
        switch dialect {
        case .mysql:
            rows = try connection.query(
                "SELECT k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME, "
                    + "k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE FROM information_schema.KEY_COLUMN_USAGE k "
                    + "JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA "
                    + "AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME "
                    + "WHERE k.TABLE_SCHEMA = \(lit(table.schema)) AND k.TABLE_NAME = \(lit(table.name)) "
                    + "AND k.REFERENCED_TABLE_NAME IS NOT NULL ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION"
            )
        case .postgres:
            let action = "CASE %@ WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' "
                + "WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END"
            rows = try connection.query(
                "SELECT con.conname, a.attname, rn.nspname, rc.relname, ra.attname, "
                    + action.replacingAll("%@", with: "con.confupdtype") + ", "
                    + action.replacingAll("%@", with: "con.confdeltype") + " "
                    + "FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid "
                    + "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class rc ON rc.oid = con.confrelid "
                    + "JOIN pg_namespace rn ON rn.oid = rc.relnamespace "
                    + "CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(att, ratt, ord) "
                    + "JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.att "
                    + "JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.ratt "
                    + "WHERE con.contype = 'f' AND n.nspname = \(lit(table.schema)) AND c.relname = \(lit(table.name)) "
                    + "ORDER BY con.conname, k.ord"
            )
        }
        var keys: [ForeignKeyInfo] = []
        for row in rows {
            let name = row[0] ?? ""
            if let last = keys.last, last.name == name {
                keys[keys.count - 1].columns.append(row[1] ?? "")
                keys[keys.count - 1].referencedColumns.append(row[4] ?? "")
            } else {
                keys.append(
                    ForeignKeyInfo(
                        name: name, columns: [row[1] ?? ""], referencedTable: TableName(schema: row[2] ?? "", name: row[3] ?? ""),
                        referencedColumns: [row[4] ?? ""], onUpdate: row[5] ?? "NO ACTION", onDelete: row[6] ?? "NO ACTION"
                    )
                )
            }
        }
        return keys
    }
}
