import ShadowSQL
import Testing

/// (dialect, statement, expected kinds)
let classifierCases: [(SQLDialect, String, [StatementKind])] = [
    (.mysql, "SELECT 1", [.read]),
    (.mysql, "(SELECT 1)", [.read]),
    (.mysql, "SELECT * FROM t FOR UPDATE", [.write]),
    (.mysql, "INSERT INTO t VALUES (1)", [.write]),
    (.mysql, "REPLACE INTO t VALUES (1)", [.write]),
    (.mysql, "UPDATE t SET a = 1", [.write]),
    (.mysql, "DELETE FROM t", [.write]),
    (.mysql, "TRUNCATE t", [.write]),
    (.mysql, "LOAD DATA INFILE 'x' INTO TABLE t", [.write]),
    (.mysql, "CREATE TABLE t (a int)", [.ddl]),
    (.mysql, "ALTER TABLE t ADD b int", [.ddl]),
    (.mysql, "DROP TABLE t", [.ddl]),
    (.mysql, "RENAME TABLE a TO b", [.ddl]),
    (.mysql, "BEGIN", [.transactionControl]),
    (.mysql, "BEGIN WORK", [.transactionControl]),
    (.postgres, "BEGIN ISOLATION LEVEL SERIALIZABLE", [.transactionControl]),
    (.mysql, "START TRANSACTION", [.transactionControl]),
    (.mysql, "COMMIT", [.transactionControl]),
    (.mysql, "ROLLBACK", [.transactionControl]),
    (.mysql, "SAVEPOINT a", [.transactionControl]),
    (.mysql, "XA START 'x'", [.transactionControl]),
    (.mysql, "SET TRANSACTION ISOLATION LEVEL READ COMMITTED", [.transactionControl]),
    (.mysql, "SET SESSION TRANSACTION READ ONLY", [.transactionControl]),
    (.mysql, "SET @a = 1", [.session]),
    (.mysql, "USE db", [.session]),
    (.mysql, "SHOW TABLES", [.read]),
    (.mysql, "DESCRIBE t", [.read]),
    (.mysql, "EXPLAIN DELETE FROM t", [.read]),
    (.mysql, "CALL p()", [.other]),
    (.mysql, "LOCK TABLES t WRITE", [.other]),
    (.mysql, "WITH c AS (SELECT 1) SELECT * FROM c", [.read]),
    (.mysql, "WITH c AS (SELECT 1) DELETE FROM t", [.write]),
    (.mysql, "SELECT 1; INSERT INTO t VALUES (1);; COMMIT", [.read, .write, .transactionControl]),
    (.postgres, "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", [.write]),
    (.postgres, "SELECT * INTO n FROM t", [.write]),
    (.postgres, "EXPLAIN ANALYZE DELETE FROM t", [.write]),
    (.postgres, "EXPLAIN DELETE FROM t", [.read]),
    (.postgres, "COPY t FROM STDIN", [.write]),
    (.postgres, "COPY t TO STDOUT", [.read]),
    (.postgres, "MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE", [.write]),
    (.postgres, "RESET ALL", [.session]),
    (.postgres, "DISCARD ALL", [.session]),
    (.postgres, "PREPARE TRANSACTION 'x'", [.transactionControl]),
    (.postgres, "VALUES (1)", [.read]),
    (.postgres, "DO $$ BEGIN END $$", [.other]),
    (.postgres, "GRANT SELECT ON t TO u", [.ddl]),
    (.postgres, "", []),
    (.postgres, " ; -- nothing", []),
]

@Suite struct StatementClassifierTests {
    @Test("each statement is classified by what it does", arguments: classifierCases)
    func classify(_ dialect: SQLDialect, _ sql: String, _ expected: [StatementKind]) {
        #expect(StatementClassifier.classify(sql, dialect: dialect) == expected)
    }
}
