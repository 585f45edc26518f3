import DatabaseClients
import ShadowConfig
import ShadowSQL

/// ``DiffConnection`` over libmariadb.
final class MariaDBDiffConnection: DiffConnection {
    let connection: MariaDBConnection
    var dialect: SQLDialect { .mysql }

    init(_ connection: MariaDBConnection) { self.connection = connection }

    func query(_ sql: String) throws -> [[String?]] {
        do { return try connection.query(sql).rows } catch let error as DatabaseClientError {
            throw DataToolError.server(error.message, statement: sql)
        }
    }

    func execute(_ sql: String) throws -> Int {
        do { return Int(try connection.execute(sql)) } catch let error as DatabaseClientError {
            throw DataToolError.server(error.message, statement: sql)
        }
    }

    deinit { connection.close() }
}

/// ``DiffConnection`` over libpq.
final class PostgresDiffConnection: DiffConnection {
    let connection: PostgresConnection
    var dialect: SQLDialect { .postgres }

    init(_ connection: PostgresConnection) { self.connection = connection }

    func query(_ sql: String) throws -> [[String?]] {
        do { return try connection.simpleQuery(sql).rows } catch let error as DatabaseClientError {
            throw DataToolError.server(error.message, statement: sql)
        }
    }

    func execute(_ sql: String) throws -> Int {
        do { return Int(try connection.simpleQuery(sql).affectedRows) } catch let error as DatabaseClientError {
            throw DataToolError.server(error.message, statement: sql)
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
        do {
            switch dialect {
            case .mysql:
                connection = MariaDBDiffConnection(
                    try MariaDBConnection(
                        configuration: .init(
                            host: endpoint.host, port: endpoint.port, user: credentials.user, password: credentials.password,
                            database: credentials.database, tls: useTLS ? .required(caPath: nil) : .disabled
                        )
                    )
                )
            case .postgres:
                connection = PostgresDiffConnection(
                    try PostgresConnection(
                        configuration: .init(
                            host: endpoint.host, port: endpoint.port, user: credentials.user, password: credentials.password,
                            database: credentials.database, applicationName: "shadowgate-data-tools",
                            sslMode: useTLS ? .require : .disable
                        )
                    )
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

    /// Session settings the canonical values depend on.
    public static func prepareSession(_ connection: any DiffConnection) throws {
        switch connection.dialect {
        case .mysql:
            try connection.execute("SET time_zone = '+00:00'")
            try connection.execute("SET NAMES utf8mb4")
        case .postgres:
            try connection.execute("SET TimeZone = 'UTC'")
            try connection.execute("SET DateStyle = 'ISO, YMD'")
            try connection.execute("SET client_encoding = 'UTF8'")
        }
    }
}
