import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A database server of the test's own, in a temporary directory on a free port, for tests that kill, stop or
/// restart the backend (never the shared servers other suites use). Users match scripts/servers.sh (`shadow` /
/// `shadow-pass`, `gray_app` / `gray-pass`) plus `rel_raw` without a password for raw-socket logins. Statement
/// logging is on from the start (MariaDB general log, PostgreSQL `log_statement = all`) so a test can prove a
/// statement never reached the server.
final class ReliabilityPrivateServer: @unchecked Sendable {
    enum Kind: String { case mariadb, postgres }

    let kind: Kind
    let directory: String
    let port: Int
    private var child: ReliabilityChild?
    private(set) var pid: Int32 = 0

    /// The statement log (general log or server log).
    var statementLogPath: String { kind == .mariadb ? "\(directory)/general.log" : "\(directory)/server.log" }

    static func start(_ kind: Kind) throws -> ReliabilityPrivateServer {
        let directory = NSTemporaryDirectory() + "rel-\(kind.rawValue)-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        chmod(directory, 0o777)
        let server = ReliabilityPrivateServer(kind: kind, directory: directory, port: reliabilityFreePort())
        switch kind {
        case .mariadb: try server.installMariaDB()
        case .postgres: try server.installPostgres()
        }
        try server.launch()
        try server.setUp()
        return server
    }

    private init(kind: Kind, directory: String, port: Int) {
        self.kind = kind
        self.directory = directory
        self.port = port
    }

    private static func pgBin() -> String {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        return "/usr/lib/postgresql/\(versions.sorted().last ?? "15")/bin"
    }

    private func run(_ executable: String, _ arguments: [String], stdin: String? = nil) throws {
        let output = try Subprocess.run(executable, arguments, stdin: stdin)
        guard output.status == 0 else {
            throw ReliabilityRawSocket.Failure(
                description: "\(executable) \(arguments.prefix(3).joined(separator: " ")) failed: \(output.stderr)\(output.stdout)")
        }
    }

    private func installMariaDB() throws {
        try run(
            "mariadb-install-db",
            ["--no-defaults", "--datadir=\(directory)/data", "--user=root", "--auth-root-authentication-method=socket",
             "--skip-test-db"])
    }

    private func installPostgres() throws {
        try "shadow-pass\n".write(toFile: "\(directory)/pwfile", atomically: true, encoding: .utf8)
        try run("chown", ["-R", "postgres:postgres", directory])
        try run(
            "runuser",
            ["-u", "postgres", "--", "\(Self.pgBin())/initdb", "-D", "\(directory)/data", "-U", "shadow",
             "--pwfile=\(directory)/pwfile", "--auth-local=trust", "--auth-host=scram-sha-256"])
        let conf = """
            listen_addresses = '127.0.0.1'
            port = \(port)
            unix_socket_directories = '\(directory)'
            max_connections = 200
            fsync = off
            synchronous_commit = off
            full_page_writes = off
            shared_buffers = 32MB
            log_statement = 'all'
            logging_collector = off

            """
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(directory)/data/postgresql.conf"))
        handle.seekToEndOfFile()
        handle.write(Data(conf.utf8))
        try handle.close()
        let hba = """
            local all all trust
            host all shadow_trust 127.0.0.1/32 trust
            host all rel_raw 127.0.0.1/32 trust
            host all all 127.0.0.1/32 scram-sha-256

            """
        try hba.write(toFile: "\(directory)/data/pg_hba.conf", atomically: true, encoding: .utf8)
        try run("chown", ["-R", "postgres:postgres", directory])
    }

    /// Starts the server process (again, after a kill) and waits until it accepts connections.
    func launch() throws {
        switch kind {
        case .mariadb:
            let child = try ReliabilityChild(
                "/usr/sbin/mariadbd",
                ["--no-defaults", "--datadir=\(directory)/data", "--user=root", "--bind-address=127.0.0.1",
                 "--port=\(port)", "--socket=\(directory)/mysqld.sock", "--pid-file=\(directory)/mysqld.pid",
                 "--log-error=\(directory)/error.log", "--skip-name-resolve", "--max-connections=500",
                 "--innodb-buffer-pool-size=64M", "--innodb-flush-log-at-trx-commit=2", "--general-log=1",
                 "--general-log-file=\(directory)/general.log", "--lower-case-table-names=0",
                 "--max-allowed-packet=64M"],
                log: "\(directory)/stdout.log")
            self.child = child
            pid = child.pid
            let up = ReliabilityProcessStats.waitUntil(timeout: 30) {
                (try? Subprocess.run("mariadb", ["--no-defaults", "-uroot", "--socket=\(directory)/mysqld.sock", "-e", "select 1"]))?.status == 0
            }
            guard up else { throw ReliabilityRawSocket.Failure(description: "private MariaDB did not start: \(errorLog)") }
        case .postgres:
            // Foreground postgres owned by the test (runuser keeps the same pid via exec).
            let child = try ReliabilityChild(
                "/usr/sbin/runuser", ["-u", "postgres", "--", "\(Self.pgBin())/postgres", "-D", "\(directory)/data"],
                log: "\(directory)/server.log")
            self.child = child
            let up = ReliabilityProcessStats.waitUntil(timeout: 30) {
                (try? Subprocess.run("psql", ["-X", "-h", directory, "-p", "\(port)", "-U", "shadow", "-d", "postgres", "-c", "select 1"]))?.status == 0
            }
            guard up else { throw ReliabilityRawSocket.Failure(description: "private PostgreSQL did not start: \(errorLog)") }
            let pidLine = (try? String(contentsOfFile: "\(directory)/data/postmaster.pid", encoding: .utf8))?
                .split(separator: "\n").first
            pid = pidLine.flatMap { Int32($0) } ?? child.pid
        }
    }

    var errorLog: String {
        let path = kind == .mariadb ? "\(directory)/error.log" : "\(directory)/server.log"
        return String(((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").suffix(2000))
    }

    private func setUp() throws {
        switch kind {
        case .mariadb:
            try rootSQL("""
                CREATE USER 'shadow'@'%' IDENTIFIED BY 'shadow-pass';
                GRANT ALL ON *.* TO 'shadow'@'%' WITH GRANT OPTION;
                CREATE USER 'gray_app'@'%' IDENTIFIED BY 'gray-pass';
                GRANT ALL ON *.* TO 'gray_app'@'%';
                CREATE USER 'rel_raw'@'%';
                GRANT ALL ON *.* TO 'rel_raw'@'%';
                CREATE DATABASE mse_demo;
                """, database: "mysql")
        case .postgres:
            try rootSQL("""
                CREATE ROLE gray_app LOGIN SUPERUSER PASSWORD 'gray-pass';
                CREATE ROLE shadow_trust LOGIN SUPERUSER;
                CREATE ROLE rel_raw LOGIN SUPERUSER;
                CREATE DATABASE mse_demo;
                """, database: "postgres")
        }
    }

    /// Runs SQL as the superuser over the Unix socket (not through any proxy).
    func rootSQL(_ sql: String, database: String = "mse_demo") throws {
        switch kind {
        case .mariadb:
            try run("mariadb", ["--no-defaults", "-uroot", "--socket=\(directory)/mysqld.sock", "-D", database], stdin: sql)
        case .postgres:
            try run("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", directory, "-p", "\(port)", "-U", "shadow", "-d", database], stdin: sql)
        }
    }

    /// Runs SQL as the superuser and returns tab-separated rows.
    func rootQuery(_ sql: String, database: String = "mse_demo") throws -> [String] {
        let output: Subprocess.Output
        switch kind {
        case .mariadb:
            output = try Subprocess.run("mariadb", ["--no-defaults", "-uroot", "--socket=\(directory)/mysqld.sock", "-N", "-B", "-D", database, "-e", sql])
        case .postgres:
            output = try Subprocess.run("psql", ["-X", "-A", "-t", "-F", "\t", "-h", directory, "-p", "\(port)", "-U", "shadow", "-d", database, "-c", sql])
        }
        guard output.status == 0 else { throw ReliabilityRawSocket.Failure(description: "query failed: \(output.stderr)") }
        return output.stdout.split(separator: "\n").map(String.init)
    }

    /// Sessions the server sees from clients (excluding its own and this query's).
    func clientSessionCount() throws -> Int {
        switch kind {
        case .mariadb:
            let rows = try rootQuery("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER <> 'root' AND USER <> 'system user' AND COMMAND <> 'Daemon'")
            return Int(rows.first ?? "") ?? -1
        case .postgres:
            let rows = try rootQuery("SELECT COUNT(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND client_addr IS NOT NULL")
            return Int(rows.first ?? "") ?? -1
        }
    }

    /// SIGKILL the server (and, for PostgreSQL, its backends so a restart finds no shared memory in use).
    func crash() {
        let children = kind == .postgres ? ReliabilityProcessStats.children(of: pid) : []
        kill(pid, SIGKILL)
        for child in children { kill(child, SIGKILL) }
        child?.process.waitUntilExit()
        _ = ReliabilityProcessStats.waitUntil(timeout: 10) { children.allSatisfy { !ReliabilityProcessStats.isAlive(pid: $0) } }
    }

    func pause() { kill(pid, SIGSTOP) }
    func resume() { kill(pid, SIGCONT) }

    /// Stops the server and deletes its directory.
    func destroy() {
        resume()
        if kind == .postgres {
            kill(pid, SIGINT)  // fast shutdown
            _ = ReliabilityProcessStats.waitUntil(timeout: 10) { !ReliabilityProcessStats.isAlive(pid: pid) }
        }
        child?.stop(grace: 10)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The statement log's text.
    func statementLog() -> String {
        (try? String(contentsOfFile: statementLogPath, encoding: .utf8)) ?? ""
    }
}
