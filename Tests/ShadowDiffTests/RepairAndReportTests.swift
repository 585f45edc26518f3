import ShadowSQL
import Testing

@testable import ShadowDiff

@Suite struct RepairPlannerTests {
    let columns = [
        ColumnInfo(name: "id", columnType: "int", dataType: "int4", isNullable: false, identity: "a"),
        ColumnInfo(name: "name", columnType: "text", dataType: "text", isNullable: true),
        ColumnInfo(name: "twice", columnType: "int", dataType: "int4", isNullable: true, isGenerated: true),
    ]

    func planner(_ dialect: SQLDialect) -> RepairPlanner {
        RepairPlanner(shadow: TableQueries(dialect: dialect, table: TableName(schema: "s", name: "t_gray"), columns: columns, key: [columns[0]]))
    }

    @Test("a missing row becomes an INSERT of base's values, generated columns left out, identity overridden")
    func insert() {
        let difference = RowDifference(kind: .missing, key: ["1"], baseValues: ["1", "O'Brien \\ x", "2"])
        #expect(
            planner(.postgres).statements(for: difference)
                == ["INSERT INTO \"s\".\"t_gray\" (\"id\", \"name\") OVERRIDING SYSTEM VALUE VALUES ('1', E'O''Brien \\\\ x')"]
        )
    }

    @Test("a changed row updates only the changed columns; NULL stays NULL")
    func update() {
        let difference = RowDifference(kind: .changed, key: ["7"], columns: ["name"], baseValues: ["7", nil, "1"], shadowValues: ["7", "", "1"])
        #expect(planner(.mysql).statements(for: difference) == ["UPDATE `s`.`t_gray` SET `name` = NULL WHERE `id` = '7'"])
    }

    @Test("under a column map a changed row updates the shadow's column for base's column name")
    func updateRenamedColumn() {
        let renamed = RepairPlanner(
            shadow: TableQueries(dialect: .postgres, table: TableName(schema: "s", name: "t_v2"), columns: columns, key: [columns[0]]),
            columnNames: ["id", "note", "twice"]
        )
        let difference = RowDifference(kind: .changed, key: ["7"], columns: ["note"], baseValues: ["7", "a", "1"], shadowValues: ["7", "b", "1"])
        #expect(renamed.statements(for: difference) == ["UPDATE \"s\".\"t_v2\" SET \"name\" = 'a' WHERE \"id\" = '7'"])
    }

    @Test("an extra row is deleted by its key")
    func delete() {
        let difference = RowDifference(kind: .extra, key: ["9"], shadowValues: ["9", "x", "1"])
        #expect(planner(.mysql).statements(for: difference) == ["DELETE FROM `s`.`t_gray` WHERE `id` = '9'"])
    }

    @Test("the script sets the session to UTC, then groups statements into transactions of the batch size")
    func batches() {
        let batches = RepairPlanner.batches(["a", "b", "c"], batchSize: 2)
        #expect(batches == [["a", "b"], ["c"]])
        #expect(RepairPlanner.script(batches, dialect: .postgres) == "SET TIME ZONE 'UTC';\nBEGIN;\na;\nb;\nCOMMIT;\nBEGIN;\nc;\nCOMMIT;\n")
    }
}

@Suite struct ReportTests {
    func sample() -> DiffReport {
        var table = TableReport(base: "db.t", shadow: "db.t_gray")
        table.key = ["id"]
        table.columns = ["id", "name"]
        table.rowsCompared = 10
        table.chunks = 1
        table.changed = 1
        table.examples = [RowDifference(kind: .changed, key: ["3"], columns: ["name"], baseValues: ["3", "a"], shadowValues: ["3", nil])]
        return DiffReport(lane: "gray", tables: [table])
    }

    @Test("the text report names the tables, the counts and the changed columns with both values")
    func text() {
        let text = ReportRenderer.text(sample())
        #expect(text.contains("db.t → db.t_gray: DIFFERENT"))
        #expect(text.contains("missing in shadow: 0; extra in shadow: 0; changed: 1"))
        #expect(text.contains("changed: key (3): name: 'a' ≠ NULL"))
    }

    @Test("the JSON report uses snake_case keys and says whether each table is identical")
    func json() {
        let json = ReportRenderer.json(sample())
        #expect(json.contains("\"rows_compared\" : 10"))
        #expect(json.contains("\"identical\" : false"))
    }

    @Test("exit code is 1 with differences, 0 without, including columns on one side only")
    func exitCodes() {
        var report = sample()
        #expect(report.exitCode == 1)
        report.tables[0].changed = 0
        #expect(report.exitCode == 0)
        report.tables[0].columnsOnlyInShadow = ["extra"]
        #expect(report.exitCode == 1)
    }
}

@Suite struct ChunkPlanningTests {
    @Test("chunk size grows towards the target time, at most doubling per chunk")
    func grows() {
        var sizer = ChunkSizer(initialRows: 1000, targetSeconds: 0.2)
        sizer.record(rows: 1000, seconds: 0.01)
        #expect(sizer.rows == 2000)
    }

    @Test("chunk size shrinks when chunks take longer than the target, not below the minimum")
    func shrinks() {
        var sizer = ChunkSizer(initialRows: 1000, targetSeconds: 0.2)
        sizer.record(rows: 1000, seconds: 2)
        #expect(sizer.rows == 100)
    }

    @Test("a zero target keeps the size fixed")
    func fixed() {
        var sizer = ChunkSizer(initialRows: 10, targetSeconds: 0)
        sizer.record(rows: 10, seconds: 5)
        #expect(sizer.rows == 10)
    }

    @Test("rows of one range are matched by key, so order does not matter")
    func rowComparison() {
        let base = [FetchedRow(key: ["1"], fields: ["V1:1", "N"], values: ["1", nil]), FetchedRow(key: ["2"], fields: ["V1:2", "V1:a"], values: ["2", "a"])]
        let shadow = [FetchedRow(key: ["2"], fields: ["V1:2", "V1:b"], values: ["2", "b"]), FetchedRow(key: ["1"], fields: ["V1:1", "V0:"], values: ["1", ""]), FetchedRow(key: ["3"], fields: ["V1:3", "N"], values: ["3", nil])]
        let found = RowComparison.compare(base: base, shadow: shadow, columnNames: ["id", "v"])
        #expect(found.map(\.kind) == [.changed, .changed, .extra])
        #expect(found[0].columns == ["v"])
    }

    @Test("durations accept ms, s and bare seconds")
    func durations() {
        #expect(DurationText.seconds("200ms") == 0.2)
        #expect(DurationText.seconds("2s") == 2)
        #expect(DurationText.seconds("0") == 0)
        #expect(DurationText.seconds("-1s") == nil)
    }
}
