import DatabaseClients
import Foundation
import ShadowConfig
import ShadowDiff
import ShadowSQL

/// Shorthands the dual-write tests share: clients through the proxy, running a test body with the harness stopped
/// afterwards, and comparing a primary table with its mirror through ShadowDiff.
extension DualWriteHarness {
    /// Runs `body`, then stops the harness whether or not it threw.
    func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            await stop()
            throw error
        }
        await stop()
    }

    /// A libmariadb client connected through the harness's proxy.
    func mysqlClient(_ env: TestEnvironment) throws -> MariaDBConnection {
        try DualWriteFaultTests.proxyClient(env, port: port)
    }

    /// A libpq client connected through the harness's proxy.
    func postgresClient(_ env: TestEnvironment) throws -> PostgresConnection {
        try Self.postgresClient(env, port: port)
    }

    /// A libpq client connected through a proxy on `port`.
    static func postgresClient(_ env: TestEnvironment, port: Int) throws -> PostgresConnection {
        var configuration = env.postgresServer()
        configuration.host = "127.0.0.1"
        configuration.port = port
        return try PostgresConnection(configuration: configuration)
    }

    /// Compares `pair` between the primary's `mse_demo` and the shadow server's `mirrorDatabase` with ShadowDiff.
    static func diff(_ env: TestEnvironment, _ dialect: SQLDialect, pair: TablePair, mirrorDatabase: String) throws -> DiffReport {
        let mysql = dialect == .mysql
        let (host, primaryPort, shadowPort) =
            mysql ? (env.mysql.host, env.mysql.port, env.mysql.shadowPort) : (env.postgres.host, env.postgres.port, env.postgres.shadowPort)
        let (user, password) = mysql ? (env.mysql.user, env.mysql.password) : (env.postgres.user, env.postgres.password)
        let primary = try ServerConnector.connect(
            dialect: dialect, endpoint: Endpoint(host: host, port: primaryPort),
            credentials: DatabaseCredentials(user: user, password: password, database: "mse_demo"))
        let mirror = try ServerConnector.connect(
            dialect: dialect, endpoint: Endpoint(host: host, port: shadowPort),
            credentials: DatabaseCredentials(user: user, password: password, database: mirrorDatabase))
        return try DiffRunner(options: DiffOptions()).run(lane: "base", pairs: [pair], base: primary, shadow: mirror).report
    }
}

extension DualWritePostgresTests {
    static let ddl = "(id INT PRIMARY KEY, note TEXT NOT NULL, qty INT NOT NULL DEFAULT 0)"

    /// The base table on the primary, and a private mirror database on the shadow server holding `mirror`.
    static func createTables(
        _ env: TestEnvironment, base: String, mirrorDatabase: String, mirror: String, mirrorDDL: String = ddl
    ) throws {
        try withServer(env, shadow: false) { _ = try $0.execute("CREATE TABLE \(base) \(ddl)") }
        try DualWriteHarness.createMirrorDatabase(env, wireProtocol: .postgres, name: mirrorDatabase, tableDDL: "\(mirror) \(mirrorDDL)")
    }

    static func dropTables(_ env: TestEnvironment, base: String, mirrorDatabase: String) {
        _ = try? withServer(env, shadow: false) { try $0.execute("DROP TABLE IF EXISTS \(base)") }
        DualWriteHarness.dropMirrorDatabase(env, wireProtocol: .postgres, name: mirrorDatabase)
    }
}
