import DatabaseClients
import ShadowConfig
import ShadowSQL

/// ``DiffConnection`` over libmariadb.
final class MariaDBDiffConnection: DiffConnection {
    let connection: MariaDBConnection
    /// Which server and login, for error messages (`127.0.0.1:3306 as app`).
    let label: String
    var dialect: SQLDialect { .mysql }

    init(_ connection: MariaDBConnection, label: String) {
        self.connection = connection
        self.label = label
    }

    func query(_ sql: String) throws -> [[String?]] {
        do { return try connection.query(sql).rows } catch let error as DatabaseClientError {
            throw ServerConnector.classify(error, statement: sql, server: label)
        }
    }

    func execute(_ sql: String) throws -> Int {
        do { return Int(try connection.execute(sql)) } catch let error as DatabaseClientError {
            throw ServerConnector.classify(error, statement: sql, server: label)
        }
    }

    deinit { connection.close() }
}

/// ``DiffConnection`` over libpq.
final class PostgresDiffConnection: DiffConnection {
    let connection: PostgresConnection
    /// Which server and login, for error messages.
    let label: String
    var dialect: SQLDialect { .postgres }

    init(_ connection: PostgresConnection, label: String) {
        self.connection = connection
        self.label = label
    }

    func query(_ sql: String) throws -> [[String?]] {
        do { return try connection.simpleQuery(sql).rows } catch let error as DatabaseClientError {
            throw ServerConnector.classify(error, statement: sql, server: label)
        }
    }

    func execute(_ sql: String) throws -> Int {
        do { return Int(try connection.simpleQuery(sql).affectedRows) } catch let error as DatabaseClientError {
            throw ServerConnector.classify(error, statement: sql, server: label)
        }
    }

    deinit { connection.close() }
}

/// Opens the data tools' sessions and sets them up so canonical values come out the same on every session:
/// UTC time zone, ISO dates, UTF-8.
public enum ServerConnector {
    public static func connect(
        dialect: SQLDialect, endpoint: Endpoint, credentials: DatabaseCredentials, useTLS: Bool = false
    ) throws -> any DiffConnection {
        let connection: any DiffConnection
        let label = "\(endpoint) as \(credentials.user)"
        do {
            switch dialect {
            case .mysql:
                connection = MariaDBDiffConnection(
                    try MariaDBConnection(
                        configuration: .init(
                            host: endpoint.host, port: endpoint.port, user: credentials.user, password: credentials.password,
                            database: credentials.database, tls: useTLS ? .required(caPath: nil) : .disabled
                        )
                    ),
                    label: label
                )
            case .postgres:
                connection = PostgresDiffConnection(
                    try PostgresConnection(
                        configuration: .init(
                            host: endpoint.host, port: endpoint.port, user: credentials.user, password: credentials.password,
                            database: credentials.database, applicationName: "shadowgate-data-tools",
                            sslMode: useTLS ? .require : .disable
                        )
                    ),
                    label: label
                )
            }
        } catch let error as DatabaseClientError {
            throw DataToolError.connection(
                "cannot connect to \(endpoint) as \(credentials.user) (database \(credentials.database)): \(error.message)"
            )
        }
        try prepareSession(connection)
        return connection
    }

    /// Turns a client-library error into the data tools' error: a missing privilege and a lost session get messages
    /// that say what to do; anything else is the server's message with the statement.
    static func classify(_ error: DatabaseClientError, statement: String, server: String) -> DataToolError {
        // MySQL: 1044/1142/1143/1227 access denied; PostgreSQL: SQLSTATE 42501 insufficient_privilege.
        if [1044, 1142, 1143, 1227].contains(error.serverErrorNumber ?? 0) || error.sqlState == "42501" {
            return .permission(error.message, server: server)
        }
        // MySQL: 2006 gone away, 2013 lost during query, 1927/4031 killed or timed out; PostgreSQL: class 08
        // (connection exception) and 57P01-57P03 (administrator or crash shutdown).
        let lostNumbers = [2006, 2013, 1927, 4031]
        let state = error.sqlState ?? ""
        if error.code == .connectionClosed || lostNumbers.contains(error.serverErrorNumber ?? 0) || state.hasPrefix("08")
            || ["57P01", "57P02", "57P03"].contains(state) || error.message.contains("server closed the connection")
            || error.message.contains("no connection to the server")
        {
            return .connectionLost(error.message, server: server)
        }
        return .server(error.message, statement: statement)
    }

    /// Session settings the canonical values depend on, and, on PostgreSQL, JIT off: a grouped checksum over a large
    /// chunk crosses the JIT cost threshold, and compiling its CASE tree took about half the query's time, while the
    /// per-row work (hashing text) gains nothing from it. Servers before 11 have no `jit` setting. No parallel
    /// workers either: the two sides already run at once, one query each, and workers multiplied the load a diff puts
    /// on the server (it is meant to stay polite) while their gathering and the sorts of grouped checksums made it
    /// slower — 1,000,000 rows with 100 differences 1.33 → 1.07 s, identical 0.78–0.82 → 0.69–0.77 s
    /// (docs/benchmarks.md). Servers before 9.6 have no such setting.
    public static func prepareSession(_ connection: any DiffConnection) throws {
        switch connection.dialect {
        case .mysql:
            try connection.execute("SET time_zone = '+00:00'")
            try connection.execute("SET NAMES utf8mb4")
        case .postgres:
            try connection.execute("SET TimeZone = 'UTC'")
            try connection.execute("SET DateStyle = 'ISO, YMD'")
            try connection.execute("SET client_encoding = 'UTF8'")
            _ = try? connection.execute("SET jit = off")
            _ = try? connection.execute("SET max_parallel_workers_per_gather = 0")
        }
    }
}
