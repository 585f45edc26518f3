import ShadowSQL
import Testing

/// (dialect, statement, expected effects)
let sessionCases: [(SQLDialect, String, [SessionEffect])] = [
    (.mysql, "SET @lane = 'gray'", [.setVariable(name: "lane", value: "gray", scope: .session)]),
    (.mysql, "set @lane := \"gray\"", [.setVariable(name: "lane", value: "gray", scope: .session)]),
    (.mysql, "SET @lane = NULL", [.setVariable(name: "lane", value: nil, scope: .session)]),
    (.mysql, "SET @a=1, @lane='x'", [
        .setVariable(name: "a", value: "1", scope: .session), .setVariable(name: "lane", value: "x", scope: .session),
    ]),
    (.mysql, "SET @`lane` = 'g\\'y'", [.setVariable(name: "lane", value: "g'y", scope: .session)]),
    (.mysql, "SET @a = (1, 2), @b = 'c'", [
        .setVariable(name: "a", value: "(1, 2)", scope: .session), .setVariable(name: "b", value: "c", scope: .session),
    ]),
    (.mysql, "SET NAMES utf8mb4", [.setCharacterSet("utf8mb4")]),
    (.mysql, "SET NAMES 'gbk' COLLATE 'gbk_bin'; SET CHARACTER SET latin1", [.setCharacterSet("gbk"), .setCharacterSet("latin1")]),
    (.mysql, "SET SESSION character_set_client = CONCAT('g', 'bk'), @lane = 'gray'",
     [.setCharacterSet(nil), .setVariable(name: "lane", value: "gray", scope: .session)]),
    (.mysql, "SET @@session.sql_mode = ''", [.setSQLMode("")]),
    (.mysql, "SET SESSION sql_mode = TRADITIONAL, @lane = 'gray'",
     [.setSQLMode("TRADITIONAL"), .setVariable(name: "lane", value: "gray", scope: .session)]),
    (.mysql, "set sql_mode := 'ANSI_QUOTES,NO_ZERO_DATE'", [.setSQLMode("ANSI_QUOTES,NO_ZERO_DATE")]),
    (.mysql, "SET sql_mode = CONCAT(@@sql_mode, ',ANSI')", [.setSQLMode(nil)]),
    (.mysql, "SET sql_mode = DEFAULT", [.setSQLMode("DEFAULT")]),
    (.mysql, "SET @@global.sql_mode = 'ANSI'; SET GLOBAL sql_mode = 'ANSI'", []),
    (.mysql, "SELECT 1; EXECUTE s USING @a", [.executePrepared]),
    (.mysql, "USE db", [.useDatabase("db")]),
    (.mysql, "use `my``db`", [.useDatabase("my`db")]),
    (.mysql, "SELECT 1; USE a; SET @lane='gray'", [
        .useDatabase("a"), .setVariable(name: "lane", value: "gray", scope: .session),
    ]),
    (.mysql, "SELECT 'SET @lane = 1'", []),
    (.postgres, "SET lane = 'gray'", [.setVariable(name: "lane", value: "gray", scope: .session)]),
    (.postgres, "SET SESSION lane TO gray", [.setVariable(name: "lane", value: "gray", scope: .session)]),
    (.postgres, "SET LOCAL Lane TO 'Gray'", [.setVariable(name: "lane", value: "Gray", scope: .local)]),
    (.postgres, "SET \"Lane\" = 'x'", [.setVariable(name: "Lane", value: "x", scope: .session)]),
    (.postgres, "SET app.lane = 'gray'", [.setVariable(name: "app.lane", value: "gray", scope: .session)]),
    (.postgres, "SET lane TO DEFAULT", [.setVariable(name: "lane", value: nil, scope: .session)]),
    (.postgres, "RESET lane", [.setVariable(name: "lane", value: nil, scope: .session)]),
    (.postgres, "RESET ALL", [.resetAll]),
    (.postgres, "DISCARD ALL", [.resetAll]),
    (.postgres, "DISCARD PLANS", []),
    (.postgres, "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", []),
    (.postgres, "SET search_path TO a, b", [.setVariable(name: "search_path", value: "a, b", scope: .session)]),
    (.postgres, "SELECT 1; SET lane = 'gray'", [.setVariable(name: "lane", value: "gray", scope: .session)]),
    // A statement that is not a session statement, with no ';' after it, ends the scan after its first token; a
    // ';' in a literal, a comment or a quoted name must not hide a later statement, nor invent one.
    (.postgres, "SELECT 'a;b' FROM t; SET lane = 'gray'", [.setVariable(name: "lane", value: "gray", scope: .session)]),
    (.postgres, "SELECT 1 /* ; */ ; SET lane = 'gray'", [.setVariable(name: "lane", value: "gray", scope: .session)]),
    (.postgres, "SELECT 'SET lane = 1;'", []),
    (.postgres, "SELECT 1 FROM \"a;b\" -- ; SET lane = 'x'", []),
    (.mysql, "(SELECT 1); SET @lane = 'gray'", [.setVariable(name: "lane", value: "gray", scope: .session)]),
    (.mysql, "/* lead */ SELECT 1; /* x */ USE b", [.useDatabase("b")]),
    (.mysql, "UPDATE t SET a = 1", []),
    (.mysql, "SELECT 1;", []),
    (.postgres, "SELECT 1; ;\n", []),
    (.postgres, "SELECT 1;\nSET lane = 'gray';\n", [.setVariable(name: "lane", value: "gray", scope: .session)]),
]

@Suite struct SessionStatementScannerTests {
    @Test("session statements produce their effects in order", arguments: sessionCases)
    func effects(_ dialect: SQLDialect, _ sql: String, _ expected: [SessionEffect]) {
        #expect(SessionStatementScanner.effects(in: sql, dialect: dialect) == expected)
    }
}
