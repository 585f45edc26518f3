import DatabaseClients
import Foundation
import Logging
import NIOCore
import NIOPosix
import ShadowProxy
import ShadowConfig
import Testing

/// Large packets, TLS, the lane server at handshake, and faults, through the in-process proxy.
@Suite struct MySQLProxyFaultTests {
    func withProxy<T>(
        backend: Endpoint? = nil, tls: TLSFiles? = nil, ownLoops: Bool = false, _ body: (MySQLTestProxy) async throws -> T
    ) async throws -> T {
        try await MySQLTestProxy.with(backend: backend, tls: tls, ownLoops: ownLoops, body)
    }

    /// Pseudo-random bytes (every byte value occurs, so escaping and 0xFB/0xFE/0xFF bytes are exercised).
    static func blob(_ size: Int) -> [UInt8] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64.random(in: 0...UInt64.max)
        var bytes = [UInt8](repeating: 0, count: size)
        for i in 0..<size {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes[i] = UInt8(truncatingIfNeeded: state >> 56)
        }
        return bytes
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: bytes.count * 2)
        for (i, byte) in bytes.enumerated() {
            out[2 * i] = digits[Int(byte >> 4)]
            out[2 * i + 1] = digits[Int(byte & 15)]
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test("a 17 MiB blob goes through the proxy in both directions (continuation packets) unchanged")
    func largePayloadBaseLane() async throws {
        try await withProxy(ownLoops: true) { proxy in
            let table = TestEnvironment.uniqueName("blob")
            let direct = try proxy.direct()
            try direct.execute("CREATE TABLE \(table) (id INT PRIMARY KEY, b LONGBLOB)")
            defer { _ = try? direct.execute("DROP TABLE \(table)") }
            let data = Self.blob(17 << 20)
            let conn = try proxy.connect()
            let insert = try conn.prepare("INSERT INTO \(table) VALUES (1, ?)")
            #expect(try insert.execute(params: [.bytes(data)]).affectedRows == 1)
            insert.close()
            let hex = Self.hex(data)
            #expect(try conn.execute("INSERT INTO \(table) VALUES (2, x'\(hex)')") == 1)
            let back = try conn.query("SELECT b FROM \(table) ORDER BY id")
            #expect(back.rawRows.count == 2)
            #expect(back.rawRows.first?.first??.count == data.count)
            #expect(back.rawRows.allSatisfy { $0.first == .some(data) })
            #expect(try conn.query("SELECT 3").scalar == "3")
        }
    }

    @Test("a 17 MiB blob written in lane gray lands in the shadow table and reads back whole")
    func largePayloadGrayLane() async throws {
        try await withProxy(ownLoops: true) { proxy in
            let table = TestEnvironment.uniqueName("blobg")
            let direct = try proxy.direct()
            try direct.execute("CREATE TABLE \(table) (id INT PRIMARY KEY, b LONGBLOB)")
            try direct.execute("CREATE TABLE \(table)_gray LIKE \(table)")
            defer { _ = try? direct.queryAll("DROP TABLE \(table); DROP TABLE \(table)_gray") }
            let data = Self.blob(17 << 20)
            let conn = try proxy.connect(attributes: ["lane": "gray"])
            let hex = Self.hex(data)
            #expect(try conn.execute("INSERT INTO \(table) VALUES (1, x'\(hex)')") == 1)
            #expect(try conn.query("SELECT b FROM \(table)").rawRows.first?.first == .some(data))
            #expect(try direct.query("SELECT COUNT(*) FROM \(table)").scalar == "0")
            #expect(try direct.query("SELECT LENGTH(b) FROM \(table)_gray").scalar == "\(data.count)")
        }
    }

    @Test("a client that disconnects in the middle of a large result frees its connection and the proxy carries on")
    func clientDisconnectMidResult() async throws {
        try await withProxy { proxy in
            let script = """
            import os, pymysql, pymysql.cursors
            c = pymysql.connect(host='127.0.0.1', port=int(os.environ['P_PORT']), user=os.environ['P_USER'],
                                password=os.environ['P_PASS'], database='mse_demo', cursorclass=pymysql.cursors.SSCursor)
            cur = c.cursor()
            cur.execute("SELECT seq, REPEAT('x', 200) FROM seq_1_to_2000000")
            for _ in range(10): cur.fetchone()
            print('read')
            os._exit(0)
            """
            let out = try MySQLPythonClient.run(script, environment: [
                "P_PORT": "\(proxy.port)", "P_USER": proxy.env.mysql.user, "P_PASS": proxy.env.mysql.password,
            ])
            #expect(out.contains("read"))
            for _ in 0..<100 where proxy.listener.connectionCount > 0 { try await Task.sleep(nanoseconds: 50_000_000) }
            #expect(proxy.listener.connectionCount == 0)
            let conn = try proxy.connect()
            #expect(try conn.query("SELECT 'alive'").scalar == "alive")
        }
    }

    @Test("an unreachable backend answers the client with an error naming the backend")
    func unreachableBackend() async throws {
        let env = try TestEnvironment.load()
        let dead = try Self.closedPort()
        defer { dead.release() }
        let deadPort = dead.port
        try await withProxy(backend: Endpoint(host: "127.0.0.1", port: deadPort)) { proxy in
            let error = #expect(throws: DatabaseClientError.self) { try proxy.connect() }
            #expect(error?.message.contains("127.0.0.1:\(deadPort)") == true)
            #expect(error?.serverErrorNumber == 1429, "\(String(describing: error))")
            _ = env
        }
    }

    @Test("a client using TLS talks to the proxy over TLS with the listener's certificate")
    func clientTLS() async throws {
        let env = try TestEnvironment.load()
        try await withProxy(tls: TLSFiles(certificatePath: env.tlsCertificate, privateKeyPath: env.tlsKey)) { proxy in
            let conn = try proxy.connect(tls: .required(caPath: env.tlsCertificate))
            #expect(conn.tlsCipher != nil)
            #expect(try conn.query("SELECT 'secure'").scalar == "secure")
            let plain = try proxy.connect()
            #expect(plain.tlsCipher == nil)
            #expect(try plain.query("SELECT 'plain'").scalar == "plain")
        }
    }

    @Test("a lane with its own server moves the connection there at handshake (mysql_native_password and ed25519)")
    func laneServerAtHandshake() async throws {
        try await withProxy { proxy in
            for (user, password) in [("shadow", "shadow-pass"), ("shadow_ed", "ed-pass")] {
                let marker = TestEnvironment.uniqueName("remote")
                let conn = try proxy.connect(user: user, password: password, attributes: ["lane": "remote"])
                #expect(try conn.execute("INSERT INTO mse_demo_table (location) VALUES ('\(marker)')") == 1)
                conn.close()
                let shadow = try proxy.direct(shadow: true)
                #expect(Int(try shadow.query("SELECT COUNT(*) FROM mse_demo_table WHERE location = '\(marker)'").scalar ?? "") == 1)
                let base = try proxy.direct()
                #expect(Int(try base.query("SELECT COUNT(*) FROM mse_demo_table WHERE location = '\(marker)'").scalar ?? "") == 0)
            }
            let wrong = #expect(throws: DatabaseClientError.self) {
                try proxy.connect(user: "shadow", password: "wrong", attributes: ["lane": "remote"])
            }
            #expect(wrong?.serverErrorNumber == 1045)
        }
    }

    @Test("an unreachable lane server fails that client's login with an error naming the server; base logins still work")
    func unreachableLaneServer() async throws {
        let env = try TestEnvironment.load()
        let dead = try Self.closedPort()
        defer { dead.release() }
        let deadPort = dead.port
        var config = MySQLTestProxy.configuration(env: env)
        config.lanes = config.lanes.map { lane in
            var lane = lane
            if lane.name == "remote" { lane.backends[MySQLTestProxy.listenerName] = Endpoint(host: "127.0.0.1", port: deadPort) }
            return lane
        }
        let proxy = try await MySQLTestProxy.start(env: env, configuration: config)
        let error = #expect(throws: DatabaseClientError.self) { try proxy.connect(attributes: ["lane": "remote"]) }
        #expect(error?.message.contains("127.0.0.1:\(deadPort)") == true, "\(String(describing: error))")
        #expect(try proxy.connect().query("SELECT 'base ok'").scalar == "base ok")
        await proxy.stop()
    }

    @Test("when the client goes away mid-result the proxy closes its server connection too")
    func serverConnectionClosedWithClient() async throws {
        try await withProxy { proxy in
            let marker = TestEnvironment.uniqueName("gone")
            let script = """
            import os, pymysql, pymysql.cursors
            c = pymysql.connect(host='127.0.0.1', port=int(os.environ['P_PORT']), user=os.environ['P_USER'],
                                password=os.environ['P_PASS'], database='mse_demo', cursorclass=pymysql.cursors.SSCursor)
            cur = c.cursor()
            cur.execute("SELECT seq, '%s' FROM seq_1_to_5000000" % os.environ['P_MARK'])
            cur.fetchone()
            os._exit(0)
            """
            _ = try MySQLPythonClient.run(script, environment: [
                "P_PORT": "\(proxy.port)", "P_USER": proxy.env.mysql.user, "P_PASS": proxy.env.mysql.password, "P_MARK": marker,
            ])
            let direct = try proxy.direct()
            var remaining = -1
            // Generous on a loaded machine; the 1-second promise is measured by the reliability suite on its own.
            for _ in 0..<400 {
                remaining = Int(try direct.query(
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%\(marker)%' AND INFO NOT LIKE '%PROCESSLIST%'").scalar ?? "") ?? -1
                if remaining == 0 { break }
                try await Task.sleep(nanoseconds: 50_000_000)
            }
            #expect(remaining == 0)
        }
    }

    @Test("a TLS client labelled with a lane on its own server is moved there (sequence ids shifted by the SSLRequest)")
    func tlsClientToLaneServer() async throws {
        let env = try TestEnvironment.load()
        try await withProxy(tls: TLSFiles(certificatePath: env.tlsCertificate, privateKeyPath: env.tlsKey)) { proxy in
            for (user, password) in [("shadow", "shadow-pass"), ("shadow_ed", "ed-pass")] {
                let conn = try proxy.connect(user: user, password: password, attributes: ["lane": "remote"], tls: .required(caPath: env.tlsCertificate))
                #expect(conn.tlsCipher != nil)
                let port = try conn.query("SELECT @@port").scalar
                #expect(port == "\(env.mysql.shadowPort)")
            }
        }
    }

    @Test("a statement larger than the proxy's maximum message size gets error 1153 and only that connection closes")
    func oversizedStatement() async throws {
        try await withProxy { proxy in
            let other = try proxy.connect()
            let conn = try proxy.connect()
            let huge = "SELECT '" + String(repeating: "x", count: (64 << 20) + 10) + "'"
            let error = #expect(throws: DatabaseClientError.self) { try conn.query(huge) }
            #expect(error?.serverErrorNumber == 1153, "\(String(describing: error))")
            #expect(try other.query("SELECT 'unaffected'").scalar == "unaffected")
        }
    }

    /// A loopback port nothing listens on, held bound (not listening) until `release()`: a connection attempt is
    /// refused at once. A port merely bound and closed again could meanwhile be taken by another test's listener,
    /// or picked as the source port of the very connection that tries it (a TCP self-connect that then waits for
    /// a greeting instead of failing).
    final class ClosedPort {
        let port: Int
        private var fd: Int32

        init() {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = 0
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
            _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
            self.fd = fd
            port = Int(UInt16(bigEndian: addr.sin_port))
        }

        func release() {
            if fd >= 0 { close(fd) }
            fd = -1
        }

        deinit { release() }
    }

    static func closedPort() throws -> ClosedPort { ClosedPort() }
}
