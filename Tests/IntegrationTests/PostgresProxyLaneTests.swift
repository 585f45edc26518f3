import DatabaseClients
import Foundation
import ShadowConfig
import ShadowProxy
import ShadowSQL
import Testing

/// Lane selection per statement (hints, session switch), pipelines, prepared statements across lanes and real
/// drivers, through the in-process PostgreSQL proxy in front of the real servers.
@Suite("PostgreSQL proxy lanes against real servers", .serialized)
struct PostgresProxyLaneTests {
    static let lanes = [
        LaneConfiguration(name: "gray", mapping: LaneMapping(lane: "gray", tableSuffix: "_gray")),
        LaneConfiguration(
            name: "strict", mapping: LaneMapping(lane: "strict", tables: ["mse_demo_table": "mse_demo_table_gray"])),
    ]

    func withProxy(tls: Bool = false, _ body: (PostgresTestProxy) async throws -> Void) async throws {
        try await PostgresTestProxy.with(lanes: Self.lanes, tls: tls, body)
    }

    func connect(_ proxy: PostgresTestProxy, options: String? = nil) throws -> PostgresConnection {
        try proxy.connect(options: options)
    }

    func counts(_ proxy: PostgresTestProxy, _ marker: String, table: String = "mse_demo_table") throws -> (String, String) {
        try proxy.counts(marker, table: table)
    }

    @Test(
        "a statement hint routes one statement to its lane (plain comment, sqlcommenter, baggage)",
        arguments: [
            "/* lane=gray */ INSERT INTO mse_demo_table (location) VALUES ('%@')",
            "INSERT INTO mse_demo_table (location) VALUES ('%@') /*lane='gray',traceparent='00-abc-def-01'*/",
            "INSERT INTO mse_demo_table (location) VALUES ('%@') /*baggage='lane%%3Dgray%%2Cuser%%3Dx'*/",
        ])
    func hints(template: String) async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("hint")
            try proxy.psql(String(format: template, marker))
            #expect(try counts(proxy, marker) == ("0", "1"))
            // The next statement without a hint is base again.
            try proxy.psql("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')")
            #expect(try counts(proxy, marker) == ("1", "1"))
        }
    }

    @Test("a hint naming the base lane forces base in a gray-labelled connection")
    func baseHint() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("basehint")
            try proxy.psql(
                "/* lane=base */ INSERT INTO mse_demo_table (location) VALUES ('\(marker)')",
                extra: "options='-c shadow.lane=gray'")
            #expect(try counts(proxy, marker) == ("1", "0"))
        }
    }

    @Test("SET shadow.lane switches the session and RESET switches it back")
    func sessionSwitch() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("session")
            let connection = try connect(proxy)
            defer { connection.close() }
            try connection.simpleQuery("SET shadow.lane = 'gray'")
            try connection.execute("INSERT INTO mse_demo_table (location) VALUES ($1)", params: [marker])
            #expect(try counts(proxy, marker) == ("0", "1"))
            try connection.simpleQuery("RESET shadow.lane")
            try connection.execute("INSERT INTO mse_demo_table (location) VALUES ($1)", params: [marker])
            #expect(try counts(proxy, marker) == ("1", "1"))
            // SET LOCAL lasts until the end of the transaction only.
            try connection.simpleQuery("BEGIN")
            try connection.simpleQuery("SET LOCAL shadow.lane = 'gray'")
            try connection.simpleQuery("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')")
            try connection.simpleQuery("COMMIT")
            try connection.simpleQuery("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')")
            #expect(try counts(proxy, marker) == ("2", "2"))
        }
    }

    @Test("with standard_conforming_strings off, a lane statement that would hide a write is refused; base is untouched")
    func standardConformingStringsOffRefused() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("scs")
            try proxy.server.direct("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')")
            let connection = try connect(proxy, options: "-c shadow.lane=gray")
            defer { connection.close() }
            try connection.simpleQuery("SET standard_conforming_strings = off")
            // The server reads one string and a DELETE; a lexer assuming the setting on would read two strings.
            let hidden = "SELECT 'x\\' , ' ; DELETE FROM mse_demo_table WHERE location = '\(marker)' ; -- '"
            let error = #expect(throws: DatabaseClientError.self) { try connection.simpleQuery(hidden) }
            #expect(error?.message.contains("standard_conforming_strings is off") == true)
            #expect(try counts(proxy, marker) == ("1", "0"))
            try connection.simpleQuery("SET standard_conforming_strings = on")
            try connection.simpleQuery("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')")
            #expect(try counts(proxy, marker) == ("1", "1"))
        }
    }

    @Test("a session switch to an unknown lane is refused naming the configured lanes")
    func unknownSessionLane() async throws {
        try await withProxy { proxy in
            let connection = try connect(proxy)
            defer { connection.close() }
            try connection.simpleQuery("SET shadow.lane = 'purple'")
            let error = #expect(throws: DatabaseClientError.self) { try connection.simpleQuery("SELECT 1") }
            #expect(error?.sqlState == "SG002")
            #expect(error?.message.contains("gray") == true)
            try connection.simpleQuery("RESET shadow.lane")
            #expect(try connection.simpleQuery("SELECT 1").commandTag == "SELECT 1")
        }
    }

    @Test("a refusal in the middle of a pipeline rolls back its earlier writes and the connection stays usable")
    func refusalMidPipeline() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("pipe")
            let connection = try connect(proxy, options: "-c shadow.lane=strict")
            defer { connection.close() }
            let outcomes = try connection.pipeline([
                .query("INSERT INTO mse_demo_table (location) VALUES ($1)", params: [marker]),
                .query("INSERT INTO mse_demo_unmapped_nowhere (location) VALUES ($1)", params: [marker]),
                .query("INSERT INTO mse_demo_table (location) VALUES ($1)", params: [marker]),
            ])
            #expect(outcomes.count == 3)
            guard outcomes.count == 3 else { return }
            #expect((try? outcomes[0].get()) != nil)
            guard case .failure(let refused) = outcomes[1] else {
                Issue.record("the unmapped write was not refused")
                return
            }
            #expect(refused.sqlState == "SG001")
            #expect(refused.message.contains("mse_demo_unmapped_nowhere"))
            guard case .failure = outcomes[2] else {
                Issue.record("the step after the refusal ran")
                return
            }
            #expect(try counts(proxy, marker) == ("0", "0"))
            try connection.execute("INSERT INTO mse_demo_table (location) VALUES ($1)", params: [marker])
            #expect(try counts(proxy, marker) == ("0", "1"))
        }
    }

    @Test("a named prepared statement runs only in the lane it was prepared in")
    func namedPreparedAcrossLanes() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("prep")
            let connection = try connect(proxy)
            defer { connection.close() }
            try connection.prepare(name: "ins", sql: "INSERT INTO mse_demo_table (location) VALUES ($1)")
            try connection.executePrepared(name: "ins", params: [marker])
            try connection.simpleQuery("SET shadow.lane = 'gray'")
            let error = #expect(throws: DatabaseClientError.self) {
                try connection.executePrepared(name: "ins", params: [marker])
            }
            #expect(error?.sqlState == "SG001")
            #expect(error?.message.contains("prepared in lane base") == true)
            try connection.prepare(name: "ins_gray", sql: "INSERT INTO mse_demo_table (location) VALUES ($1)")
            try connection.executePrepared(name: "ins_gray", params: [marker])
            #expect(try counts(proxy, marker) == ("1", "1"))
        }
    }

    @Test("the unnamed statement parsed in one lane is refused when bound in another")
    func unnamedPreparedAcrossLanes() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("unnamed")
            let insert = "INSERT INTO mse_demo_table (location) VALUES ('\(marker)')"
            let (_, results) = try PostgresRawClient.run(
                port: proxy.port,
                steps: [
                    [["P", "", insert], ["S"]],
                    [["Q", "SET shadow.lane = 'gray'"]],
                    [["B", "", ""], ["E", ""], ["S"]],
                    [["P", "", insert], ["B", "", ""], ["E", ""], ["S"]],
                    [["Q", "SELECT 1"]],
                ])
            #expect(results.count == 6)
            guard results.count == 6 else { return }
            #expect(results[3].errors.count == 1)
            #expect(results[3].errors.first?.hasPrefix("SG001: the unnamed statement was prepared in lane base") == true)
            #expect(results[4].errors.isEmpty)
            #expect(results[5].types.contains("D"))
            #expect(try counts(proxy, marker) == ("0", "1"))
        }
    }

    @Test("pgbench in a rewriting lane changes only the pgbench shadows", arguments: ["simple", "extended", "prepared"])
    func pgbenchGray(mode: String) async throws {
        try await withProxy { proxy in
            let server = proxy.server
            let database = postgresUniqueName("pgbench")
            try server.direct("CREATE DATABASE \(database)")
            defer { _ = try? server.direct("DROP DATABASE \(database) WITH (FORCE)") }
            let env = ["PGPASSWORD": server.password]
            let initialized = try PostgresClientProcess.run(
                "pgbench", ["-i", "-q", "-h", server.host, "-p", "\(server.port)", "-U", server.user, database],
                environment: env)
            #expect(initialized.status == 0, "\(initialized.stderr)")
            for table in ["accounts", "branches", "tellers", "history"] {
                try server.direct(
                    "CREATE TABLE pgbench_\(table)_gray (LIKE pgbench_\(table) INCLUDING ALL); "
                        + "INSERT INTO pgbench_\(table)_gray SELECT * FROM pgbench_\(table)",
                    database: database)
            }
            let before = try server.direct("SELECT sum(abalance) FROM pgbench_accounts", database: database)
            let run = try PostgresClientProcess.run(
                "pgbench",
                ["-n", "-M", mode, "-t", "25", "-c", "1", "-h", "127.0.0.1", "-p", "\(proxy.port)", "-U", server.user, database],
                environment: env.merging(["PGOPTIONS": "-c shadow.lane=gray"]) { $1 })
            #expect(run.status == 0, "\(run.stderr)")
            #expect(try server.direct("SELECT count(*) FROM pgbench_history_gray", database: database) == "25")
            #expect(try server.direct("SELECT count(*) FROM pgbench_history", database: database) == "0")
            #expect(try server.direct("SELECT sum(abalance) FROM pgbench_accounts", database: database) == before)
        }
    }

    @Test("libpq through DatabaseClients: options label, pipeline and COPY in the gray lane")
    func libpqGray() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("libpq")
            let connection = try connect(proxy, options: "-c shadow.lane=gray")
            defer { connection.close() }
            let outcomes = try connection.pipeline([
                .query("INSERT INTO mse_demo_table (location) VALUES ($1)", params: [marker]),
                .prepare(name: "p1", sql: "INSERT INTO mse_demo_table (location) VALUES ($1)"),
                .executePrepared(name: "p1", params: [marker]),
            ])
            #expect(outcomes.allSatisfy { (try? $0.get()) != nil })
            try connection.copyIn("COPY mse_demo_table (location) FROM STDIN", text: "\(marker)\n\(marker)\n")
            #expect(try counts(proxy, marker) == ("0", "4"))
            let copied = try connection.copyOut(
                "COPY (SELECT location FROM mse_demo_table WHERE location = '\(marker)') TO STDOUT")
            #expect(String(decoding: copied, as: UTF8.self).split(separator: "\n").count == 4)
        }
    }

    @Test("psycopg2 with options writes the gray shadow")
    func psycopg2Options() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("psycopg")
            let script = """
                import psycopg2, sys
                c = psycopg2.connect(host='127.0.0.1', port=int(sys.argv[1]), user=sys.argv[2], password=sys.argv[3],
                                     dbname='mse_demo', options='-c shadow.lane=gray')
                cur = c.cursor()
                cur.execute("INSERT INTO mse_demo_table (location) VALUES (%s)", (sys.argv[4],))
                c.commit()
                """
            let output = try PostgresClientProcess.run(
                "python3", ["-c", script, "\(proxy.port)", proxy.server.user, proxy.server.password, marker])
            #expect(output.status == 0, "\(output.stderr)")
            #expect(try counts(proxy, marker) == ("0", "1"))
        }
    }

    @Test("JDBC with options in the URL writes the gray shadow")
    func jdbcOptions() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("jdbc")
            let url = "jdbc:postgresql://127.0.0.1:\(proxy.port)/mse_demo?options=-c%20shadow.lane%3Dgray&sslmode=disable"
            let output = try PostgresClientProcess.run(
                "java",
                [
                    "-cp", "/usr/share/java/postgresql.jar", "Tests/EndToEnd/jdbc/JdbcCheck.java", url,
                    proxy.server.user, proxy.server.password, "INSERT INTO mse_demo_table (location) VALUES (?)", marker,
                ])
            #expect(output.status == 0, "\(output.stdout) \(output.stderr)")
            #expect(try counts(proxy, marker) == ("0", "1"))
        }
    }

    @Test("direct TLS (ClientHello first, ALPN postgresql) reaches a working session")
    func directTLS() async throws {
        try await withProxy(tls: true) { proxy in
            let (alpn, results) = try PostgresRawClient.run(
                port: proxy.port, directTLS: true, steps: [[["Q", "SELECT 40 + 2"]]])
            #expect(alpn == "postgresql")
            #expect(results.count == 2)
            #expect(results.first?.types.first == "R")
            #expect(results.last?.types.contains("D") == true)
            #expect(results.last?.errors.isEmpty == true)
        }
    }
}
