/// How the analyzer reads the table names that follow a keyword (`FROM`, `INTO`, `TABLE`, `JOIN` …).
struct TableContext: Sendable, Equatable {
    /// A comma continues the list (`FROM a, b`, `DROP TABLE a, b`).
    var list = false
    /// A name after the table is an alias (`FROM t x`, `t AS x`).
    var alias = false
    /// `name(` is a table function, not a table (`FROM generate_series(1, 3)`).
    var function = false
    /// JOIN, ON and USING continue the list.
    var joins = false
    /// The table is the new name of a rename.
    var renameTarget = false
    /// `a TO b` pairs (`RENAME TABLE`).
    var renameList = false
    /// The name may be an alias declared later (MySQL multi-table DELETE).
    var mayBeAlias = false
    /// A table name must follow: keywords are read as names rather than ending the list.
    var requiresName = false
    /// Modifiers such as `LOW_PRIORITY`, `IGNORE`, `INTO`, `ONLY` may still be skipped.
    var modifiersAllowed = true
    /// A name here may be a CTE of the statement's WITH: only where tables are read. The servers never take the
    /// target of INSERT, UPDATE, DELETE or MERGE for a CTE (`WITH a AS (…) DELETE FROM a` deletes from table `a`),
    /// so there a name is always a table, whatever the WITH declares.
    var mayNameCTE = false

    static let from = TableContext(list: true, alias: true, function: true, joins: true, mayNameCTE: true)
    static let insert = TableContext(alias: true, requiresName: true)
    static let update = TableContext(list: true, alias: true, joins: true, requiresName: true)
    static let deleteFrom = TableContext(list: true, alias: true, joins: true, requiresName: true)
    static let ddl = TableContext(list: true, requiresName: true)
    static let maintenance = TableContext(list: true)
    static let lock = TableContext(list: true, alias: true)
    static let single = TableContext(requiresName: true)
    static let optionalSingle = TableContext()
    static let renameList = TableContext(list: true, renameList: true, requiresName: true)
    static let renameTarget = TableContext(renameTarget: true, requiresName: true)
}

extension Keyword {
    /// Keywords that end a table reference or a table list instead of naming a table or an alias.
    var endsTableReference: Bool {
        switch self {
        case .where, .set, .values, .value, .select, .with, .on, .using, .join, .inner, .left, .right, .full, .cross,
            .natural, .straight_join, .outer, .group, .order, .having, .limit, .union, .except, .intersect, .minus,
            .window, .returning, .for, .lock, .as, .partition, .tablesample, .like, .to, .in, .default, .into, .from,
            .when, .then, .matched, .use, .force, .ignore, .read, .write, .low_priority, .local, .nowait, .cascade,
            .restrict, .if, .offset, .fetch, .procedure, .and, .or, .not, .is, .only, .of, .key, .index, .skip:
            return true
        default:
            return false
        }
    }

    /// Keywords that may stand between a verb and its table (`INSERT IGNORE INTO`, `DELETE QUICK`, `FROM ONLY`).
    var isTableModifier: Bool {
        switch self {
        case .only, .lateral, .low_priority, .quick, .ignore, .delayed, .high_priority, .into, .table, .temporary,
            .temp, .unlogged:
            return true
        default:
            return false
        }
    }

    /// Keywords that start a statement which may follow EXPLAIN, a CTE list, `AS` or `(`.
    var startsStatement: Bool {
        switch self {
        case .select, .insert, .update, .delete, .replace, .merge, .with, .values, .table: return true
        default: return false
        }
    }
}
