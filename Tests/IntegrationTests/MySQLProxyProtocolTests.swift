import DatabaseClients
import Foundation
import NIOCore
import ShadowConfig
import NIOConcurrencyHelpers
@testable import ShadowProxy
import Testing

/// Protocol corners through the in-process proxy: LOCAL INFILE, CALL result chains, hostile input, timeouts and
/// graceful shutdown.
@Suite struct MySQLProxyProtocolTests {
    func withProxy<T>(handshakeTimeout: Double = 5, _ body: (MySQLTestProxy) async throws -> T) async throws -> T {
        let env = try TestEnvironment.load()
        let proxy = try await MySQLTestProxy.start(env: env, handshakeTimeout: handshakeTimeout)
        do {
            let result = try await body(proxy)
            await proxy.stop()
            return result
        } catch {
            await proxy.stop()
            throw error
        }
    }

    func python(_ proxy: MySQLTestProxy, _ script: String, _ extra: [String: String] = [:]) throws -> String {
        try MySQLPythonClient.run(script, environment: [
            "P_PORT": "\(proxy.port)", "P_USER": proxy.env.mysql.user, "P_PASS": proxy.env.mysql.password,
        ].merging(extra) { $1 })
    }

    @Test("LOAD DATA LOCAL INFILE streams the client's file through the proxy and the connection stays usable")
    func localInfile() async throws {
        try await withProxy { proxy in
            let table = TestEnvironment.uniqueName("infile")
            let direct = try proxy.direct()
            try direct.execute("CREATE TABLE \(table) (id INT PRIMARY KEY, name VARCHAR(50))")
            defer { _ = try? direct.execute("DROP TABLE \(table)") }
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(table).csv")
            try (1...500).map { "\($0),name-\($0)\n" }.joined().write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            let out = try python(proxy, """
            import os, pymysql
            c = pymysql.connect(host='127.0.0.1', port=int(os.environ['P_PORT']), user=os.environ['P_USER'],
                                password=os.environ['P_PASS'], database='mse_demo', local_infile=True, autocommit=True)
            cur = c.cursor()
            cur.execute("LOAD DATA LOCAL INFILE '%s' INTO TABLE %s FIELDS TERMINATED BY ','" % (os.environ['P_FILE'], os.environ['P_TABLE']))
            cur.execute("SELECT COUNT(*) FROM " + os.environ['P_TABLE'])
            print(cur.fetchone()[0])
            """, ["P_FILE": file.path, "P_TABLE": table])
            #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == "500")
            #expect(try direct.query("SELECT name FROM \(table) WHERE id = 500").scalar == "name-500")
        }
    }

    @Test("CALL of a procedure returning two result sets chains them with SERVER_MORE_RESULTS_EXISTS")
    func callChainsResults() async throws {
        try await withProxy { proxy in
            let procedure = TestEnvironment.uniqueName("proc")
            let direct = try proxy.direct()
            try direct.execute("CREATE PROCEDURE \(procedure)() BEGIN SELECT 1 AS a; SELECT 2 AS b, 3 AS c; END")
            defer { _ = try? direct.execute("DROP PROCEDURE \(procedure)") }
            let conn = try proxy.connect(multiStatements: true)
            let results = try conn.queryAll("CALL \(procedure)()")
            #expect(results.count == 3)  // two result sets and the CALL's final OK
            #expect(results.first?.scalar == "1")
            #expect(results.dropFirst().first?.rows == [["2", "3"]])
            #expect(try conn.query("SELECT 'next'").scalar == "next")
        }
    }

    @Test("garbage after the greeting ends only that connection; other connections keep working")
    func hostileInputIsContained() async throws {
        try await withProxy { proxy in
            let keep = try proxy.connect()
            let out = try python(proxy, """
            import os, socket
            s = socket.create_connection(('127.0.0.1', int(os.environ['P_PORT'])))
            s.recv(4096)
            # A 5-byte "handshake response" that cannot be parsed, then a frame claiming 16 MiB.
            s.sendall(bytes([5, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff]) + bytes([0xff, 0xff, 0xff, 2]) + b'x' * 100)
            s.settimeout(5)
            data = s.recv(4096)
            print('closed' if data == b'' else 'open:' + data.hex())
            """)
            #expect(out.contains("closed"))
            #expect(try keep.query("SELECT 'unharmed'").scalar == "unharmed")
            let fresh = try proxy.connect()
            #expect(try fresh.query("SELECT 1").scalar == "1")
        }
    }

    @Test("a client that never answers the greeting is disconnected after the handshake timeout")
    func handshakeTimeout() async throws {
        try await withProxy(handshakeTimeout: 0.5) { proxy in
            let out = try python(proxy, """
            import os, socket, time
            s = socket.create_connection(('127.0.0.1', int(os.environ['P_PORT'])))
            s.settimeout(5)
            greeting = s.recv(4096)
            start = time.time()
            rest = s.recv(4096)
            print('closed' if rest == b'' and time.time() - start < 4 else 'still open')
            """)
            #expect(out.contains("closed"))
        }
    }

    @Test("shutdown stops accepting and closes idle connections before the deadline")
    func gracefulShutdown() async throws {
        let env = try TestEnvironment.load()
        let proxy = try await MySQLTestProxy.start(env: env)
        // When the connection really closed, taken on its event loop: the shutdown's own await can return late while
        // other tests hold the shared cooperative pool with synchronous client calls.
        let closedAt = NIOLockedValueBox<NIODeadline?>(nil)
        proxy.listener.acceptedChannelHook.withLockedValue {
            $0 = { channel in channel.closeFuture.whenComplete { _ in closedAt.withLockedValue { $0 = .now() } } }
        }
        let conn = try proxy.connect()
        #expect(try conn.query("SELECT 1").scalar == "1")
        #expect(proxy.listener.connectionCount == 1)
        let started = NIODeadline.now()
        // A long deadline: an idle connection must close at once, not when the deadline expires.
        await proxy.listener.shutdown(gracefulDeadline: .now() + .seconds(60))
        let closed = try #require(closedAt.withLockedValue { $0 })
        #expect(closed - started < .seconds(10))
        #expect(proxy.listener.connectionCount == 0)
        #expect(throws: DatabaseClientError.self) { try conn.query("SELECT 2") }
        #expect(throws: DatabaseClientError.self) { try proxy.connect() }
    }
}

/// The proxy speaking TLS to the server, and the `mariadb` command-line client.
@Suite struct MySQLProxyClientTests {
    @Test("with backendTLS the proxy's connection to the server is encrypted and queries work")
    func backendTLS() async throws {
        let env = try TestEnvironment.load()
        let proxy = try await MySQLTestProxy.start(env: env, backendTLS: true)
        defer { Task { await proxy.stop() } }
        let conn = try proxy.connect()
        let cipher = try conn.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'").rows.first?[1]
        #expect(cipher != nil && cipher != "")
        #expect(try conn.query("SELECT 'over tls'").scalar == "over tls")
        let direct = try proxy.connect(attributes: ["lane": "gray"])
        #expect(try direct.query("SELECT 5").scalar == "5")
    }

    @Test("the mariadb command-line client runs multi-statement scripts through the proxy, with and without TLS")
    func commandLineClient() async throws {
        let env = try TestEnvironment.load()
        let proxy = try await MySQLTestProxy.start(env: env, tls: TLSFiles(certificatePath: env.tlsCertificate, privateKeyPath: env.tlsKey))
        defer { Task { await proxy.stop() } }
        let marker = TestEnvironment.uniqueName("cli")
        let out = try MySQLCommandLineClient.run(
            port: proxy.port, user: env.mysql.user, password: env.mysql.password,
            sql: "INSERT INTO mse_demo_table (location) VALUES ('\(marker)'); SELECT location FROM mse_demo_table WHERE location = '\(marker)'")
        #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == marker)
        let tls = try MySQLCommandLineClient.run(
            port: proxy.port, user: env.mysql.user, password: env.mysql.password,
            sql: "SELECT 'tls ok'", extra: ["--ssl", "--ssl-ca=\(env.tlsCertificate)"])
        #expect(tls.trimmingCharacters(in: .whitespacesAndNewlines) == "tls ok")
    }
}

/// Database-level lanes through COM_INIT_DB and USE.
@Suite struct MySQLProxyDatabaseLaneTests {
    @Test("COM_INIT_DB (select_db) and USE follow the lane's database map; base connections are untouched")
    func initDBAndUseFollowLane() async throws {
        let env = try TestEnvironment.load()
        let proxy = try await MySQLTestProxy.start(env: env)
        defer { Task { await proxy.stop() } }
        let out = try MySQLPythonClient.run("""
            import os, pymysql
            def conn(lane):
                c = pymysql.connect(host='127.0.0.1', port=int(os.environ['P_PORT']), user=os.environ['P_USER'],
                                    password=os.environ['P_PASS'], defer_connect=True)
                if lane: c._connect_attrs['lane'] = lane
                c.connect()
                return c
            def db(c):
                with c.cursor() as cur:
                    cur.execute('SELECT DATABASE()')
                    return cur.fetchone()[0]
            lane = conn('dbgray')
            lane.select_db('mse_demo')
            print('initdb', db(lane))
            with lane.cursor() as cur: cur.execute('USE mysql')
            with lane.cursor() as cur: cur.execute('USE mse_demo')
            print('use', db(lane))
            base = conn(None)
            base.select_db('mse_demo')
            print('base', db(base))
            """, environment: [
                "P_PORT": "\(proxy.port)", "P_USER": env.mysql.user, "P_PASS": env.mysql.password,
            ])
        #expect(out.contains("initdb mse_demo_gray"))
        #expect(out.contains("use mse_demo_gray"))
        #expect(out.contains("base mse_demo\n"))
    }
}

/// MariaDB Connector/J through the proxy: the JDBC URL from the docs, server-side prepared statements.
@Suite struct MySQLProxyJDBCTests {
    @Test("a JDBC URL with connectionAttributes=lane:gray writes the shadow table through server-side prepared statements")
    func jdbcConnectionAttributes() async throws {
        let env = try TestEnvironment.load()
        let proxy = try await MySQLTestProxy.start(env: env)
        defer { Task { await proxy.stop() } }
        let marker = TestEnvironment.uniqueName("jdbc")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(marker)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.appendingPathComponent("MySQLJDBCClient.java").path
        try Self.javaSource.write(toFile: source, atomically: true, encoding: .utf8)
        let url = "jdbc:mariadb://127.0.0.1:\(proxy.port)/mse_demo?connectionAttributes=lane:gray&useServerPrepStmts=true"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/java")
        process.arguments = ["-cp", "/usr/share/java/mariadb-java-client.jar", source, url, env.mysql.user, env.mysql.password, marker]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(errors)")
        #expect(output.contains("inserted 1"))
        #expect(output.contains("visible 1"))
        let direct = try proxy.direct()
        #expect(try direct.query("SELECT COUNT(*) FROM mse_demo_table_gray WHERE location = '\(marker)'").scalar == "1")
        #expect(try direct.query("SELECT COUNT(*) FROM mse_demo_table WHERE location = '\(marker)'").scalar == "0")
    }

    /// A single-file JDBC program (run with `java File.java`). Args: url user password marker.
    static let javaSource = """
    // A JDBC client for the MySQL proxy integration tests (run as a single-file program with the MariaDB driver).
    // Args: url user password marker
    import java.sql.*;

    public class MySQLJDBCClient {
        public static void main(String[] args) throws Exception {
            try (Connection c = DriverManager.getConnection(args[0], args[1], args[2])) {
                try (PreparedStatement p = c.prepareStatement("INSERT INTO mse_demo_table (location) VALUES (?)")) {
                    p.setString(1, args[3]);
                    System.out.println("inserted " + p.executeUpdate());
                }
                try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM mse_demo_table WHERE location = ?")) {
                    p.setString(1, args[3]);
                    try (ResultSet r = p.executeQuery()) { r.next(); System.out.println("visible " + r.getInt(1)); }
                }
            }
        }
    }
    """
}
