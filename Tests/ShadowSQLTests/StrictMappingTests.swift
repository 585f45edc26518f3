import ShadowSQL
import Testing

/// Statements that write (or lock, or create) an unmapped table `x` somewhere, in any position or form.
let strictWriteCases: [(SQLDialect, String)] = [
    (.mysql, "INSERT INTO m SELECT * FROM x"),
    (.mysql, "UPDATE m, x SET m.a = x.a"),
    (.mysql, "DELETE x FROM m"),
    (.mysql, "DELETE m FROM m JOIN x ON m.a = x.a"),
    (.mysql, "INSERT INTO m VALUES (1); DROP TABLE x"),
    (.mysql, "REPLACE INTO x SELECT 1"),
    (.mysql, "INSERT INTO m(a) VALUES((SELECT 1 FROM x))"),
    (.mysql, "CREATE TABLE x LIKE m"),
    (.mysql, "ALTER TABLE m RENAME TO x"),
    (.mysql, "RENAME TABLE m TO m2, x TO y"),
    (.mysql, "LOAD DATA INFILE 'f' INTO TABLE x"),
    (.mysql, "TRUNCATE x"),
    (.mysql, "LOCK TABLES x WRITE"),
    (.mysql, "UPDATE m SET a = 1 WHERE b IN (SELECT b FROM x)"),
    (.mysql, "SELECT * FROM x FOR UPDATE"),
    (.mysql, "INSERT INTO m VALUES(1) ON DUPLICATE KEY UPDATE a = (SELECT 1 FROM x)"),
    (.mysql, "DO (SELECT 1 FROM x)"),
    (.postgres, "WITH y AS (DELETE FROM x RETURNING *) SELECT * FROM y"),
    (.postgres, "SELECT * INTO x FROM m"),
    (.postgres, "COPY x FROM STDIN"),
    (.postgres, "MERGE INTO x USING m ON true WHEN MATCHED THEN DELETE"),
    (.postgres, "CREATE TABLE y AS SELECT * FROM m"),
    (.postgres, "DELETE FROM m USING x WHERE m.a = x.a"),
    (.postgres, "UPDATE m SET a = x.a FROM x"),
    (.postgres, "EXPLAIN ANALYZE DELETE FROM x"),
    (.postgres, "PREPARE p AS DELETE FROM x"),
    (.postgres, "CREATE INDEX ON x (a)"),
    (.postgres, "DROP TABLE m, x"),
    (.postgres, "SELECT * FROM m; DELETE FROM \"x\""),
    (.postgres, "VACUUM x"),
    (.postgres, "ALTER TABLE m ATTACH PARTITION x FOR VALUES IN (1)"),
    (.postgres, "LOCK x"),
]

@Suite struct StrictMappingTests {
    @Test("with only `m` mapped, every statement that writes the unmapped table `x` is refused", arguments: strictWriteCases)
    func writesToUnmappedAreRefused(_ dialect: SQLDialect, _ sql: String) {
        let strict = LaneMapping(lane: "gray", tables: ["m": "m_gray"])
        guard case .refused(let refusal) = outcome(sql, strict, dialect) else {
            Issue.record("not refused: \(sql)")
            return
        }
        #expect(refusal.rule == .unmappedWrites)
    }

    @Test("a multi-table DELETE target that is an alias of a mapped table is not mistaken for a table")
    func aliasTarget() {
        let strict = LaneMapping(lane: "gray", tables: ["m": "m_gray"])
        #expect(rewritten("DELETE x FROM m AS x", strict, .mysql) == "DELETE x FROM m_gray AS x")
    }
}
