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
    }

    /// Classifies a call of `name` (its logical bytes: quotes removed).
    /// - Parameters:
    ///   - qualifier: the schema or database written before the name, if any (logical bytes), and whether it was
    ///     quoted (PostgreSQL folds only an unquoted one).
    ///   - quoted: whether the name was a quoted identifier (PostgreSQL then matches it exactly, not folded).
    ///   - spaced: whether anything stands between the name and its `(`. MySQL reads a spaced grammar-level
    ///     function (`COUNT (x)`) as a stored function's name unless IGNORE_SPACE is set.
    static func classify(
        qualifier: (name: [UInt8], quoted: Bool)?, name: [UInt8], quoted: Bool, spaced: Bool, dialect: SQLDialect
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
            if Self.postgresCatalog.contains(name, foldingCase: fold) || Self.postgresSyntax.contains(name, foldingCase: fold)
                || Self.sharedSyntax.contains(name, foldingCase: fold)
            {
                return .builtin
            }
            return .userRoutine
        case .mysql:
            // A qualified name is always a stored function: built-ins cannot be qualified.
            if qualifier != nil { return .userRoutine }
            if Self.mysqlSideEffects.contains(name, foldingCase: true) {
                return .sideEffect("it changes a sequence that the base lane shares")
            }
            if spaced && Self.mysqlSpaceSensitive.contains(name, foldingCase: true) { return .userRoutine }
            if Self.mariadbNative.contains(name, foldingCase: true) || Self.mysqlSyntax.contains(name, foldingCase: true)
                || Self.sharedSyntax.contains(name, foldingCase: true)
            {
                return .builtin
            }
            return .userRoutine
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

    /// Words of both dialects that a `(` may follow without a call: clauses, operators and constraint keywords.
    static let sharedSyntax = ByteNameSet("""
        add all and any array as between by case cast check coalesce columns conflict constraint cube default
        distinct do else escape except exists filter first for foreign from fulltext group grouping having identity
        in include index inherits insert intersect interval into is join key lateral like limit lines list not
        nullif offset on only or over partition primary range recursive references replace returning right left
        rollup row rows select set sets some spatial subpartition table than then to union unique using value
        values when where window with within
        btree hash gist gin spgist brin bloom rtree
        char character varchar varying national nchar decimal dec numeric float double real time timestamp bit
        """)

    /// PostgreSQL grammar functions and clause words (not in pg_proc under these names).
    static let postgresSyntax = ByteNameSet("""
        collation extract greatest least normalize overlay position substring trim treat xmlattributes
        xmlelement xmlexists xmlforest xmlparse xmlpi xmlroot xmlserialize xmlconcat xmltable current_time
        current_timestamp localtime localtimestamp json_object json_array json_objectagg json_arrayagg json_scalar
        json_serialize json_exists json_query json_value json_table merge_action system_user repeatable
        vacuum analyze explain reindex cluster copy force_quote force_not_null force_null ilike similar
        precision zone
        """)

    /// MySQL/MariaDB clause words and types that a `(` may follow.
    static let mysqlSyntax = ByteNameSet("""
        against match mod div xor regexp rlike binary varbinary tinyint smallint mediumint int integer bigint int1
        int2 int3 int4 int8 middleint fixed float4 float8 nvarchar varchar2 number raw blob text datetime year
        enum linear signed unsigned
        """)
}
