import Foundation
import ShadowConfig
import ShadowProxy
import ShadowSQL
import Testing

/// The PostgreSQL proxy in-process in front of the real PostgreSQL 15 servers, driven by real clients.
@Suite("PostgreSQL proxy against real servers", .serialized)
struct PostgresProxyIntegrationTests {
    static let grayLane = LaneConfiguration(
        name: "gray", mapping: LaneMapping(lane: "gray", tableSuffix: "_gray"))
    static let grayDatabaseLane = LaneConfiguration(
        name: "graydb",
        mapping: LaneMapping(lane: "graydb", databases: ["mse_demo": "mse_demo_gray"], unmappedWrites: .pass))

    /// A lane with only an explicit map: every other table is unmapped, so writes to it are refused.
    static let strictLane = LaneConfiguration(
        name: "strict", mapping: LaneMapping(lane: "strict", tables: ["mse_demo_table": "mse_demo_table_gray"]))

    func withProxy(
        lanes: [LaneConfiguration] = [grayLane, grayDatabaseLane, strictLane], tls: Bool = false, backendTLS: Bool = false,
        _ body: (PostgresTestProxy) async throws -> Void
    ) async throws {
        let server = try PostgresTestServer.fromEnvironment()
        var lanes = lanes
        lanes.append(
            LaneConfiguration(
                name: "shadowsrv", mapping: LaneMapping(lane: "shadowsrv", unmappedWrites: .pass),
                backends: ["orders-pg": Endpoint(host: server.host, port: server.shadowPort)]))
        try await PostgresTestProxy.with(server: server, lanes: lanes, tls: tls, backendTLS: backendTLS, body)
    }

    @Test("a base-lane insert through the proxy lands in the base table")
    func baseLaneInsert() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("base")
            try proxy.psql("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')")
            #expect(try proxy.server.direct("SELECT count(*) FROM mse_demo_table WHERE location = '\(marker)'") == "1")
            #expect(try proxy.server.direct("SELECT count(*) FROM mse_demo_table_gray WHERE location = '\(marker)'") == "0")
        }
    }

    @Test(
        "every authentication method is relayed",
        arguments: [
            ("shadow", "shadow-pass"), ("shadow_md5", "md5-pass"), ("shadow_password", "plain-pass"),
            ("shadow_trust", ""),
        ])
    func authenticationMethods(user: String, password: String) async throws {
        try await withProxy { proxy in
            let current = try proxy.psql("SELECT current_user", user: user, password: password)
            #expect(current == user)
        }
    }

    @Test("a wrong password is rejected by the server through the proxy")
    func wrongPassword() async throws {
        try await withProxy { proxy in
            #expect(throws: (any Error).self) { try proxy.psql("SELECT 1", user: "shadow_md5", password: "nope") }
        }
    }

    @Test("a connection labelled with a database-redirect lane lands in the shadow database")
    func databaseRedirect() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("graydb")
            try proxy.psql(
                "INSERT INTO mse_demo_table (location) VALUES ('\(marker)')", extra: "options='-c shadow.lane=graydb'")
            #expect(
                try proxy.server.direct(
                    "SELECT count(*) FROM mse_demo_table WHERE location = '\(marker)'", database: "mse_demo_gray") == "1")
            #expect(try proxy.server.direct("SELECT count(*) FROM mse_demo_table WHERE location = '\(marker)'") == "0")
            #expect(try proxy.psql("SELECT current_database()", extra: "options='--shadow.lane=graydb'") == "mse_demo_gray")
        }
    }

    @Test("a connection labelled with a lane that has its own server talks to that server")
    func laneBackend() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("shadowsrv")
            try proxy.psql(
                "INSERT INTO mse_demo_table (location) VALUES ('\(marker)')", extra: "options='-c shadow.lane=shadowsrv'")
            #expect(
                try proxy.server.direct(
                    "SELECT count(*) FROM mse_demo_table WHERE location = '\(marker)'", port: proxy.server.shadowPort)
                    == "1")
            #expect(try proxy.server.direct("SELECT count(*) FROM mse_demo_table WHERE location = '\(marker)'") == "0")
        }
    }

    @Test("an unknown lane label rejects the connection naming the configured lanes")
    func unknownLane() async throws {
        try await withProxy { proxy in
            do {
                try proxy.psql("SELECT 1", extra: "options='-c shadow.lane=purple'")
                Issue.record("connection with an unknown lane was accepted")
            } catch {
                #expect("\(error)".contains("unknown lane \"purple\""))
                #expect("\(error)".contains("gray"))
            }
        }
    }

    @Test("a failed statement aborts the transaction and nothing of it is committed")
    func abortedTransaction() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("abort")
            let output = try PostgresClientProcess.psqlScript(
                conninfo: proxy.conninfo(), password: proxy.server.password,
                script: """
                    BEGIN;
                    INSERT INTO mse_demo_table (location) VALUES ('\(marker)');
                    SELECT 1/0;
                    SELECT 2;
                    COMMIT;
                    SELECT 'after';
                    """)
            #expect(output.stderr.contains("division by zero"))
            #expect(output.stderr.contains("current transaction is aborted"))
            #expect(output.stdout.contains("after"))
            #expect(try proxy.server.direct("SELECT count(*) FROM mse_demo_table WHERE location = '\(marker)'") == "0")
        }
    }

    @Test("COPY FROM STDIN and COPY TO STDOUT pass through the proxy")
    func copyInAndOut() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("copy")
            let rows = (1...500).map { "\(marker)-\($0)" }.joined(separator: "\n") + "\n"
            try PostgresClientProcess.psql(
                conninfo: proxy.conninfo(), password: proxy.server.password,
                sql: "COPY mse_demo_table (location) FROM STDIN", stdin: rows)
            #expect(
                try proxy.server.direct("SELECT count(*) FROM mse_demo_table WHERE location LIKE '\(marker)-%'") == "500")
            let out = try proxy.psql(
                "COPY (SELECT location FROM mse_demo_table WHERE location LIKE '\(marker)-%' ORDER BY id) TO STDOUT")
            #expect(out.split(separator: "\n").count == 500)
        }
    }

    @Test("large results stream through the proxy intact")
    func largeResult() async throws {
        try await withProxy { proxy in
            let out = try proxy.psql("SELECT md5(i::text) || repeat('x', 900) FROM generate_series(1, 30000) AS i")
            let lines = out.split(separator: "\n")
            #expect(lines.count == 30000)
            #expect(lines.allSatisfy { $0.utf8.count == 932 })
        }
    }

    @Test("TLS from the client is terminated by the proxy (sslmode=require)")
    func clientTLS() async throws {
        try await withProxy(tls: true) { proxy in
            let conninfo = proxy.conninfo().replacingOccurrences(of: "sslmode=disable", with: "sslmode=require")
            let output = try PostgresClientProcess.psqlScript(
                conninfo: conninfo, password: proxy.server.password, script: "\\conninfo\nSELECT current_user;\n")
            #expect(output.status == 0, "\(output.stderr)")
            #expect(output.stdout.contains("SSL connection"))
            #expect(output.stdout.contains("shadow"))
        }
    }

    @Test("TLS towards the backend is negotiated with SSLRequest when configured")
    func backendTLS() async throws {
        try await withProxy(backendTLS: true) { proxy in
            let ssl = try proxy.psql("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            #expect(ssl == "t")
        }
    }

    @Test("psycopg2 runs parameterised statements and cancels pg_sleep through the proxy")
    func psycopgAndCancel() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("psycopg")
            let script = """
                import sys, threading, time, psycopg2
                conn = psycopg2.connect(sys.argv[1], password=sys.argv[2])
                cur = conn.cursor()
                cur.execute("INSERT INTO mse_demo_table (location) VALUES (%s)", (sys.argv[3],))
                conn.commit()
                threading.Timer(0.5, conn.cancel).start()
                start = time.time()
                try:
                    cur.execute("SELECT pg_sleep(10)")
                    print("not-cancelled")
                except psycopg2.errors.QueryCanceled:
                    conn.rollback()
                    print("cancelled %.1f" % (time.time() - start))
                cur.execute("SELECT 42")
                print("after", cur.fetchone()[0])
                """
            let output = try PostgresClientProcess.run(
                "python3", ["-c", script, proxy.conninfo(), proxy.server.password, marker])
            #expect(output.status == 0, "\(output.stderr)")
            #expect(output.stdout.contains("cancelled"))
            #expect(output.stdout.contains("after 42"))
            if let line = output.stdout.split(separator: "\n").first(where: { $0.hasPrefix("cancelled") }),
                let seconds = Double(line.split(separator: " ")[1])
            {
                #expect(seconds < 5)
            }
            #expect(try proxy.server.direct("SELECT count(*) FROM mse_demo_table WHERE location = '\(marker)'") == "1")
        }
    }

    @Test("pgbench runs in simple, extended and prepared modes through the proxy", arguments: ["simple", "extended", "prepared"])
    func pgbenchBaseLane(mode: String) async throws {
        try await withProxy { proxy in
            let database = postgresUniqueName("pgbench")
            try proxy.server.direct("CREATE DATABASE \(database)", database: "postgres")
            defer { _ = try? proxy.server.direct("DROP DATABASE \(database) WITH (FORCE)", database: "postgres") }
            let env = ["PGPASSWORD": proxy.server.password]
            let initialize = try PostgresClientProcess.run(
                "pgbench", ["-i", "-q", "-h", proxy.server.host, "-p", "\(proxy.server.port)", "-U", proxy.server.user, database],
                environment: env)
            #expect(initialize.status == 0, "\(initialize.stderr)")
            let run = try PostgresClientProcess.run(
                "pgbench",
                ["-n", "-M", mode, "-c", "2", "-t", "50", "-h", "127.0.0.1", "-p", "\(proxy.port)", "-U", proxy.server.user, database],
                environment: env)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(try proxy.server.direct("SELECT count(*) FROM pgbench_history", database: database) == "100")
        }
    }

    @Test("a connection labelled gray writes the seed table's shadow")
    func seedScenario() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("seed")
            try proxy.psql(
                "INSERT INTO mse_demo_table (location) VALUES ('\(marker)')", extra: "options='-c shadow.lane=gray'")
            #expect(try proxy.server.direct("SELECT count(*) FROM mse_demo_table_gray WHERE location = '\(marker)'") == "1")
            #expect(try proxy.server.direct("SELECT count(*) FROM mse_demo_table WHERE location = '\(marker)'") == "0")
        }
    }

    @Test(
        "a refused statement in a transaction aborts it and the connection stays usable")
    func refusalInTransaction() async throws {
        try await withProxy { proxy in
            let table = postgresUniqueName("sg_unmapped")
            try proxy.server.direct("CREATE TABLE \(table) (id int)")
            defer { _ = try? proxy.server.direct("DROP TABLE \(table)") }
            let output = try PostgresClientProcess.psqlScript(
                conninfo: proxy.conninfo(extra: "options='-c shadow.lane=strict'"), password: proxy.server.password,
                script: """
                    \\set VERBOSITY verbose
                    BEGIN;
                    INSERT INTO \(table) VALUES (1);
                    SELECT 1;
                    ROLLBACK;
                    SELECT 'usable';
                    """)
            #expect(output.stderr.contains("SG001"))
            #expect(output.stderr.contains(table))
            #expect(output.stderr.contains("current transaction is aborted"))
            #expect(output.stdout.contains("usable"))
            #expect(try proxy.server.direct("SELECT count(*) FROM \(table)") == "0")
        }
    }

    @Test(
        "the session switch follows SET, a rolled-back SET, SET LOCAL and RESET")
    func sessionSwitch() async throws {
        try await withProxy { proxy in
            let m = postgresUniqueName("switch")
            let output = try PostgresClientProcess.psqlScript(
                conninfo: proxy.conninfo(), password: proxy.server.password,
                script: """
                    SET shadow.lane = 'gray';
                    INSERT INTO mse_demo_table (location) VALUES ('\(m)-gray1');
                    BEGIN; SET shadow.lane TO 'base'; ROLLBACK;
                    INSERT INTO mse_demo_table (location) VALUES ('\(m)-gray2');
                    BEGIN; SET LOCAL shadow.lane = 'base'; INSERT INTO mse_demo_table (location) VALUES ('\(m)-base1'); COMMIT;
                    INSERT INTO mse_demo_table (location) VALUES ('\(m)-gray3');
                    RESET shadow.lane;
                    INSERT INTO mse_demo_table (location) VALUES ('\(m)-base2');
                    SET shadow.lane = 'gray'; DISCARD ALL;
                    INSERT INTO mse_demo_table (location) VALUES ('\(m)-base3');
                    """)
            #expect(output.status == 0, "\(output.stderr)")
            let gray = try proxy.server.direct(
                "SELECT string_agg(location, ',' ORDER BY id) FROM mse_demo_table_gray WHERE location LIKE '\(m)-%'")
            let base = try proxy.server.direct(
                "SELECT string_agg(location, ',' ORDER BY id) FROM mse_demo_table WHERE location LIKE '\(m)-%'")
            #expect(gray == "\(m)-gray1,\(m)-gray2,\(m)-gray3")
            #expect(base == "\(m)-base1,\(m)-base2,\(m)-base3")
        }
    }
}
