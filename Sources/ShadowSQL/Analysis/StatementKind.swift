/// What a statement does, as far as routing, policy and dual-write care.
public enum StatementKind: String, Sendable, Hashable {
    /// SELECT, SHOW, DESCRIBE, EXPLAIN (without ANALYZE of a write), TABLE, VALUES.
    case read
    /// INSERT, REPLACE, UPDATE, DELETE, MERGE, COPY FROM, LOAD DATA, TRUNCATE, SELECT … INTO/FOR UPDATE.
    case write
    /// CREATE, ALTER, DROP, RENAME, COMMENT ON, GRANT/REVOKE.
    case ddl
    /// BEGIN, START TRANSACTION, COMMIT, ROLLBACK, SAVEPOINT, RELEASE, XA, SET TRANSACTION.
    case transactionControl
    /// SET, USE, RESET, DISCARD, PREPARE/EXECUTE/DEALLOCATE of named text statements.
    case session
    /// Anything else (CALL, DO, LOCK, ANALYZE, …); the rewriter decides per statement whether it is safe.
    case other
}
