/// What a lane may call: the servers' built-in functions, the SQL words that are followed by `(` without being a
/// call (`IN (`, `VALUES (`, `varchar(10)`), and the built-ins that act beyond the lane's tables.
///
/// A function's body is invisible at the proxy: a stored function called from a SELECT can write any table. A lane
/// therefore lets through only calls it can vouch for — a built-in without side effects, or a routine the
/// operator listed in `lanes.<lane>.routines` — and refuses every other call (promise 1: when unsure, refuse).
enum BuiltinRoutines {
    /// How a lane treats one call.
    enum Verdict: Equatable, Sendable {
        /// A built-in function or SQL syntax: it touches nothing beyond its arguments.
        case builtin
        /// A built-in whose effect reaches beyond the lane's tables; the text says what it reaches.
        case sideEffect(String)
        /// A user-defined routine (or a name this catalogue does not know): only the allow-list can let it through.
        case userRoutine
        /// MySQL: a grammar-level built-in written with a space before `(` (`COUNT (x)`), which the server takes
        /// for a stored function's name; only the allow-list can let it through.
        case spacedGrammarFunction
    }

    /// Classifies a call of `name` (its logical bytes: quotes removed).
    /// - Parameters:
    ///   - qualifier: the schema or database written before the name, if any (logical bytes), and whether it was
    ///     quoted (PostgreSQL folds only an unquoted one).
    ///   - quoted: whether the name was a quoted identifier. Then it is never SQL syntax; PostgreSQL matches it
    ///     exactly, and MySQL takes a quoted name for a stored function's.
    ///   - spaced: whether anything stands between the name and its `(`. MySQL reads a spaced grammar-level
    ///     function (`COUNT (x)`) as a stored function's name unless IGNORE_SPACE is set.
    ///   - position: where the name stands, which decides whether an unreserved word is syntax or a call.
    ///   - catalogFirst: PostgreSQL: whether an unqualified name reaches pg_catalog before any user schema.
    static func classify(
        qualifier: (name: [UInt8], quoted: Bool)?, name: [UInt8], quoted: Bool, spaced: Bool, position: Position,
        catalogFirst: Bool = true, dialect: SQLDialect
    ) -> Verdict {
        switch dialect {
        case .postgres:
            // Only pg_catalog holds built-ins; any other schema is user territory.
            if let qualifier {
                let schema = qualifier.quoted ? qualifier.name : qualifier.name.map(ByteClass.lower)
                if !schema.elementsEqual("pg_catalog".utf8) { return .userRoutine }
            }
            let fold = !quoted
            if let effect = Self.postgresSideEffect(name, foldingCase: fold) { return .sideEffect(effect) }
            if Self.postgresCatalog.contains(name, foldingCase: fold) && (catalogFirst || qualifier != nil) { return .builtin }
            if quoted || qualifier != nil { return .userRoutine }
            if Self.postgresSyntax.contains(name, foldingCase: true) || Self.sharedSyntax.contains(name, foldingCase: true) {
                return .builtin
            }
            if Self.postgresContextualSyntax.contains(name, foldingCase: true) && position.readsAsSyntax(name, dialect: dialect) {
                return .builtin
            }
            return .userRoutine
        case .mysql:
            // A qualified name is always a stored function: built-ins cannot be qualified.
            if qualifier != nil || quoted { return .userRoutine }
            if Self.mysqlSideEffects.contains(name, foldingCase: true) {
                return .sideEffect("it changes a sequence that the base lane shares")
            }
            if spaced && Self.mysqlSpaceSensitive.contains(name, foldingCase: true) { return .spacedGrammarFunction }
            if Self.mariadbNative.contains(name, foldingCase: true) || Self.mysqlSyntax.contains(name, foldingCase: true)
                || Self.sharedSyntax.contains(name, foldingCase: true)
            {
                return .builtin
            }
            if Self.mysqlContextualSyntax.contains(name, foldingCase: true) && position.readsAsSyntax(name, dialect: dialect) {
                return .builtin
            }
            return .userRoutine
        }
    }

    /// What stands before a `name(`, as far as telling syntax from a call needs.
    struct Position: Sendable {
        /// The name stands where an expression may start (after `(`, `,`, an operator, SELECT, WHERE, AND, ON,
        /// THEN, BY…), so an unreserved word there is a call: `ORDER BY hash(x)` calls a function `hash`.
        var atExpressionStart: Bool
        /// The word before the name is THEN (PostgreSQL MERGE `WHEN NOT MATCHED THEN INSERT (…)`).
        var afterThen = false
        /// The words before are `PARTITION BY` (`PARTITION BY HASH (a)`).
        var afterPartitionBy = false

        func readsAsSyntax(_ name: [UInt8], dialect: SQLDialect) -> Bool {
            if !self.atExpressionStart { return true }
            let lower = name.map(ByteClass.lower)
            if self.afterThen && dialect == .postgres && lower.elementsEqual("insert".utf8) { return true }
            if self.afterPartitionBy {
                return ["range", "list", "hash", "key", "columns"].contains { lower.elementsEqual($0.utf8) }
            }
            return false
        }
    }

    static func postgresSideEffect(_ name: [UInt8], foldingCase: Bool) -> String? {
        for (set, effect) in Self.postgresSideEffects where set.contains(name, foldingCase: foldingCase) {
            return effect
        }
        return nil
    }

    // MARK: Catalogues

    static let postgresCatalog = ByteNameSet(Self.postgresCatalogNames)
    static let mariadbNative = ByteNameSet(Self.mariadbNativeNames)

    /// Built-ins that reach beyond the lane's tables. `nextval` is not among them: an ORM's id generator draws
    /// numbers from the base sequence in every lane (documented in docs/rewrite-rules.md); `setval` is refused by
    /// the analyser already.
    static let postgresSideEffects: [(ByteNameSet, String)] = [
        (ByteNameSet("setval"), "it moves a sequence that the base lane shares"),
        (ByteNameSet("""
            lo_creat lo_create lo_import lo_export lo_unlink lo_put lo_from_bytea lo_truncate lo_truncate64 lowrite
            """), "it writes large objects, which live in pg_largeobject for every lane"),
        (ByteNameSet("pg_notify"), "base-lane listeners would act on the notification"),
        (ByteNameSet("pg_terminate_backend pg_cancel_backend"), "it acts on other sessions, base ones included"),
        (ByteNameSet("""
            brin_summarize_new_values brin_summarize_range brin_desummarize_range gin_clean_pending_list
            """), "it writes an index the lane does not map"),
        (ByteNameSet("""
            pg_reload_conf pg_rotate_logfile pg_rotate_logfile_old pg_switch_wal pg_create_restore_point pg_promote
            pg_backup_start pg_backup_stop pg_start_backup pg_stop_backup pg_wal_replay_pause pg_wal_replay_resume
            pg_import_system_collations pg_create_physical_replication_slot pg_create_logical_replication_slot
            pg_drop_replication_slot pg_copy_physical_replication_slot pg_copy_logical_replication_slot
            pg_replication_slot_advance pg_logical_slot_get_changes pg_logical_slot_get_binary_changes
            pg_logical_emit_message pg_replication_origin_create pg_replication_origin_drop
            pg_replication_origin_advance pg_replication_origin_session_setup pg_replication_origin_session_reset
            pg_replication_origin_xact_setup pg_replication_origin_xact_reset pg_stat_reset pg_stat_reset_shared
            pg_stat_reset_single_table_counters pg_stat_reset_single_function_counters pg_stat_reset_slru
            pg_stat_reset_replication_slot pg_stat_reset_subscription_stats
            """), "it changes server-wide state that the base lane shares"),
    ]

    /// MariaDB sequence functions (the analyser refuses them before this; kept here so the catalogue is whole).
    static let mysqlSideEffects = ByteNameSet("nextval setval lastval")

    /// MySQL/MariaDB functions that the grammar reads as built-ins only when `(` follows the name directly (the
    /// IGNORE_SPACE list); with a space the name is an identifier and the call goes to a stored function.
    static let mysqlSpaceSensitive = ByteNameSet("""
        adddate bit_and bit_or bit_xor cast count curdate curtime date_add date_sub extract group_concat max mid min
        now position session_user std stddev stddev_pop stddev_samp subdate substr substring sum sysdate system_user
        trim variance var_pop var_samp
        """)

    /// Words of both dialects that are never a function's name where they are followed by `(`: reserved words and
    /// PostgreSQL's column-name keywords (`IN (`, `VALUES (`, `varchar(10)`), grammar constructs (`ROLLUP (`,
    /// `ON CONFLICT (`), and COPY's option words.
    static let sharedSyntax = ByteNameSet("""
        all and any array as between case cast check coalesce constraint default distinct do else except exists for
        foreign from group having in intersect interval into is join lateral like limit not nullif offset on only or
        primary references returning row select some table then to union unique using values when where window with
        char character varchar national nchar decimal dec numeric float double real time timestamp bit
        """)

    /// PostgreSQL column-name keywords and grammar functions (not in pg_proc under these names; none can name a
    /// function).
    static let postgresSyntax = ByteNameSet("""
        extract greatest least normalize overlay position substring trim treat xmlattributes xmlelement xmlexists
        xmlforest xmlparse xmlpi xmlroot xmlserialize xmlconcat xmltable current_time current_timestamp localtime
        localtimestamp precision grouping cube rollup conflict force_quote force_not_null force_null
        """)

    /// PostgreSQL words that may name a function but are syntax where no expression starts (`count(*) FILTER (`,
    /// `OVER (`, `USING btree (`, `PARTITION BY RANGE (`, `VACUUM (`, `LESS THAN (`).
    static let postgresContextualSyntax = ByteNameSet("""
        add by filter first hash identity include index inherits insert key list over partition range rows set sets
        than value within zone repeatable reset escape varying ilike similar columns
        btree gist gin spgist brin bloom
        vacuum analyze explain reindex cluster copy
        """)

    /// MySQL/MariaDB reserved words and types that a `(` may follow.
    static let mysqlSyntax = ByteNameSet("""
        match mod div xor regexp rlike binary key index fulltext spatial partition range list rows set add lines
        tinyint smallint mediumint int integer bigint int1 int2 int3 int4 int8 middleint fixed float4 float8 nvarchar
        varchar2 number raw blob text datetime year enum signed unsigned
        """)

    /// MySQL/MariaDB unreserved words that may name a stored function but are syntax where no expression starts
    /// (`MATCH (a) AGAINST (`, `JSON_TABLE(… COLUMNS (`, `VALUE (`, `LESS THAN (`, `USING BTREE (`).
    static let mysqlContextualSyntax = ByteNameSet("""
        against columns hash value than subpartition over filter within first identity include escape
        btree rtree
        """)
}
