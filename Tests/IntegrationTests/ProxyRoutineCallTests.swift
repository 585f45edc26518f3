import DatabaseClients
import Foundation
import ShadowConfig
@testable import ShadowSQL
import Testing

/// Function calls in a lane, through the in-process proxies against the real servers: a stored function that writes
/// a base table is refused before it runs, built-ins and allowed routines run.
@Suite("Function calls in a lane against real servers", .serialized)
struct ProxyRoutineCallTests {
    @Test("MySQL: a lane's call of a stored function that writes base is refused and writes nothing; built-ins and allowed routines run")
    func mysqlStoredFunctions() async throws {
        try await MySQLTestProxy.with { proxy in
            let marker = TestEnvironment.uniqueName("fn")
            let direct = try proxy.direct()
            _ = try direct.execute("DROP FUNCTION IF EXISTS sg_write_base")
            _ = try direct.execute("DROP FUNCTION IF EXISTS sg_vouched")
            _ = try direct.execute("""
                CREATE FUNCTION sg_write_base(m VARCHAR(64)) RETURNS INT MODIFIES SQL DATA
                BEGIN INSERT INTO mse_demo.mse_demo_table (location) VALUES (m); RETURN 1; END
                """)
            _ = try direct.execute("CREATE FUNCTION sg_vouched(x INT) RETURNS INT DETERMINISTIC RETURN x * 2")
            defer {
                _ = try? direct.execute("DROP FUNCTION IF EXISTS sg_write_base")
                _ = try? direct.execute("DROP FUNCTION IF EXISTS sg_vouched")
                direct.close()
            }
            let lane = try proxy.connect(attributes: ["lane": "gray"])
            defer { lane.close() }
            for sql in [
                "SELECT sg_write_base('\(marker)')",
                "SELECT mse_demo.sg_write_base('\(marker)') FROM mse_demo_table LIMIT 1",
                "UPDATE mse_demo_table SET location = sg_write_base('\(marker)') WHERE 1 = 0",
            ] {
                let error = #expect(throws: DatabaseClientError.self, "\(sql)") { try lane.execute(sql) }
                #expect(error?.message.contains("sg_write_base' refused") == true, "\(sql)")
                #expect(error?.message.contains("lanes.gray.routines") == true)
            }
            #expect(try lane.query("SELECT sg_vouched(21), CONCAT('a', UPPER('b')), COUNT(*) >= 0 FROM mse_demo_table").rows.first
                == ["42", "aB", "1"])
            // A real driver gets the refusal as an ordinary server error and goes on using the connection.
            let script = """
            import os, pymysql
            c = pymysql.connect(host='127.0.0.1', port=int(os.environ['P_PORT']), user=os.environ['P_USER'],
                                password=os.environ['P_PASS'], database='mse_demo', defer_connect=True, autocommit=True)
            c._connect_attrs['lane'] = 'gray'
            c.connect()
            with c.cursor() as cur:
                try:
                    cur.execute("SELECT sg_write_base(%s)", (os.environ['P_MARKER'],))
                    print('not refused')
                except pymysql.err.MySQLError as e:
                    print('refused', e.args[0], 'sg_write_base' in e.args[1])
                cur.execute("SELECT sg_vouched(2)")
                print('after', cur.fetchone()[0])
            c.close()
            """
            let out = try MySQLPythonClient.run(script, environment: [
                "P_PORT": "\(proxy.port)", "P_USER": proxy.env.mysql.user, "P_PASS": proxy.env.mysql.password,
                "P_MARKER": marker,
            ])
            #expect(out.contains("refused 1105 True") && out.contains("after 4"), "\(out)")
            // The base lane is not checked: the same call runs there.
            let base = try proxy.connect()
            defer { base.close() }
            #expect(try base.query("SELECT sg_write_base('\(marker)-base')").scalar == "1")
            #expect(Int(try direct.query("SELECT COUNT(*) FROM mse_demo_table WHERE location = '\(marker)'").scalar ?? "") == 0)
            #expect(Int(try direct.query("SELECT COUNT(*) FROM mse_demo_table WHERE location = '\(marker)-base'").scalar ?? "") == 1)
        }
    }

    @Test("PostgreSQL: a lane's call of a function that writes base, or of pg_notify, is refused; built-ins and allowed routines run")
    func postgresFunctions() async throws {
        let lanes = [
            LaneConfiguration(
                name: "gray", mapping: LaneMapping(lane: "gray", tableSuffix: "_gray", allowedRoutines: ["public.sg_vouched"])),
        ]
        try await PostgresTestProxy.with(lanes: lanes) { proxy in
            let marker = postgresUniqueName("fn")
            _ = try proxy.server.direct("""
                CREATE OR REPLACE FUNCTION sg_write_base(m text) RETURNS int LANGUAGE sql AS
                $$ INSERT INTO mse_demo_table (location) VALUES (m) RETURNING 1 $$;
                CREATE OR REPLACE FUNCTION sg_vouched(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x * 2 $$
                """)
            defer { _ = try? proxy.server.direct("DROP FUNCTION IF EXISTS sg_write_base(text); DROP FUNCTION IF EXISTS sg_vouched(int)") }
            let lane = try proxy.connect(options: "-c shadow.lane=gray")
            defer { lane.close() }
            for (sql, name) in [
                ("SELECT sg_write_base('\(marker)')", "sg_write_base"),
                ("SELECT * FROM public.sg_write_base('\(marker)')", "public.sg_write_base"),
                ("SELECT pg_notify('orders', '\(marker)')", "pg_notify"),
            ] {
                let error = #expect(throws: DatabaseClientError.self, "\(sql)") { try lane.simpleQuery(sql) }
                #expect(error?.sqlState == "SG001")
                #expect(error?.message.contains("'\(name)' refused") == true, "\(sql)")
            }
            // An extended-protocol Parse is checked the same way.
            let parsed = #expect(throws: DatabaseClientError.self) { try lane.query("SELECT sg_write_base($1)", params: [marker]) }
            #expect(parsed?.message.contains("sg_write_base' refused") == true)
            #expect(try lane.simpleQuery("SELECT public.sg_vouched(21), lower('A'), count(*) >= 0 FROM mse_demo_table").rows.first
                == ["42", "a", "t"])
            #expect(try proxy.counts(marker) == ("0", "0"))
        }
    }

    @Test("PostgreSQL: with search_path putting public before pg_catalog, a user function shadowing a built-in is refused in a lane")
    func postgresShadowedBuiltin() async throws {
        let lanes = [LaneConfiguration(name: "gray", mapping: LaneMapping(lane: "gray", tableSuffix: "_gray"))]
        try await PostgresTestProxy.with(lanes: lanes) { proxy in
            let marker = postgresUniqueName("shadowfn")
            // public.upper(text, int) shadows nothing by default: pg_catalog is searched first unless named later.
            _ = try proxy.server.direct("""
                CREATE OR REPLACE FUNCTION public.sg_upper_probe() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
                CREATE OR REPLACE FUNCTION public.upper(m text) RETURNS text LANGUAGE sql AS
                $$ INSERT INTO mse_demo_table (location) VALUES (m) RETURNING m $$
                """)
            defer { _ = try? proxy.server.direct("DROP FUNCTION IF EXISTS public.upper(text); DROP FUNCTION IF EXISTS public.sg_upper_probe()") }
            let lane = try proxy.connect(options: "-c shadow.lane=gray")
            defer { lane.close() }
            #expect(try lane.simpleQuery("SELECT upper('\(marker)')").rows.first == [marker.uppercased()])
            try lane.simpleQuery("SET search_path = public, pg_catalog")
            let error = #expect(throws: DatabaseClientError.self) { try lane.simpleQuery("SELECT upper('\(marker)')") }
            #expect(error?.message.contains("'upper' refused") == true, "\(String(describing: error))")
            #expect(try lane.simpleQuery("SELECT pg_catalog.upper('\(marker)')").rows.first == [marker.uppercased()])
            try lane.simpleQuery("RESET search_path")
            #expect(try lane.simpleQuery("SELECT upper('\(marker)')").rows.first == [marker.uppercased()])
            #expect(try proxy.counts(marker) == ("0", "0"))
        }
    }

    @Test("every MariaDB built-in the lane lets through is a function the test server knows")
    func mariadbCatalogueMatchesTheServer() throws {
        let env = try TestEnvironment.load()
        let conn = try MariaDBConnection(configuration: env.mariaDB(shadow: false, database: "mse_demo", multiStatements: false))
        defer { conn.close() }
        var unknown: [String] = []
        for name in BuiltinRoutines.mariadbNativeNames.split(whereSeparator: \.isWhitespace).map(String.init) where name != "json_table" {
            // 1305 (FUNCTION mse_demo.name does not exist) means the server took the name for a stored function.
            // Some grammar-level built-ins exist only with their own argument count (POINT(x, y)): try 0 to 3.
            let known = (0...3).contains { count in
                let arguments = Array(repeating: "1", count: count).joined(separator: ", ")
                do {
                    _ = try conn.query("SELECT \(name)(\(arguments))")
                    return true
                } catch let error as DatabaseClientError {
                    return error.serverErrorNumber != 1305
                } catch {
                    return false
                }
            }
            if !known { unknown.append(name) }
        }
        #expect(unknown.isEmpty, "not built-in on this server: \(unknown)")
    }

    @Test("the PostgreSQL catalogue is exactly the test server's pg_catalog function names")
    func postgresCatalogueMatchesTheServer() throws {
        let server = try PostgresTestServer.fromEnvironment()
        let names = Set(try server.direct(
            "SELECT DISTINCT proname FROM pg_proc WHERE pronamespace = 'pg_catalog'::regnamespace"
        ).split(separator: "\n").map(String.init))
        let catalogue = Set(BuiltinRoutines.postgresCatalogNames.split(whereSeparator: \.isWhitespace).map(String.init))
        #expect(names.subtracting(catalogue).sorted() == [], "regenerate with scripts/routines/postgres_builtins.py")
        #expect(catalogue.subtracting(names).sorted() == [])
    }
}
