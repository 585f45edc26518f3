import DatabaseClients
import Foundation
import ShadowConfig
import ShadowProxy
import ShadowSQL
import Testing

/// Prepared statements, portals, savepoints, set_config and database-redirect lanes against the real server: each
/// sequence here wrote a base table through the proxy before Shadowgate refused it.
@Suite("PostgreSQL proxy keeps prepared statements and portals in their lane", .serialized)
struct PostgresProxyPreparedLaneTests {
    static let lanes = [
        LaneConfiguration(name: "gray", mapping: LaneMapping(lane: "gray", tableSuffix: "_gray")),
        LaneConfiguration(
            name: "graydb",
            mapping: LaneMapping(lane: "graydb", databases: ["mse_demo": "mse_demo_gray"], unmappedWrites: .pass)),
    ]

    func withProxy(_ body: (PostgresTestProxy) async throws -> Void) async throws {
        try await PostgresTestProxy.with(lanes: Self.lanes, body)
    }

    func connect(_ proxy: PostgresTestProxy, options: String? = nil) throws -> PostgresConnection {
        try proxy.connect(options: options)
    }

    func counts(_ proxy: PostgresTestProxy, _ marker: String) throws -> (String, String) { try proxy.counts(marker) }

    func insert(_ marker: String) -> String { "INSERT INTO mse_demo_table (location) VALUES ('\(marker)')" }

    @Test("SQL EXECUTE of a statement PREPAREd in base is refused in a lane, and one PREPAREd in a lane is refused in base")
    func sqlPrepareAcrossLanes() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("sqlprep")
            let c = try connect(proxy)
            defer { c.close() }
            try c.simpleQuery("PREPARE p1 AS \(insert(marker))")
            try c.simpleQuery("SET shadow.lane = gray")
            let error = #expect(throws: DatabaseClientError.self) { try c.simpleQuery("EXECUTE p1") }
            #expect(error?.sqlState == "SG001")
            #expect(error?.message.contains("prepared statement \"p1\" was prepared in lane base") == true)
            #expect(throws: DatabaseClientError.self) { try c.simpleQuery("CREATE TEMP TABLE x AS EXECUTE p1") }
            // The reverse: prepared in gray, executed in base.
            try c.simpleQuery("PREPARE p11 AS \(insert(marker))")
            try c.simpleQuery("EXECUTE p11")
            try c.simpleQuery("SET shadow.lane = base")
            let reverse = #expect(throws: DatabaseClientError.self) { try c.simpleQuery("EXECUTE p11") }
            #expect(reverse?.message.contains("shadow tables") == true)
            #expect(try counts(proxy, marker) == ("0", "1"))
        }
    }

    @Test("a statement prepared under SET LOCAL or a base hint is refused when EXECUTEd later in the session's lane")
    func setLocalAndHintedPrepare() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("localprep")
            let c = try connect(proxy, options: "-c shadow.lane=gray")
            defer { c.close() }
            try c.simpleQuery("BEGIN")
            try c.simpleQuery("SET LOCAL shadow.lane = base")
            try c.simpleQuery("PREPARE p9 AS \(insert(marker))")
            try c.simpleQuery("COMMIT")
            #expect(throws: DatabaseClientError.self) { try c.simpleQuery("EXECUTE p9") }
            try c.simpleQuery("/* lane=base */ PREPARE p10 AS \(insert(marker))")
            #expect(throws: DatabaseClientError.self) { try c.simpleQuery("EXECUTE p10") }
            #expect(try counts(proxy, marker) == ("0", "0"))
        }
    }

    @Test("protocol Bind of an SQL-PREPAREd base statement, or after a rejected or refused re-Parse, is refused in a lane")
    func protocolBindAcrossLanes() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("bindprep")
            let (_, results) = try PostgresRawClient.run(
                port: proxy.port,
                steps: [
                    [["Q", "PREPARE p2 AS \(insert(marker))"]],
                    [["P", "s3", insert(marker)], ["S"]],
                    [["P", "s4", insert(marker)], ["S"]],
                    [["Q", "SET shadow.lane = gray"]],
                    [["B", "", "p2"], ["E", ""], ["S"]],
                    // The server rejects the re-Parse (42P05): s3 is still the base statement.
                    [["P", "s3", "SELECT 1"], ["S"]],
                    [["B", "", "s3"], ["E", ""], ["S"]],
                    // The proxy refuses the re-Parse: s4 is still the base statement.
                    [["P", "s4", "DO $$BEGIN END$$"], ["S"]],
                    [["B", "", "s4"], ["E", ""], ["S"]],
                    [["Q", "SELECT 1"]],
                ])
            #expect(results.count == 11)
            guard results.count == 11 else { return }
            #expect(results[5].errors.first?.hasPrefix("SG001: prepared statement \"p2\" was prepared in lane base") == true)
            #expect(results[6].errors.first?.hasPrefix("42P05") == true)
            #expect(results[7].errors.first?.hasPrefix("SG001: prepared statement \"s3\" was prepared in lane base") == true)
            #expect(results[8].errors.first?.hasPrefix("SG001") == true)
            #expect(results[9].errors.first?.hasPrefix("SG001: prepared statement \"s4\" was prepared in lane base") == true)
            #expect(results[10].errors.isEmpty)
            #expect(try counts(proxy, marker) == ("0", "0"))
        }
    }

    @Test("Execute of a named portal bound in the base lane is refused after the session switched to a lane")
    func portalAcrossLanes() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("portal")
            let (_, results) = try PostgresRawClient.run(
                port: proxy.port,
                steps: [
                    [["Q", "BEGIN"]],
                    [["P", "s7", insert(marker) + " RETURNING *"], ["B", "pp", "s7"], ["S"]],
                    [["Q", "SET shadow.lane = gray"]],
                    [["E", "pp"], ["S"]],
                    [["Q", "COMMIT"]],
                ])
            #expect(results.count == 6)
            guard results.count == 6 else { return }
            #expect(results[4].errors.first?.hasPrefix("SG001: portal \"pp\" was bound in lane base") == true)
            #expect(try counts(proxy, marker) == ("0", "0"))
        }
    }

    @Test("ROLLBACK TO SAVEPOINT keeps a lane SET made before the savepoint: the next insert goes to the shadow table")
    func rollbackToSavepoint() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("savepoint")
            let c = try connect(proxy)
            defer { c.close() }
            try c.simpleQuery("BEGIN")
            try c.simpleQuery("SET shadow.lane = gray")
            try c.simpleQuery("SAVEPOINT s")
            try c.simpleQuery("ROLLBACK TO SAVEPOINT s")
            try c.simpleQuery(insert(marker))
            try c.simpleQuery("COMMIT")
            try c.simpleQuery(insert(marker))
            #expect(try counts(proxy, marker) == ("0", "2"))
            #expect(try c.simpleQuery("SHOW shadow.lane").scalar == "gray")
        }
    }

    @Test("set_config of the lane setting is refused, so the server and the proxy never disagree on the lane")
    func setConfigRefused() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("setconfig")
            let c = try connect(proxy)
            defer { c.close() }
            let error = #expect(throws: DatabaseClientError.self) {
                try c.simpleQuery("SELECT set_config('shadow.lane', 'gray', false)")
            }
            #expect(error?.sqlState == "SG001")
            try c.simpleQuery(insert(marker))
            #expect(try counts(proxy, marker) == ("1", "0"))
        }
    }

    @Test("a session switch or hint to a database-redirect lane on a base connection is refused")
    func databaseLaneWithoutRedirect() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("dbswitch")
            let c = try connect(proxy)
            defer { c.close() }
            let hinted = #expect(throws: DatabaseClientError.self) { try c.simpleQuery("/* lane=graydb */ \(insert(marker))") }
            #expect(hinted?.message.contains("lane graydb runs in database mse_demo_gray") == true)
            try c.simpleQuery("SET shadow.lane = graydb")
            #expect(throws: DatabaseClientError.self) { try c.simpleQuery(insert(marker)) }
            #expect(try counts(proxy, marker) == ("0", "0"))
            #expect(
                try proxy.server.direct(
                    "SELECT count(*) FROM mse_demo_table WHERE location = '\(marker)'", database: "mse_demo_gray") == "0")
        }
    }

    @Test("a StartupMessage with the database parameter twice is rejected with FATAL")
    func duplicateDatabaseParameter() async throws {
        try await withProxy { proxy in
            let marker = postgresUniqueName("dupdb")
            let (_, results) = try PostgresRawClient.run(
                port: proxy.port, options: "-c shadow.lane=graydb", extraParameters: [["database", "mse_demo"]],
                steps: [[["Q", insert(marker)]]])
            #expect(results.first?.status == "closed")
            #expect(results.first?.errors.first?.hasPrefix("SG001: startup parameter \"database\" is given more than once") == true)
            #expect(try counts(proxy, marker) == ("0", "0"))
        }
    }
}
