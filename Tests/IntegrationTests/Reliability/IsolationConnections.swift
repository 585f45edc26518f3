import DatabaseClients
import Foundation

/// The isolation workload over libmariadb (text protocol, multi-statements, server-side prepared statements).
final class MySQLIsolationConnection: IsolationConnection {
    let connection: MariaDBConnection

    init(port: Int, label: IsolationConnectionLabel) throws {
        var attributes: [String: String] = [:]
        var user = "shadow", password = "shadow-pass"
        switch label {
        case .attribute(let lane): attributes["lane"] = lane
        case .grayUser: (user, password) = ("gray_app", "gray-pass")
        case .none, .applicationName: break
        }
        connection = try MariaDBConnection(configuration: .init(
            host: "127.0.0.1", port: port, user: user, password: password, database: "mse_demo",
            connectionAttributes: attributes, timeouts: .init(connect: 5, read: 30, write: 30), multiStatements: true))
    }

    func query(_ sql: String, extended: Bool) throws -> [[String?]] { try connection.query(sql).rows }

    func batch(_ statements: [String], pipeline: Bool) throws {
        _ = try connection.queryAll(statements.joined(separator: "; "))
    }

    func prepared(_ sql: String, _ params: [String]) throws {
        let statement = try connection.prepare(sql)
        defer { statement.close() }
        _ = try statement.execute(params: params.map { .text($0) })
    }

    func copy(table: String, text: String) throws {
        throw ReliabilityRawSocket.Failure(description: "COPY is PostgreSQL only")
    }

    func sessionSQL(_ lane: String?) -> String { lane.map { "SET @lane = '\($0)'" } ?? "SET @lane = NULL" }
    var beginSQL: String { "START TRANSACTION" }
    func close() { connection.close() }
}

/// The isolation workload over libpq (simple and extended protocol, pipelines, named statements, COPY).
final class PostgresIsolationConnection: IsolationConnection {
    let connection: PostgresConnection
    private var statementCounter = 0

    init(port: Int, label: IsolationConnectionLabel) throws {
        var options: String?
        var applicationName: String?
        var user = "shadow", password = "shadow-pass"
        switch label {
        case .attribute(let lane): options = "-c shadow.lane=\(lane)"
        case .applicationName(let lane): applicationName = "\(lane)-worker-\(Int.random(in: 1...99))"
        case .grayUser: (user, password) = ("gray_app", "gray-pass")
        case .none: break
        }
        connection = try PostgresConnection(configuration: .init(
            host: "127.0.0.1", port: port, user: user, password: password, database: "mse_demo", options: options,
            applicationName: applicationName, connectTimeoutSeconds: 5))
    }

    func query(_ sql: String, extended: Bool) throws -> [[String?]] {
        extended ? try connection.query(sql).rows : try connection.simpleQuery(sql).rows
    }

    func batch(_ statements: [String], pipeline: Bool) throws {
        if pipeline {
            for outcome in try connection.pipeline(statements.map { .query($0) }) {
                if case .failure(let error) = outcome { throw error }
            }
        } else {
            _ = try connection.simpleQueryAll(statements.joined(separator: "; "))
        }
    }

    func prepared(_ sql: String, _ params: [String]) throws {
        statementCounter += 1
        let name = "iso_stmt_\(statementCounter)"
        try connection.prepare(name: name, sql: sql)
        _ = try connection.executePrepared(name: name, params: params)
    }

    func copy(table: String, text: String) throws {
        _ = try connection.copyIn("COPY \(table) (lane, marker, v) FROM STDIN", text: text)
    }

    func sessionSQL(_ lane: String?) -> String { lane.map { "SET shadow.lane = '\($0)'" } ?? "RESET shadow.lane" }
    var beginSQL: String { "BEGIN" }
    func close() { connection.close() }
}
