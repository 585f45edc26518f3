import DatabaseClients
import Foundation
import Testing

/// The libmariadb wrapper against the real MariaDB servers started by scripts/servers.sh.
@Suite struct DatabaseClientsMariaDBTests {
    let environment: TestEnvironment

    init() throws {
        environment = try TestEnvironment.load()
    }

    private func connect(multiStatements: Bool = false) throws -> MariaDBConnection {
        try MariaDBConnection(configuration: environment.mariaDB(multiStatements: multiStatements))
    }

    @Test("a text query returns columns, rows with NULLs, and the connection reports version and thread id")
    func textQuery() throws {
        let connection = try connect()
        let result = try connection.query("SELECT 1 AS one, NULL AS nothing, 'héllo' AS word")
        #expect(result.columns == ["one", "nothing", "word"])
        #expect(result.rows == [["1", nil, "héllo"]])
        #expect(connection.serverVersion.contains("MariaDB"))
        let threadID = try connection.query("SELECT CONNECTION_ID()").scalar
        #expect(threadID == String(connection.threadID))
        try connection.ping()
    }

    @Test("writes report affected rows, last insert id and warnings")
    func writeSummary() throws {
        let connection = try connect()
        let table = TestEnvironment.uniqueName("dbc_write")
        try connection.execute("CREATE TABLE \(table) (id INT AUTO_INCREMENT PRIMARY KEY, v TINYINT)")
        defer { _ = try? connection.execute("DROP TABLE \(table)") }
        let insert = try connection.query("INSERT INTO \(table) (v) VALUES (1), (2), (3)")
        #expect(insert.affectedRows == 3)
        #expect(insert.lastInsertID == 1)
        let updated = try connection.execute("UPDATE \(table) SET v = v + 1 WHERE v >= 2")
        #expect(updated == 2)
        // 1000 does not fit a TINYINT: in non-strict mode it is clipped with a warning.
        try connection.execute("SET SESSION sql_mode = ''")
        let clipped = try connection.query("INSERT INTO \(table) (v) VALUES (1000)")
        #expect(clipped.warnings == 1)
        #expect(clipped.lastInsertID == 4)
    }

    @Test("multi-statement text returns every result in order when multiStatements is on")
    func multiStatements() throws {
        let connection = try connect(multiStatements: true)
        let results = try connection.queryAll("SELECT 1 AS a; DO 0; SELECT 'x' AS b, 'y' AS c")
        #expect(results.count == 3)
        #expect(results[0].rows == [["1"]])
        #expect(results[1].columns.isEmpty)
        #expect(results[2].columns == ["b", "c"])
        #expect(try connection.query("SELECT 2").scalar == "2")
    }

    @Test("multi-statement text is a syntax error when multiStatements is off")
    func multiStatementsOff() throws {
        let connection = try connect()
        #expect(throws: DatabaseClientError.self) { try connection.queryAll("SELECT 1; SELECT 2") }
    }

    @Test("server errors carry the error number, SQLSTATE and where they happened")
    func serverErrors() throws {
        let connection = try connect()
        do {
            try connection.query("SELECT * FROM no_such_table_here")
            Issue.record("expected an error")
        } catch let error as DatabaseClientError {
            #expect(error.code == .queryFailed)
            #expect(error.serverErrorNumber == 1146)
            #expect(error.sqlState == "42S02")
            #expect(error.message.contains("no_such_table_here"))
            #expect(error.description.contains("\(environment.mysql.host):\(environment.mysql.port)"))
        }
        #expect(try connection.query("SELECT 1").scalar == "1")
    }

    @Test("a wrong password fails to connect with access denied")
    func wrongPassword() throws {
        var configuration = environment.mariaDB()
        configuration.password = "wrong"
        do {
            _ = try MariaDBConnection(configuration: configuration)
            Issue.record("expected access denied")
        } catch let error as DatabaseClientError {
            #expect(error.code == .connectionFailed)
            #expect(error.serverErrorNumber == 1045)
            #expect(error.sqlState == "28000")
        }
    }

    @Test("TLS required yields an encrypted session, with and without verifying the server certificate")
    func tlsRequired() throws {
        for tls in [MariaDBConnection.Configuration.TLS.required(), .required(caPath: environment.tlsCertificate)] {
            var configuration = environment.mariaDB()
            configuration.tls = tls
            let connection = try MariaDBConnection(configuration: configuration)
            #expect(connection.tlsCipher != nil)
            let cipher = try connection.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'").rows.first?[1]
            #expect(cipher == connection.tlsCipher)
        }
        let plain = try connect()
        #expect(plain.tlsCipher == nil)
    }

    @Test("connecting through the Unix socket reaches the same server")
    func unixSocket() throws {
        var configuration = environment.mariaDB()
        configuration.unixSocket = environment.mysql.socket
        let connection = try MariaDBConnection(configuration: configuration)
        #expect(try connection.query("SELECT @@port").scalar == String(environment.mysql.port))
    }

    @Test("connection attributes are accepted and the session works")
    func connectionAttributes() throws {
        // performance_schema is off on the test servers; the proxies' tests see the attributes on the wire.
        let connection = try MariaDBConnection(configuration: environment.mariaDB(
            connectionAttributes: ["lane": "gray", "program_name": "dbclients-test"]))
        #expect(try connection.query("SELECT DATABASE()").scalar == "mse_demo")
    }

    @Test("a closed connection refuses further calls with connectionClosed")
    func closed() throws {
        let connection = try connect()
        connection.close()
        connection.close()
        #expect(connection.isClosed)
        #expect { try connection.query("SELECT 1") } throws: { ($0 as? DatabaseClientError)?.code == .connectionClosed }
    }
}
