import ShadowSQL

/// Finds calls whose result the mirror would compute differently from the primary, so the record is flagged.
///
/// MySQL replay sets `TIMESTAMP` (and `INSERT_ID`) from the primary, so `NOW()`/`CURRENT_TIMESTAMP` replay the
/// same there; `SYSDATE()` ignores `TIMESTAMP` and is flagged. PostgreSQL replay has no logged clock, so every
/// clock function is flagged, as are sequences (`nextval`), which the mirror advances on its own.
public enum NonDeterminismScanner {
    static let mysqlCalls: Set<String> = [
        "rand", "uuid", "uuid_short", "sysdate", "connection_id", "found_rows", "row_count", "get_lock", "release_lock",
        "is_free_lock", "is_used_lock", "master_pos_wait", "sleep", "user", "current_user", "session_user",
        "system_user", "version", "database", "schema", "load_file", "random_bytes", "nextval", "lastval",
    ]
    static let postgresCalls: Set<String> = [
        "random", "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4", "nextval",
        "currval", "lastval", "setval", "now", "clock_timestamp", "statement_timestamp", "transaction_timestamp",
        "timeofday", "pg_backend_pid", "inet_client_addr", "txid_current", "pg_current_xact_id", "random_normal",
        "uuidv4", "uuidv7",
    ]
    /// PostgreSQL clock keywords that are used without parentheses.
    static let postgresClockWords: Set<String> = [
        "current_timestamp", "current_date", "current_time", "localtimestamp", "localtime",
    ]

    /// Whether `sql` calls something non-deterministic for replay in `dialect`.
    public static func isNonDeterministic(_ sql: String, dialect: SQLDialect) -> Bool {
        isNonDeterministic(StatementWords(sql, dialect: dialect), dialect: dialect)
    }

    /// `isNonDeterministic` over words already read from the statement.
    static func isNonDeterministic(_ statementWords: StatementWords, dialect: SQLDialect) -> Bool {
        let words = statementWords.words
        switch dialect {
        case .mysql:
            return words.contains { $0.isBareWord && $0.isCall && mysqlCalls.contains($0.text) }
        case .postgres:
            return words.contains { word in
                guard word.isBareWord else { return false }
                if word.isCall && postgresCalls.contains(word.text) { return true }
                return !word.isQualified && postgresClockWords.contains(word.text)
            }
        }
    }
}
