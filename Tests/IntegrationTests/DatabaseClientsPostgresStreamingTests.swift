import DatabaseClients
import Foundation
import Testing

/// Pipeline mode, COPY in both directions and cancellation of the libpq wrapper against real PostgreSQL.
@Suite struct DatabaseClientsPostgresStreamingTests {
    let environment: TestEnvironment

    init() throws {
        environment = try TestEnvironment.load()
    }

    @Test("a pipeline returns one outcome per step in order, and steps after a failure are reported as skipped")
    func pipeline() throws {
        let connection = try PostgresConnection(configuration: environment.postgresServer())
        let outcomes = try connection.pipeline([
            .query("SELECT $1::int AS a", params: ["1"]),
            .prepare(name: "pipe_add", sql: "SELECT $1::int + $2::int"),
            .executePrepared(name: "pipe_add", params: ["2", "3"]),
            .query("SELECT 1/0"),
            .query("SELECT 'never'"),
        ])
        #expect(outcomes.count == 5)
        #expect(try outcomes[0].get().rows == [["1"]])
        #expect(try outcomes[2].get().scalar == "5")
        #expect { try outcomes[3].get() } throws: { ($0 as? DatabaseClientError)?.sqlState == "22012" }
        #expect { try outcomes[4].get() } throws: { ($0 as? DatabaseClientError)?.code == .pipelineFailed }
        // Back out of pipeline mode: ordinary calls work again.
        #expect(try connection.query("SELECT 'after'").scalar == "after")
    }

    @Test("COPY FROM STDIN loads rows sent in arbitrary chunks, and COPY TO STDOUT streams them back")
    func copyBothWays() throws {
        let connection = try PostgresConnection(configuration: environment.postgresServer())
        let table = TestEnvironment.uniqueName("dbc_copy")
        try connection.execute("CREATE TABLE \(table) (id int, name text)")
        defer { _ = try? connection.execute("DROP TABLE \(table)") }
        let text = (1...1000).map { "\($0)\tname \($0)\n" }.joined() + "1001\t\\N\n"
        let bytes = Array(text.utf8)
        let chunks = stride(from: 0, to: bytes.count, by: 777).map { Array(bytes[$0..<min($0 + 777, bytes.count)]) }
        let loaded = try connection.copyIn("COPY \(table) FROM STDIN", chunks: chunks)
        #expect(loaded.affectedRows == 1001)
        #expect(loaded.commandTag == "COPY 1001")
        #expect(try connection.query("SELECT count(*), count(name) FROM \(table)").rows == [["1001", "1000"]])

        var messages = 0
        var received: [UInt8] = []
        let done = try connection.copyOut("COPY (SELECT * FROM \(table) ORDER BY id) TO STDOUT") {
            messages += 1
            received += $0
        }
        #expect(done.affectedRows == 1001)
        #expect(messages == 1001)
        #expect(received == bytes)
        #expect(try connection.copyOut("COPY (SELECT 1) TO STDOUT") == Array("1\n".utf8))
    }

    @Test("a COPY with bad data fails with the server's SQLSTATE and leaves the connection usable")
    func copyError() throws {
        let connection = try PostgresConnection(configuration: environment.postgresServer())
        let table = TestEnvironment.uniqueName("dbc_copy_bad")
        try connection.execute("CREATE TABLE \(table) (id int)")
        defer { _ = try? connection.execute("DROP TABLE \(table)") }
        #expect { try connection.copyIn("COPY \(table) FROM STDIN", text: "not-a-number\n") } throws: {
            ($0 as? DatabaseClientError)?.sqlState == "22P02"
        }
        #expect { try connection.copyIn("SELECT 1", text: "") } throws: {
            ($0 as? DatabaseClientError)?.code == .copyFailed
        }
        #expect(try connection.query("SELECT 1").scalar == "1")
        #expect(connection.transactionStatus == .idle)
    }

    @Test("a cancel handle used from another thread cancels a running pg_sleep with SQLSTATE 57014")
    func cancel() throws {
        let connection = try PostgresConnection(configuration: environment.postgresServer())
        let handle = try connection.cancelHandle()
        let started = Date()
        let canceller = Thread {
            Thread.sleep(forTimeInterval: 0.5)
            try? handle.cancel()
        }
        canceller.start()
        #expect { try connection.query("SELECT pg_sleep(30)") } throws: {
            ($0 as? DatabaseClientError)?.sqlState == "57014"
        }
        #expect(Date().timeIntervalSince(started) < 20)
        #expect(try connection.query("SELECT 'still usable'").scalar == "still usable")
    }
}
