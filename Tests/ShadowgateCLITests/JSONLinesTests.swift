import Testing

@Suite struct JSONLinesTests {
    func jsonl(_ lines: [String], flags: [String] = []) async -> CommandRun {
        await runShadowgate(["rewrite", "--config", demoConfig, "--jsonl"] + flags, stdinLines: lines)
    }

    @Test("each input line yields one output line, in order, echoing string and number ids")
    func orderAndIds() async {
        let run = await jsonl([
            #"{"id": 7, "dialect": "mysql", "lane": "base", "sql": "SELECT 1"}"#,
            #"{"id": "a-1", "dialect": "postgres", "lane": "base", "sql": "SELECT 2"}"#,
            #"{"id": 12345678901234567890, "dialect": "mysql", "lane": "base", "sql": "SELECT 3"}"#,
        ])
        #expect(run.exitCode == 0)
        #expect(run.stdout == """
            {"id":7,"sql":"SELECT 1"}
            {"id":"a-1","sql":"SELECT 2"}
            {"id":12345678901234567890,"sql":"SELECT 3"}

            """)
    }

    @Test("a malformed line yields an error line with a null id and processing continues")
    func malformedContinues() async {
        let run = await jsonl([
            "not json", #"{"id": 1, "sql": "SELECT 1"#, #"{"id": 2, "sql": ["x"]}"#, #"{"id": 3, "sql": "SELECT 3"}"#,
        ], flags: ["--lane", "base", "--dialect", "mysql"])
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix(#"{"id":null,"error":"line 1: malformed JSON"#))
        #expect(lines[1].hasPrefix(#"{"id":null,"error":"line 2: malformed JSON: unterminated string"#))
        #expect(lines[2].hasPrefix(#"{"id":null,"error":"line 3: malformed JSON: nested objects and arrays"#))
        #expect(lines[3] == #"{"id":3,"sql":"SELECT 3"}"#)
    }

    @Test("lane and dialect default to the flags; missing ones are an error for that line")
    func defaults() async {
        let run = await jsonl([#"{"id": 1, "sql": "SELECT 1"}"#, #"{"id": 2, "lane": "base", "sql": "SELECT 2"}"#], flags: ["--lane", "base"])
        #expect(run.stdout == """
            {"id":1,"error":"no \\"dialect\\" on the line and no --dialect default"}
            {"id":2,"error":"no \\"dialect\\" on the line and no --dialect default"}

            """)
        let withDialect = await jsonl([#"{"id": 1, "sql": "SELECT 1"}"#], flags: ["--lane", "base", "--dialect", "postgres"])
        #expect(withDialect.stdout == "{\"id\":1,\"sql\":\"SELECT 1\"}\n")
    }

    @Test("escapes and non-ASCII text survive the round trip")
    func escapes() async {
        let line = #"{"id": "\u00e9\ud83d\ude00", "lane": "base", "dialect": "mysql", "sql": "SELECT '\"\\\n\t\u0001é😀'"}"#
        let run = await jsonl([line])
        #expect(run.stdout == #"{"id":"é😀","sql":"SELECT '\"\\\n\t\u0001é😀'"}"# + "\n")
    }

    @Test("an unknown lane or dialect is an error for that line only")
    func badLaneOrDialect() async {
        let run = await jsonl([
            #"{"id": 1, "lane": "blue", "dialect": "mysql", "sql": "SELECT 1"}"#,
            #"{"id": 2, "lane": "base", "dialect": "oracle", "sql": "SELECT 1"}"#,
        ])
        #expect(run.stdout == """
            {"id":1,"error":"unknown lane 'blue'; configured lanes: base, gray, stress"}
            {"id":2,"error":"\\"dialect\\" must be mysql or postgres, found 'oracle'"}

            """)
    }

    // Needs the real SQL engine (SQLRewriter); fails while the engine is a placeholder.
    @Test("in lane gray a JSON line with the seed insert is answered with the shadow table")
    func seedRewriteJSONL() async {
        let run = await jsonl([#"{"id": 1, "lane": "gray", "dialect": "mysql", "sql": "INSERT INTO mse_demo_table(location) VALUES(?)"}"#])
        #expect(run.stdout == #"{"id":1,"sql":"INSERT INTO mse_demo_table_gray(location) VALUES(?)"}"# + "\n")
    }
}
