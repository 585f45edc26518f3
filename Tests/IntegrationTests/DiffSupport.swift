import DatabaseClients
import Foundation
import ShadowSQL
import ShadowgateCLI
import Testing

/// Runs the data tools in-process against the real servers, with a configuration written for the test.
struct DataToolHarness {
    let environment: TestEnvironment
    let dialect: SQLDialect
    /// MySQL: a database of the test's own. PostgreSQL: a schema of the test's own inside mse_demo.
    let schema: String

    init(_ dialect: SQLDialect) throws {
        environment = try TestEnvironment.load()
        self.dialect = dialect
        schema = TestEnvironment.uniqueName("dt")
        try run(dialect == .mysql ? "CREATE DATABASE \(schema)" : "CREATE SCHEMA \(schema)")
    }

    /// Runs statements on the base server (MySQL: in the test's database).
    func run(_ statements: String...) throws { try runAll(statements) }

    /// Runs statements in order on one session of the base server (or of the second server, the mirror).
    func runAll(_ statements: [String], onMirror: Bool = false) throws {
        switch dialect {
        case .mysql:
            let connection = try MariaDBConnection(configuration: environment.mariaDB(shadow: onMirror, database: nil))
            defer { connection.close() }
            _ = try? connection.query("USE \(schema)")
            for statement in statements { _ = try connection.query(statement) }
        case .postgres:
            let connection = try PostgresConnection(configuration: environment.postgresServer(shadow: onMirror))
            defer { connection.close() }
            for statement in statements { _ = try connection.simpleQuery(statement) }
        }
    }

    /// The first value of a query's first row on the base server (or on the second server, the mirror).
    func scalar(_ sql: String, onMirror: Bool = false) throws -> String? {
        switch dialect {
        case .mysql:
            let connection = try MariaDBConnection(configuration: environment.mariaDB(shadow: onMirror, database: nil))
            defer { connection.close() }
            return try connection.query(sql).scalar
        case .postgres:
            let connection = try PostgresConnection(configuration: environment.postgresServer(shadow: onMirror))
            defer { connection.close() }
            return try connection.simpleQuery(sql).scalar
        }
    }

    /// `schema.name`, for SQL and for --table.
    func t(_ name: String) -> String { "\(schema).\(name)" }

    /// A configuration with one listener in front of the base server and a gray lane (suffix `_gray`).
    /// `login` replaces the test servers' own user and password.
    func configuration(
        credentials: Bool = true, extraLane: String = "", login: (user: String, password: String)? = nil, topLevel: String = ""
    ) throws -> String {
        let port = dialect == .mysql ? environment.mysql.port : environment.postgres.port
        let user = login?.user ?? (dialect == .mysql ? environment.mysql.user : environment.postgres.user)
        let password = login?.password ?? (dialect == .mysql ? environment.mysql.password : environment.postgres.password)
        let database = dialect == .mysql ? schema : "mse_demo"
        let yaml = """
            listeners:
              - name: base
                protocol: \(dialect == .mysql ? "mysql" : "postgres")
                listen: 127.0.0.1:1
                backend: 127.0.0.1:\(port)
            \(credentials ? "    credentials: { user: \(user), password: \(password), database: \(database) }" : "")
            lanes:
              gray:
                tables: { suffix: _gray }
            \(extraLane)
            \(topLevel)
            """
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(schema)-\(UUID().uuidString).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs `shadowgate ARGS` in-process; returns exit status, standard output and standard error.
    func shadowgate(_ arguments: [String]) async -> (code: Int32, out: String, err: String) {
        let capture = Capture()
        let io = CommandIO(
            write: { capture.append(out: $0) }, writeError: { capture.append(err: $0) }, readLine: { nil }
        )
        let code = await CommandIO.$current.withValue(io) { await Shadowgate.execute(arguments) }
        return (code, capture.out, capture.err)
    }

    /// `diff` with fast, deterministic settings: fixed small chunks, no re-check delay, JSON.
    func diff(_ tables: [String], config: String, extra: [String] = []) async -> (code: Int32, json: [String: Any], out: String, err: String) {
        var arguments = ["diff", "--config", config, "--lane", "gray", "--format", "json", "--chunk-rows", "10",
            "--target-chunk-time", "0", "--recheck-delay", "0"]
        for table in tables { arguments += ["--table", table] }
        let result = await shadowgate(arguments + extra)
        return (result.code, jsonObject(extra.contains("print") ? result.err : result.out), result.out, result.err)
    }

    /// A keyless table `logs` and an identical `logs_gray`: rows ('a', 1) twice, ('b', 2), ('c', NULL).
    func makeLogs() throws {
        for table in ["logs", "logs_gray"] {
            try run(
                "CREATE TABLE \(t(table)) (msg VARCHAR(20), n INT)",
                "INSERT INTO \(t(table)) VALUES ('a', 1), ('a', 1), ('b', 2), ('c', NULL)"
            )
        }
    }

    func drop() {
        try? run(dialect == .mysql ? "DROP DATABASE \(schema)" : "DROP SCHEMA \(schema) CASCADE")
        try? runAll([dialect == .mysql ? "DROP DATABASE IF EXISTS \(schema)" : "DROP SCHEMA IF EXISTS \(schema) CASCADE"], onMirror: true)
    }

    /// Top-level configuration mirroring the base lane into the same-named database (MySQL) or schema (PostgreSQL)
    /// on the second server, with `tables` and `columns` maps (YAML flow maps).
    func baseDualWrite(tables: String, columns: String) -> String {
        let mysql = dialect == .mysql
        let (host, port) = mysql ? (environment.mysql.host, environment.mysql.shadowPort) : (environment.postgres.host, environment.postgres.shadowPort)
        let (user, password) = mysql ? (environment.mysql.user, environment.mysql.password) : (environment.postgres.user, environment.postgres.password)
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(schema)-log").path
        return """
            replay_log: { dir: \(log) }
            base_dual_write:
              mirror:
                backend: \(host):\(port)
                database: \(mysql ? schema : "mse_demo")
                credentials: { user: \(user), password: "\(password)" }
              tables: \(tables)
              columns: \(columns)
            """
    }
}

/// A JSON report parsed (empty when it is not one).
func jsonObject(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
}

/// The first table of a JSON diff report.
func firstTable(_ json: [String: Any]) -> [String: Any] {
    ((json["tables"] as? [[String: Any]]) ?? []).first ?? [:]
}

final class Capture: @unchecked Sendable {
    private let lock = NSLock()
    private var outText = ""
    private var errText = ""
    func append(out: String) { lock.withLock { outText += out } }
    func append(err: String) { lock.withLock { errText += err } }
    var out: String { lock.withLock { outText } }
    var err: String { lock.withLock { errText } }
}
