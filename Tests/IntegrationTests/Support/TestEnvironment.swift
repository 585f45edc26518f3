import DatabaseClients
import Foundation
import Testing
import TestSupport

/// Where the real servers started by `scripts/servers.sh` listen, read from its `SHADOWGATE_*` variables.
///
/// Integration tests never skip: when a variable is missing, `TestEnvironment.load()` records a failure that
/// tells the developer how to provide it, and throws so the test stops there.
struct TestEnvironment: Sendable {
    /// One MariaDB/MySQL endpoint pair (base and shadow servers share user and password).
    struct MySQL: Sendable {
        var host: String
        var port: Int
        var shadowPort: Int
        var user: String
        var password: String
        /// Unix socket of the base server.
        var socket: String
        /// The base server's general query log (off by default; `SET GLOBAL general_log = 1` turns it on).
        var generalLog: String
    }

    /// One PostgreSQL endpoint pair (base and shadow servers share user and password).
    struct Postgres: Sendable {
        var host: String
        var port: Int
        var shadowPort: Int
        var user: String
        var password: String
        /// Directory holding the base server's Unix socket.
        var socketDirectory: String
    }

    /// The directory `servers.sh start` used.
    var serversDirectory: String
    var mysql: MySQL
    var postgres: Postgres
    /// The servers' self-signed certificate (also usable as the CA to verify them).
    var tlsCertificate: String
    /// The private key of `tlsCertificate` (for proxies that terminate TLS in tests).
    var tlsKey: String

    /// The variables `scripts/servers.sh` exports, all required.
    static let variableNames = [
        "SHADOWGATE_SERVERS_DIR", "SHADOWGATE_MYSQL_HOST", "SHADOWGATE_MYSQL_PORT", "SHADOWGATE_MYSQL_SHADOW_PORT",
        "SHADOWGATE_MYSQL_USER", "SHADOWGATE_MYSQL_PASSWORD", "SHADOWGATE_MYSQL_SOCKET", "SHADOWGATE_MYSQL_GENERAL_LOG",
        "SHADOWGATE_PG_HOST", "SHADOWGATE_PG_PORT", "SHADOWGATE_PG_SHADOW_PORT", "SHADOWGATE_PG_USER",
        "SHADOWGATE_PG_PASSWORD", "SHADOWGATE_PG_SOCKET_DIR", "SHADOWGATE_TLS_CERT", "SHADOWGATE_TLS_KEY",
    ]

    /// Thrown after the failure is recorded, to stop the test.
    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads the environment; records a test failure naming what is missing (and throws) when it is incomplete.
    static func load(
        _ environment: [String: String] = ProcessInfo.processInfo.environment,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> TestEnvironment {
        let missing = variableNames.filter { (environment[$0] ?? "").isEmpty }
        let badPorts = variableNames.filter { $0.hasSuffix("PORT") && !missing.contains($0) }
            .filter { Int(environment[$0] ?? "") == nil }
        guard missing.isEmpty, badPorts.isEmpty else {
            var message = "The integration tests need the real servers started by scripts/servers.sh. "
            if !missing.isEmpty { message += "Missing: \(missing.joined(separator: ", ")). " }
            if !badPorts.isEmpty { message += "Not a port number: \(badPorts.joined(separator: ", ")). " }
            message += "Run the tests through `bash scripts/test.sh`, or `bash scripts/servers.sh start DIR` "
                + "then `source DIR/env.sh` before `swift test`."
            Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
            throw Missing(description: "test environment incomplete (see the issue recorded above)")
        }
        func value(_ name: String) -> String { environment[name] ?? "" }
        func port(_ name: String) -> Int { Int(value(name)) ?? 0 }
        return TestEnvironment(
            serversDirectory: value("SHADOWGATE_SERVERS_DIR"),
            mysql: MySQL(
                host: value("SHADOWGATE_MYSQL_HOST"), port: port("SHADOWGATE_MYSQL_PORT"),
                shadowPort: port("SHADOWGATE_MYSQL_SHADOW_PORT"), user: value("SHADOWGATE_MYSQL_USER"),
                password: value("SHADOWGATE_MYSQL_PASSWORD"), socket: value("SHADOWGATE_MYSQL_SOCKET"),
                generalLog: value("SHADOWGATE_MYSQL_GENERAL_LOG")),
            postgres: Postgres(
                host: value("SHADOWGATE_PG_HOST"), port: port("SHADOWGATE_PG_PORT"),
                shadowPort: port("SHADOWGATE_PG_SHADOW_PORT"), user: value("SHADOWGATE_PG_USER"),
                password: value("SHADOWGATE_PG_PASSWORD"), socketDirectory: value("SHADOWGATE_PG_SOCKET_DIR")),
            tlsCertificate: value("SHADOWGATE_TLS_CERT"),
            tlsKey: value("SHADOWGATE_TLS_KEY"))
    }

    /// A table (or database) name no other test uses: `prefix_` plus 12 random hex digits, lower case so it
    /// means the same in both dialects, and at most 63 bytes (PostgreSQL's identifier limit).
    static func uniqueName(_ prefix: String = "t") -> String {
        let suffix = String(UInt64.random(in: 0..<(1 << 48)), radix: 16)
        let padded = String(repeating: "0", count: 12 - suffix.count) + suffix
        return String((prefix.lowercased() + "_" + padded).suffix(63))
    }

    /// Settings for the base MariaDB server (or the shadow one), ready to adjust and pass to `MariaDBConnection`.
    func mariaDB(
        shadow: Bool = false,
        database: String? = "mse_demo",
        connectionAttributes: [String: String] = [:],
        multiStatements: Bool = false
    ) -> MariaDBConnection.Configuration {
        MariaDBConnection.Configuration(
            host: mysql.host, port: shadow ? mysql.shadowPort : mysql.port, user: mysql.user,
            password: mysql.password, database: database, connectionAttributes: connectionAttributes,
            multiStatements: multiStatements)
    }

    /// Settings for the base PostgreSQL server (or the shadow one), ready to adjust and pass to
    /// `PostgresConnection`.
    func postgresServer(shadow: Bool = false, database: String = "mse_demo") -> PostgresConnection.Configuration {
        PostgresConnection.Configuration(
            host: postgres.host, port: shadow ? postgres.shadowPort : postgres.port, user: postgres.user,
            password: postgres.password, database: database)
    }
}

extension TestEnvironment {
    /// Creates (if missing) a MariaDB user without a password and with every privilege, through the root socket, for
    /// raw-socket clients that log in without computing a scramble.
    func createPasswordlessMySQLUser(_ name: String) throws {
        try Subprocess.run("mariadb", ["--no-defaults", "-uroot", "--socket=\(mysql.socket)"], stdin: """
            CREATE USER IF NOT EXISTS '\(name)'@'%';
            GRANT ALL ON *.* TO '\(name)'@'%';
            """).requireSuccess()
    }
}
