import DatabaseClients
import Foundation
import Testing

/// The libpq wrapper against the real PostgreSQL servers started by scripts/servers.sh.
@Suite struct DatabaseClientsPostgresTests {
    let environment: TestEnvironment

    init() throws {
        environment = try TestEnvironment.load()
    }

    private func connect() throws -> PostgresConnection {
        try PostgresConnection(configuration: environment.postgresServer())
    }

    @Test("an extended-protocol query binds text parameters and returns rows, NULLs and the command tag")
    func parameterizedQuery() throws {
        let connection = try connect()
        let result = try connection.query("SELECT $1::int + 1 AS next, $2::text AS nothing, 'héllo' AS word",
                                          params: ["41", nil])
        #expect(result.columns == ["next", "nothing", "word"])
        #expect(result.rows == [["42", nil, "héllo"]])
        #expect(result.commandTag == "SELECT 1")
        #expect(connection.serverVersion >= 150000)
        #expect(try connection.query("SELECT pg_backend_pid()").scalar == String(connection.backendPID))
    }

    @Test("writes report the command tag and affected rows")
    func writes() throws {
        let connection = try connect()
        let table = TestEnvironment.uniqueName("dbc_pg_write")
        try connection.execute("CREATE TABLE \(table) (id serial PRIMARY KEY, v int)")
        defer { _ = try? connection.execute("DROP TABLE \(table)") }
        let insert = try connection.query("INSERT INTO \(table) (v) VALUES (1), (2), (3)")
        #expect(insert.commandTag == "INSERT 0 3")
        #expect(insert.affectedRows == 3)
        #expect(try connection.execute("UPDATE \(table) SET v = v + $1 WHERE v >= 2", params: ["10"]) == 2)
    }

    @Test("a simple query runs several statements and returns the last result, or all of them")
    func simpleQueries() throws {
        let connection = try connect()
        #expect(try connection.simpleQuery("SELECT 1; SELECT 2 AS two").rows == [["2"]])
        let all = try connection.simpleQueryAll("SELECT 1 AS a; SET application_name = 'x'; SELECT 'b' AS b")
        #expect(all.map(\.commandTag) == ["SELECT 1", "SET", "SELECT 1"])
        #expect(all[2].rows == [["b"]])
    }

    @Test("errors carry the SQLSTATE, and the session tracks the failed transaction")
    func errorsAndTransactions() throws {
        let connection = try connect()
        #expect(connection.transactionStatus == .idle)
        try connection.simpleQuery("BEGIN")
        #expect(connection.transactionStatus == .inTransaction)
        do {
            try connection.query("SELECT * FROM no_such_table_here")
            Issue.record("expected an error")
        } catch let error as DatabaseClientError {
            #expect(error.code == .queryFailed)
            #expect(error.sqlState == "42P01")
            #expect(error.message.contains("no_such_table_here"))
            #expect(error.description.contains("\(environment.postgres.host):\(environment.postgres.port)"))
        }
        #expect(connection.transactionStatus == .failedTransaction)
        try connection.simpleQuery("ROLLBACK")
        #expect(connection.transactionStatus == .idle)
    }

    @Test("named prepared statements are prepared once and executed with different parameters")
    func preparedStatements() throws {
        let connection = try connect()
        try connection.prepare(name: "double_it", sql: "SELECT $1::int * 2")
        #expect(try connection.executePrepared(name: "double_it", params: ["21"]).scalar == "42")
        #expect(try connection.executePrepared(name: "double_it", params: ["5"]).scalar == "10")
        #expect(try connection.executePrepared(name: "double_it", params: [nil]).rawRows == [[nil]])
        #expect { try connection.executePrepared(name: "missing") } throws: {
            ($0 as? DatabaseClientError)?.sqlState == "26000"
        }
    }

    @Test("notices are captured, and startup parameters are reported back")
    func noticesAndParameters() throws {
        var configuration = environment.postgresServer()
        configuration.applicationName = "dbclients-test"
        configuration.options = "-c shadowgate.lane=gray -c search_path=public"
        let connection = try PostgresConnection(configuration: configuration)
        #expect(connection.parameterStatus("application_name") == "dbclients-test")
        #expect(try connection.query("SELECT current_setting('shadowgate.lane')").scalar == "gray")
        try connection.simpleQuery("DO $$ BEGIN RAISE NOTICE 'hello %', 42; END $$")
        try connection.simpleQuery("COMMIT")  // "there is no transaction in progress" is a WARNING
        let notices = connection.takeNotices()
        #expect(notices.first == PostgresNotice(severity: "NOTICE", sqlState: "00000", message: "hello 42"))
        #expect(notices.last?.sqlState == "25P01")
        #expect(connection.notices.isEmpty)
    }

    @Test("a raw conninfo string connects, and bad credentials fail with libpq's message")
    func conninfo() throws {
        let pg = environment.postgres
        let connection = try PostgresConnection(
            conninfo: "host=\(pg.host) port=\(pg.port) user=\(pg.user) password=\(pg.password) dbname=mse_demo")
        #expect(try connection.query("SELECT current_database()").scalar == "mse_demo")
        var configuration = environment.postgresServer()
        configuration.password = "wrong"
        #expect { try PostgresConnection(configuration: configuration) } throws: {
            let error = $0 as? DatabaseClientError
            return error?.code == .connectionFailed && error?.message.contains("authentication failed") == true
        }
    }

    @Test("each authentication method the servers use works: scram, md5, password and trust")
    func authenticationMethods() throws {
        let users: [(String, String?, String)] = [
            ("shadow", "shadow-pass", "scram"), ("shadow_md5", "md5-pass", "md5"),
            ("shadow_password", "plain-pass", "password"), ("shadow_trust", nil, "trust"),
        ]
        for (user, password, method) in users {
            var configuration = environment.postgresServer()
            configuration.user = user
            configuration.password = password
            let connection = try PostgresConnection(configuration: configuration)
            #expect(try connection.query("SELECT current_user").scalar == user, "method \(method)")
        }
    }

    @Test("sslmode require and verify-full give an encrypted session")
    func tls() throws {
        for mode in [PostgresConnection.Configuration.SSLMode.require, .verifyFull] {
            var configuration = environment.postgresServer()
            configuration.sslMode = mode
            configuration.sslRootCertificate = environment.tlsCertificate
            configuration.host = "localhost"
            let connection = try PostgresConnection(configuration: configuration)
            #expect(connection.usesTLS)
            #expect(try connection.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").scalar == "t")
        }
        #expect(try connect().usesTLS == false)
    }
}
