import DatabaseClients
import Foundation
import NIOCore
import ShadowConfig
import Testing

/// The MySQL proxy in-process in front of the real MariaDB servers, driven by real clients.
@Suite struct MySQLProxyTests {
    func withProxy<T>(backend: Endpoint? = nil, tls: TLSFiles? = nil, _ body: (MySQLTestProxy) async throws -> T) async throws -> T {
        try await MySQLTestProxy.with(backend: backend, tls: tls, body)
    }

    func count(_ conn: MariaDBConnection, _ table: String, location: String) throws -> Int {
        Int(try conn.query("SELECT COUNT(*) FROM \(table) WHERE location = '\(location)'").scalar ?? "") ?? -1
    }

    @Test("a base-lane INSERT through the proxy lands in the base table and not in the shadow")
    func baseLaneInsert() async throws {
        try await withProxy { proxy in
            let marker = TestEnvironment.uniqueName("base")
            let conn = try proxy.connect()
            #expect(try conn.execute("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')") == 1)
            conn.close()
            let direct = try proxy.direct()
            #expect(try count(direct, "mse_demo_table", location: marker) == 1)
            #expect(try count(direct, "mse_demo_table_gray", location: marker) == 0)
        }
    }

    @Test("an INSERT with connection attribute lane=gray lands in mse_demo_table_gray and not in mse_demo_table")
    func seedScenarioGrayAttribute() async throws {
        try await withProxy { proxy in
            let marker = TestEnvironment.uniqueName("gray")
            let conn = try proxy.connect(attributes: ["lane": "gray"])
            #expect(try conn.execute("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')") == 1)
            #expect(try count(conn, "mse_demo_table", location: marker) == 1)  // reads are rewritten too
            conn.close()
            let direct = try proxy.direct()
            #expect(try count(direct, "mse_demo_table_gray", location: marker) == 1)
            #expect(try count(direct, "mse_demo_table", location: marker) == 0)
        }
    }

    @Test("PyMySQL with connection attribute lane=gray writes the shadow table, without it the base table")
    func pyMySQLSeedScenario() async throws {
        try await withProxy { proxy in
            let gray = TestEnvironment.uniqueName("pygray"), base = TestEnvironment.uniqueName("pybase")
            let script = """
            import os, pymysql
            def run(lane, marker):
                c = pymysql.connect(host='127.0.0.1', port=int(os.environ['P_PORT']), user=os.environ['P_USER'],
                                    password=os.environ['P_PASS'], database='mse_demo', defer_connect=True, autocommit=True)
                if lane: c._connect_attrs['lane'] = lane
                c.connect()
                with c.cursor() as cur:
                    cur.execute("INSERT INTO mse_demo_table (location) VALUES (%s)", (marker,))
                c.close()
            run('gray', os.environ['P_GRAY'])
            run(None, os.environ['P_BASE'])
            print('ok')
            """
            let out = try MySQLPythonClient.run(script, environment: [
                "P_PORT": "\(proxy.port)", "P_USER": proxy.env.mysql.user, "P_PASS": proxy.env.mysql.password,
                "P_GRAY": gray, "P_BASE": base,
            ])
            #expect(out.contains("ok"))
            let direct = try proxy.direct()
            #expect(try count(direct, "mse_demo_table_gray", location: gray) == 1)
            #expect(try count(direct, "mse_demo_table", location: gray) == 0)
            #expect(try count(direct, "mse_demo_table", location: base) == 1)
        }
    }

    @Test("a connection labelled with a database-level lane uses the shadow database given at the handshake")
    func databaseLaneAtHandshake() async throws {
        try await withProxy { proxy in
            let marker = TestEnvironment.uniqueName("dblane")
            let conn = try proxy.connect(attributes: ["lane": "dbgray"])
            #expect(try conn.query("SELECT DATABASE()").scalar == "mse_demo_gray")
            #expect(try conn.execute("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')") == 1)
            conn.close()
            let direct = try proxy.direct()
            #expect(try count(direct, "mse_demo_gray.mse_demo_table", location: marker) == 1)
            #expect(try count(direct, "mse_demo.mse_demo_table", location: marker) == 0)
        }
    }

    @Test("in a database-level lane, USE of the mapped database inside a multi-statement query is refused and writes nothing")
    func databaseLaneUseInMultiStatementRefused() async throws {
        try await withProxy { proxy in
            let marker = TestEnvironment.uniqueName("dbmulti")
            let conn = try proxy.connect(attributes: ["lane": "dbgray"], multiStatements: true)
            for sql in [
                "USE mse_demo; INSERT INTO mse_demo_table (location) VALUES ('\(marker)')",
                "SET @a = 1; USE mse_demo; INSERT INTO mse_demo_table (location) VALUES ('\(marker)')",
            ] {
                let error = #expect(throws: DatabaseClientError.self) { try conn.execute(sql) }
                #expect(error?.message.contains("statement of its own") == true)
            }
            // The connection is still usable and still in the shadow database; USE alone follows the lane.
            #expect(try conn.query("SELECT DATABASE()").scalar == "mse_demo_gray")
            _ = try conn.execute("USE mse_demo")
            #expect(try conn.execute("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')") == 1)
            conn.close()
            let direct = try proxy.direct()
            #expect(try count(direct, "mse_demo.mse_demo_table", location: marker) == 0)
            #expect(try count(direct, "mse_demo_gray.mse_demo_table", location: marker) == 1)
        }
    }

    @Test("an unknown lane in the connection attribute rejects the connection naming the configured lanes")
    func unknownLaneAttribute() async throws {
        try await withProxy { proxy in
            let error = #expect(throws: DatabaseClientError.self) { try proxy.connect(attributes: ["lane": "purple"]) }
            #expect(error?.message.contains("unknown lane 'purple'") == true)
            #expect(error?.message.contains("gray") == true)
            #expect(error?.serverErrorNumber == 1105)
        }
    }

    @Test("the login user gray_app puts the connection in lane gray")
    func userLane() async throws {
        try await withProxy { proxy in
            let marker = TestEnvironment.uniqueName("user")
            let conn = try proxy.connect(user: "gray_app", password: "gray-pass")
            #expect(try conn.execute("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')") == 1)
            conn.close()
            let direct = try proxy.direct()
            #expect(try count(direct, "mse_demo_table_gray", location: marker) == 1)
            #expect(try count(direct, "mse_demo_table", location: marker) == 0)
        }
    }

    @Test("a statement hint sends one statement to the gray lane, a base hint forces base, an unknown lane is refused")
    func hintLabelledStatements() async throws {
        try await withProxy { proxy in
            let gray = TestEnvironment.uniqueName("hintg"), base = TestEnvironment.uniqueName("hintb")
            let conn = try proxy.connect()
            let hint = #expect(throws: DatabaseClientError.self) { try conn.query("/* lane=purple */ SELECT 1") }
            #expect(hint?.message.contains("unknown lane 'purple'") == true)
            try conn.execute("/* lane=gray */ INSERT INTO mse_demo_table (location) VALUES ('\(gray)')")
            conn.close()
            let grayConn = try proxy.connect(attributes: ["lane": "gray"])
            try grayConn.execute("/* lane=base */ INSERT INTO mse_demo_table (location) VALUES ('\(base)')")
            grayConn.close()
            let direct = try proxy.direct()
            #expect(try count(direct, "mse_demo_table_gray", location: gray) == 1)
            #expect(try count(direct, "mse_demo_table", location: gray) == 0)
            #expect(try count(direct, "mse_demo_table", location: base) == 1)
            #expect(try count(direct, "mse_demo_table_gray", location: base) == 0)
        }
    }

    @Test("SET @lane='gray' switches the session to gray and SET @lane='base' switches it back")
    func sessionSwitch() async throws {
        try await withProxy { proxy in
            let gray = TestEnvironment.uniqueName("sesg"), base = TestEnvironment.uniqueName("sesb")
            let conn = try proxy.connect()
            try conn.execute("SET @lane = 'gray'")
            try conn.execute("INSERT INTO mse_demo_table (location) VALUES ('\(gray)')")
            try conn.execute("SET @lane = 'base'")
            try conn.execute("INSERT INTO mse_demo_table (location) VALUES ('\(base)')")
            conn.close()
            let direct = try proxy.direct()
            #expect(try count(direct, "mse_demo_table_gray", location: gray) == 1)
            #expect(try count(direct, "mse_demo_table", location: gray) == 0)
            #expect(try count(direct, "mse_demo_table", location: base) == 1)
        }
    }

    @Test("a refused statement answers with an ERR and the same connection keeps working")
    func refusalKeepsConnection() async throws {
        try await withProxy { proxy in
            let conn = try proxy.connect(attributes: ["lane": "strict"])
            let marker = TestEnvironment.uniqueName("refused")
            let error = #expect(throws: DatabaseClientError.self) {
                try conn.execute("INSERT INTO mse_orders (item) VALUES ('\(marker)')")
            }
            #expect(error?.serverErrorNumber == 1142)
            #expect(error?.message.contains("strict") == true)
            #expect(error?.message.contains("mse_orders") == true)
            #expect(try conn.query("SELECT 41 + 1").scalar == "42")
            let prepare = #expect(throws: DatabaseClientError.self) { try conn.prepare("DELETE FROM mse_orders WHERE id = ?") }
            #expect(prepare?.serverErrorNumber == 1142)
            #expect(try conn.query("SELECT 'still here'").scalar == "still here")
            #expect(try proxy.direct().query("SELECT COUNT(*) FROM mse_orders WHERE item = '\(marker)'").scalar == "0")
        }
    }

    @Test("binary-protocol prepared statements prepare, execute with parameters, read rows and close")
    func preparedStatements() async throws {
        try await withProxy { proxy in
            let marker = TestEnvironment.uniqueName("prep")
            let conn = try proxy.connect()
            let insert = try conn.prepare("INSERT INTO mse_demo_table (location) VALUES (?)")
            for i in 0..<3 { #expect(try insert.execute(params: [.text("\(marker)-\(i)")]).affectedRows == 1) }
            insert.close()
            let select = try conn.prepare("SELECT id, location FROM mse_demo_table WHERE location LIKE ? ORDER BY id")
            let result = try select.execute(params: [.text("\(marker)-%")])
            #expect(result.rows.map { $0[1] } == ["\(marker)-0", "\(marker)-1", "\(marker)-2"])
            let again = try select.execute(params: [.text("nothing-\(marker)")])
            #expect(again.rows.isEmpty)
            select.close()
            #expect(try conn.query("SELECT 1").scalar == "1")
        }
    }

    @Test("a statement prepared in gray inserts into the shadow table and cannot run after switching to base")
    func preparedStatementKeepsLane() async throws {
        try await withProxy { proxy in
            let marker = TestEnvironment.uniqueName("preplane")
            let conn = try proxy.connect()
            try conn.execute("SET @lane = 'gray'")
            let insert = try conn.prepare("INSERT INTO mse_demo_table (location) VALUES (?)")
            #expect(try insert.execute(params: [.text(marker)]).affectedRows == 1)
            try conn.execute("SET @lane = 'base'")
            let error = #expect(throws: DatabaseClientError.self) { try insert.execute(params: [.text(marker)]) }
            #expect(error?.message.contains("prepared in lane 'gray'") == true)
            insert.close()
            #expect(try conn.query("SELECT 2").scalar == "2")
            let direct = try proxy.direct()
            #expect(try count(direct, "mse_demo_table_gray", location: marker) == 1)
            #expect(try count(direct, "mse_demo_table", location: marker) == 0)
        }
    }

    @Test("multi-statement text returns every result in order through the proxy")
    func multiStatements() async throws {
        try await withProxy { proxy in
            let marker = TestEnvironment.uniqueName("multi")
            let conn = try proxy.connect(multiStatements: true)
            let results = try conn.queryAll(
                "INSERT INTO mse_demo_table (location) VALUES ('\(marker)'); SELECT location FROM mse_demo_table WHERE location = '\(marker)'; SELECT 7; DO 1")
            #expect(results.count == 4)
            #expect(results[0].affectedRows == 1)
            #expect(results[1].scalar == marker)
            #expect(results[2].scalar == "7")
            #expect(try conn.query("SELECT 'after'").scalar == "after")
        }
    }

    @Test("a rolled-back transaction leaves nothing and a committed one keeps its row")
    func transactions() async throws {
        try await withProxy { proxy in
            let rolled = TestEnvironment.uniqueName("rb"), committed = TestEnvironment.uniqueName("cm")
            let conn = try proxy.connect()
            try conn.execute("START TRANSACTION")
            try conn.execute("INSERT INTO mse_demo_table (location) VALUES ('\(rolled)')")
            try conn.execute("ROLLBACK")
            try conn.execute("BEGIN")
            try conn.execute("INSERT INTO mse_demo_table (location) VALUES ('\(committed)')")
            try conn.execute("COMMIT")
            let direct = try proxy.direct()
            #expect(try count(direct, "mse_demo_table", location: rolled) == 0)
            #expect(try count(direct, "mse_demo_table", location: committed) == 1)
        }
    }
}
