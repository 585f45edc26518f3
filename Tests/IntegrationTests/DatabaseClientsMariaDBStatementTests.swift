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
        let blob = Self.noise(count: 17 * 1024 * 1024 + 3)
        let insert = try connection.prepare("INSERT INTO \(table) (id, b) VALUES (?, ?)")
        try insert.execute(params: [1, .bytes(blob)])

        let viaStatement = try connection.prepare("SELECT b FROM \(table) WHERE id = ?").execute(params: [1])
        // Compare outside #expect so a failure does not try to print 17 MiB.
        let statementCell = viaStatement.rawRows.first?.first ?? nil
        let sameViaStatement = statementCell == blob
        #expect(sameViaStatement, "prepared statement returned \(statementCell?.count ?? -1) bytes")
        let viaText = try connection.query("SELECT b, LENGTH(b) FROM \(table) WHERE id = 1")
        let textCell = viaText.rawRows.first?.first ?? nil
        let sameViaText = textCell == blob
        #expect(sameViaText, "text query returned \(textCell?.count ?? -1) bytes")
        #expect(viaText.rawRows.first?[1] == Array(String(blob.count).utf8))
    }

    /// Bytes that cover every value, including NUL and the packet-length marker 0xFF, cheaply even in debug builds
    /// (xorshift64, eight bytes per step).
    static func noise(count: Int) -> [UInt8] {
        var words = [UInt64](repeating: 0, count: (count + 7) / 8)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        words.withUnsafeMutableBufferPointer { buffer in
            for index in buffer.indices {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                buffer[index] = state
            }
        }
        return words.withUnsafeBytes { Array($0.prefix(count)) }
    }
}
