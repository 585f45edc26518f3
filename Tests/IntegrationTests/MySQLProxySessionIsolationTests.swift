import DatabaseClients
import Foundation
import NIOCore
import ShadowConfig
import Testing

/// Session state that decides where a lane statement runs, through the in-process proxy against MariaDB: the
/// database a database-level lane selected, COM_CHANGE_USER's database, NO_BACKSLASH_ESCAPES and ANSI_QUOTES.
@Suite struct MySQLProxySessionIsolationTests {
    func count(_ conn: MariaDBConnection, _ table: String, location: String) throws -> Int {
        Int(try conn.query("SELECT COUNT(*) FROM \(table) WHERE location = '\(location)'").scalar ?? "") ?? -1
    }

    func insert(_ marker: String, hint: String = "") -> String {
        "\(hint)INSERT INTO mse_demo_table (location) VALUES ('\(marker)')"
    }

    @Test("a database-lane hint or SET @lane on a base connection, and a base hint on a database-lane connection, are refused and write no database")
    func databaseLaneIsConnectionLevel() async throws {
        try await MySQLTestProxy.with { proxy in
            let marker = TestEnvironment.uniqueName("dbhint")
            let base = try proxy.connect()
            for sql in [insert(marker, hint: "/* lane=dbgray */ "), "SET @lane = 'dbgray'"] {
                let error = #expect(throws: DatabaseClientError.self) { try base.execute(sql) }
                #expect(error?.message.contains("database-level lanes are connection-level") == true, "\(sql)")
                #expect(error?.sqlState == "HY000")
            }
            #expect(try base.query("SELECT DATABASE()").scalar == "mse_demo")
            let lane = try proxy.connect(attributes: ["lane": "dbgray"])
            let reverse = #expect(throws: DatabaseClientError.self) { try lane.execute(insert(marker, hint: "/* lane=base */ ")) }
            #expect(reverse?.message.contains("selected in lane 'dbgray'") == true)
            // Both connections stay usable.
            #expect(try base.query("SELECT 1").scalar == "1")
            #expect(try lane.query("SELECT DATABASE()").scalar == "mse_demo_gray")
            base.close()
            lane.close()
            let direct = try proxy.direct()
            #expect(try count(direct, "mse_demo.mse_demo_table", location: marker) == 0)
            #expect(try count(direct, "mse_demo_gray.mse_demo_table", location: marker) == 0)
        }
    }

    @Test("USE sent alone with a database-lane hint moves a base connection to the shadow database; hinted writes land there, base writes only after USE in base")
    func hintedUseMovesTheConnection() async throws {
        try await MySQLTestProxy.with { proxy in
            let gray = TestEnvironment.uniqueName("dbuseg"), base = TestEnvironment.uniqueName("dbuseb")
            let conn = try proxy.connect()
            _ = try conn.execute("/* lane=dbgray */ USE mse_demo")
            #expect(try conn.query("/* lane=dbgray */ SELECT DATABASE()").scalar == "mse_demo_gray")
            #expect(try conn.execute(insert(gray, hint: "/* lane=dbgray */ ")) == 1)
            let refused = #expect(throws: DatabaseClientError.self) { try conn.execute(insert(base)) }
            #expect(refused?.message.contains("database-level lanes are connection-level") == true)
            _ = try conn.execute("USE mse_demo")
            #expect(try conn.execute(insert(base)) == 1)
            conn.close()
            let direct = try proxy.direct()
            #expect(try count(direct, "mse_demo_gray.mse_demo_table", location: gray) == 1)
            #expect(try count(direct, "mse_demo.mse_demo_table", location: gray) == 0)
            #expect(try count(direct, "mse_demo.mse_demo_table", location: base) == 1)
            #expect(try count(direct, "mse_demo_gray.mse_demo_table", location: base) == 0)
        }
    }

    @Test("COM_CHANGE_USER on a database-lane connection selects the shadow database, and without a database none")
    func changeUserFollowsTheDatabaseLane() async throws {
        try await MySQLTestProxy.with { proxy in
            let marker = TestEnvironment.uniqueName("dbchange")
            let conn = try proxy.connect(attributes: ["lane": "dbgray"])
            try conn.changeUser(proxy.env.mysql.user, password: proxy.env.mysql.password, database: "mse_demo")
            #expect(try conn.query("SELECT DATABASE()").scalar == "mse_demo_gray")
            #expect(try conn.execute(insert(marker)) == 1)
            try conn.changeUser(proxy.env.mysql.user, password: proxy.env.mysql.password, database: nil)
            #expect(try conn.query("SELECT DATABASE()").scalar == nil)
            conn.close()
            let direct = try proxy.direct()
            #expect(try count(direct, "mse_demo_gray.mse_demo_table", location: marker) == 1)
            #expect(try count(direct, "mse_demo.mse_demo_table", location: marker) == 0)
        }
    }

    @Test("with NO_BACKSLASH_ESCAPES set through the proxy, gray statements with a backslash are refused and hide no base write; after SET sql_mode='' they run")
    func noBackslashEscapesInALane() async throws {
        try await MySQLTestProxy.with { proxy in
            let victim = TestEnvironment.uniqueName("nbevictim"), gray = TestEnvironment.uniqueName("nbegray")
            let direct = try proxy.direct()
            _ = try direct.execute(insert(victim))
            let conn = try proxy.connect(attributes: ["lane": "gray"], multiStatements: true)
            // Changing the mode inside a multi-statement query with a backslash is refused before the mode is on.
            let attack = #"SELECT '\'; DELETE FROM mse_demo_table WHERE location = '\#(victim)'; -- '"#
            let inline = #expect(throws: DatabaseClientError.self) { try conn.queryAll("SET sql_mode = 'NO_BACKSLASH_ESCAPES'; " + attack) }
            #expect(inline?.message.contains("may change sql_mode") == true)
            _ = try conn.execute("SET sql_mode = 'NO_BACKSLASH_ESCAPES'")
            for sql in [attack, #"INSERT INTO mse_demo_table (location) VALUES ('\#(gray)\\')"#] {
                let error = #expect(throws: DatabaseClientError.self) { try conn.queryAll(sql) }
                #expect(error?.message.contains("NO_BACKSLASH_ESCAPES") == true, "\(sql)")
            }
            let prepare = #expect(throws: DatabaseClientError.self) { try conn.prepare(#"SELECT '\' FROM mse_demo_table WHERE id = ?"#) }
            #expect(prepare?.message.contains("NO_BACKSLASH_ESCAPES") == true)
            // Text without a backslash reads the same in both modes and is rewritten as usual.
            #expect(try conn.execute(insert(gray + "-plain")) == 1)
            _ = try conn.execute("SET sql_mode = ''")
            #expect(try conn.execute(#"INSERT INTO mse_demo_table (location) VALUES ('\#(gray)\\')"#) == 1)
            conn.close()
            #expect(try count(direct, "mse_demo_table", location: victim) == 1)
            #expect(try count(direct, "mse_demo_table_gray", location: gray + "-plain") == 1)
            #expect(try count(direct, "mse_demo_table_gray", location: gray + #"\\"#) == 1)
            #expect(try count(direct, "mse_demo_table", location: gray + #"\\"#) == 0)
            #expect(try count(direct, "mse_demo_table", location: gray + "-plain") == 0)
        }
    }

    @Test("with ANSI_QUOTES set through the proxy, a gray statement with a double quote is refused and hides no base write; after SET sql_mode=DEFAULT it runs")
    func ansiQuotesInALane() async throws {
        try await MySQLTestProxy.with { proxy in
            let victim = TestEnvironment.uniqueName("ansivictim")
            let direct = try proxy.direct()
            _ = try direct.execute(insert(victim))
            let conn = try proxy.connect(attributes: ["lane": "gray"], multiStatements: true)
            // To the server under ANSI_QUOTES `"a\"` is a name and the DELETE a statement of its own; to a lexer
            // that reads "…" as a string, it is all one string.
            let attack = #"SELECT 1 AS "a\" FROM DUAL; DELETE FROM mse_demo_table WHERE location = '\#(victim)'; -- ""#
            _ = try conn.execute("SET sql_mode = 'ANSI_QUOTES'")
            let error = #expect(throws: DatabaseClientError.self) { try conn.queryAll(attack) }
            #expect(error?.message.contains("ANSI_QUOTES") == true, "\(String(describing: error))")
            #expect(try count(direct, "mse_demo_table", location: victim) == 1)
            // Without a double quote the statement is rewritten as usual; after the mode is reset, quotes pass.
            #expect(try conn.query("SELECT COUNT(*) >= 0 FROM mse_demo_table").scalar == "1")
            _ = try conn.execute("SET sql_mode = DEFAULT")
            #expect(try conn.queryAll(#"SELECT "x" FROM mse_demo_table LIMIT 1"#).count == 1)
            conn.close()
            #expect(try count(direct, "mse_demo_table", location: victim) == 1)
        }
    }

    @Test("with NO_BACKSLASH_ESCAPES set, base-lane statements with a backslash still reach the server unchanged")
    func noBackslashEscapesInBase() async throws {
        try await MySQLTestProxy.with { proxy in
            let conn = try proxy.connect()
            _ = try conn.execute("SET sql_mode = 'NO_BACKSLASH_ESCAPES'")
            #expect(try conn.query(#"SELECT 'a\b'"#).scalar == #"a\b"#)
            #expect(try conn.query(#"SELECT LENGTH('\\')"#).scalar == "2")
            conn.close()
        }
    }
}

/// The connection character set, through the in-process proxy against MariaDB.
@Suite struct MySQLProxyCharsetTests {
    @Test("in a gbk connection a gray statement with non-ASCII bytes is refused and writes nothing; utf8mb4 passes it")
    func gbkConnectionRefusesNonASCII() async throws {
        try await MySQLTestProxy.with { proxy in
            let marker = TestEnvironment.uniqueName("gbk")
            let out = try MySQLPythonClient.run("""
                import os, pymysql
                def conn(charset):
                    c = pymysql.connect(host='127.0.0.1', port=int(os.environ['P_PORT']), user=os.environ['P_USER'],
                                        password=os.environ['P_PASS'], database='mse_demo', charset=charset,
                                        autocommit=True, defer_connect=True)
                    c._connect_attrs['lane'] = 'gray'
                    c.connect()
                    return c
                marker = os.environ['MARKER']
                for charset in ['gbk', 'utf8mb4']:
                    c = conn(charset)
                    try:
                        with c.cursor() as cur:
                            cur.execute("INSERT INTO mse_demo_table (location) VALUES (%s)", (marker + '-é',))
                        print(charset, 'ok')
                    except pymysql.err.MySQLError as e:
                        print(charset, 'refused', 'character set is gbk' in str(e), str(e)[:200])
                """, environment: [
                    "P_PORT": "\(proxy.port)", "P_USER": proxy.env.mysql.user, "P_PASS": proxy.env.mysql.password,
                    "MARKER": marker,
                ])
            #expect(out.contains("gbk refused True"), "\(out)")
            #expect(out.contains("utf8mb4 ok"), "\(out)")
            let direct = try proxy.direct()
            #expect(Int(try direct.query("SELECT COUNT(*) FROM mse_demo.mse_demo_table WHERE location LIKE '\(marker)%'").scalar ?? "") == 0)
            #expect(Int(try direct.query("SELECT COUNT(*) FROM mse_demo.mse_demo_table_gray WHERE location LIKE '\(marker)%'").scalar ?? "") == 1)
        }
    }
}
