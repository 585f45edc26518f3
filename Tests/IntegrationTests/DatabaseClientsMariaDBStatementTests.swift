import DatabaseClients
import Foundation
import Testing

/// Prepared statements (binary protocol) of the libmariadb wrapper against the real MariaDB server.
@Suite struct DatabaseClientsMariaDBStatementTests {
    let environment: TestEnvironment

    init() throws {
        environment = try TestEnvironment.load()
    }

    @Test("each parameter type round-trips through a prepared statement")
    func parameterTypes() throws {
        let connection = try MariaDBConnection(configuration: environment.mariaDB())
        let table = TestEnvironment.uniqueName("dbc_stmt")
        try connection.execute(
            "CREATE TABLE \(table) (id INT AUTO_INCREMENT PRIMARY KEY, t VARCHAR(50), i BIGINT, d DOUBLE, b BLOB, n INT)")
        defer { _ = try? connection.execute("DROP TABLE \(table)") }
        let insert = try connection.prepare("INSERT INTO \(table) (t, i, d, b, n) VALUES (?, ?, ?, ?, ?)")
        #expect(insert.parameterCount == 5)
        let inserted = try insert.execute(params: [
            .text("naïve 'quoted'"), .int(-9_007_199_254_740_993), .double(2.5), .bytes([0, 255, 10, 0]), .null,
        ])
        #expect(inserted.affectedRows == 1)
        #expect(inserted.lastInsertID == 1)

        let select = try connection.prepare("SELECT t, i, d, b, n FROM \(table) WHERE id = ?")
        let result = try select.execute(params: [.int(1)])
        #expect(result.columns == ["t", "i", "d", "b", "n"])
        #expect(result.rawRows.count == 1)
        #expect(result.rows.first?[0] == "naïve 'quoted'")
        #expect(result.rows.first?[1] == "-9007199254740993")
        #expect(result.rows.first?[2] == "2.5")
        #expect(result.rawRows.first?[3] == [0, 255, 10, 0])
        #expect(result.rawRows.first?[4] == .some(nil))
        // Executing again reuses the statement on the server.
        #expect(try select.execute(params: [.int(2)]).rawRows.isEmpty)
    }

    @Test("a wrong number of parameters is refused before anything is sent")
    func wrongParameterCount() throws {
        let connection = try MariaDBConnection(configuration: environment.mariaDB())
        let statement = try connection.prepare("SELECT ? + ?")
        #expect { try statement.execute(params: [1]) } throws: {
            ($0 as? DatabaseClientError)?.code == .invalidArgument
        }
        #expect(try statement.execute(params: [1, 2]).scalar == "3")
    }

    @Test("a statement that does not parse fails to prepare with the server's error")
    func prepareError() throws {
        let connection = try MariaDBConnection(configuration: environment.mariaDB())
        #expect { try connection.prepare("SELEKT 1") } throws: {
            let error = $0 as? DatabaseClientError
            return error?.code == .statementFailed && error?.serverErrorNumber == 1064 && error?.sqlState == "42000"
        }
    }

    @Test("a 17 MiB blob round-trips byte for byte, as a prepared parameter and through a text query")
    func largeBlob() throws {
        let connection = try MariaDBConnection(configuration: environment.mariaDB())
        let table = TestEnvironment.uniqueName("dbc_blob")
        try connection.execute("CREATE TABLE \(table) (id INT PRIMARY KEY, b LONGBLOB)")
        defer { _ = try? connection.execute("DROP TABLE \(table)") }
        var generator = SystemRandomNumberGenerator()
        let blob = (0..<(17 * 1024 * 1024 + 3)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let insert = try connection.prepare("INSERT INTO \(table) (id, b) VALUES (?, ?)")
        try insert.execute(params: [1, .bytes(blob)])

        let viaStatement = try connection.prepare("SELECT b FROM \(table) WHERE id = ?").execute(params: [1])
        #expect(viaStatement.rawRows.first?.first == .some(blob))
        let viaText = try connection.query("SELECT b, LENGTH(b) FROM \(table) WHERE id = 1")
        #expect(viaText.rawRows.first?.first == .some(blob))
        #expect(viaText.rows.first?[1] == String(blob.count))
    }
}
