import ShadowSQL
import Testing

/// Statements whose write target a lane must rename (or refuse) however the rest of the statement reads: each of
/// these once ran on the base table in a non-base lane.
@Suite struct WriteTargetIsolationTests {
    @Test("a write target named like a CTE of the statement is the table, renamed in the lane", arguments: SQLDialect.allCases)
    func writeTargetIsNeverACTE(_ dialect: SQLDialect) {
        #expect(rewritten("WITH a AS (SELECT 1) DELETE FROM a WHERE id = 1", graySuffix, dialect)
                == "WITH a AS (SELECT 1) DELETE FROM a_gray WHERE id = 1")
        #expect(rewritten("WITH a AS (SELECT 1) INSERT INTO a SELECT * FROM a", graySuffix, dialect)
                == "WITH a AS (SELECT 1) INSERT INTO a_gray SELECT * FROM a")
        #expect(rewritten("WITH a AS (SELECT 1) UPDATE a SET v = 1", graySuffix, dialect)
                == "WITH a AS (SELECT 1) UPDATE a_gray SET v = 1")
        // Where tables are read, the CTE still hides the table of the same name.
        #expect(rewritten("WITH x AS (SELECT 1) SELECT * FROM x JOIN t ON true", graySuffix, dialect)
                == "WITH x AS (SELECT 1) SELECT * FROM x JOIN t_gray ON true")
    }

    @Test("PostgreSQL: MERGE into a table named like a CTE merges into the shadow table")
    func mergeTargetIsNeverACTE() {
        #expect(rewritten("WITH a AS (SELECT 1) MERGE INTO a USING a AS s ON true WHEN MATCHED THEN DELETE", graySuffix, .postgres)
                == "WITH a AS (SELECT 1) MERGE INTO a_gray USING a AS s ON true WHEN MATCHED THEN DELETE")
    }

    @Test("a write target named like a CTE is unmapped, and refused, in a lane that rejects unmapped writes")
    func hiddenUnmappedWriteRefused() {
        let strict = LaneMapping(lane: "strict", tables: ["t": "t_gray"], unmappedWrites: .reject)
        guard case .refused(let refusal) = outcome("WITH a AS (SELECT 1) DELETE FROM a", strict, .postgres) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(refusal.rule == .unmappedWrites)
    }

    @Test("PostgreSQL: a shadow name over 63 bytes is refused (the server would cut it back to the base name)")
    func longShadowNameRefused() {
        let base = String(repeating: "a", count: 60)
        let result = rewritten("INSERT INTO \(base) VALUES (1)", graySuffix, .postgres)
        #expect(result.hasPrefix("REFUSED:"))
        #expect(result.contains("63-byte limit"))
        // 58 + 5 = 63 bytes is still a name of its own; MySQL rejects over-long names itself instead of cutting them.
        let fits = String(repeating: "a", count: 58)
        #expect(rewritten("INSERT INTO \(fits) VALUES (1)", graySuffix, .postgres) == "INSERT INTO \(fits)_gray VALUES (1)")
        #expect(rewritten("INSERT INTO \(base) VALUES (1)", graySuffix, .mysql) == "INSERT INTO \(base)_gray VALUES (1)")
    }

    @Test("ALTER TABLE … SET SCHEMA is refused in a lane: it would move the table into a schema the lane does not map")
    func setSchemaRefused() {
        let result = rewritten("ALTER TABLE a SET SCHEMA public", graySuffix, .postgres)
        #expect(result.hasPrefix("REFUSED:"))
        #expect(result.contains("SET SCHEMA"))
        #expect(rewritten("ALTER TABLE a ALTER COLUMN c SET DEFAULT 1", graySuffix, .postgres)
                == "ALTER TABLE a_gray ALTER COLUMN c SET DEFAULT 1")
    }
}
