import MySQLWire
import NIOCore
import Testing

@Suite struct MessageTests {
    @Test("the relayed greeting drops compression, query attributes, SSL and MariaDB extended capabilities")
    func masksGreeting() throws {
        let original = Wire.greeting()
        let masked = try HandshakeV10.maskCapabilities(in: original, tls: false)
        let parsed = try HandshakeV10(payload: masked)
        #expect(!parsed.capabilities.contains(.compress))
        #expect(!parsed.capabilities.contains(.queryAttributes))
        #expect(!parsed.capabilities.contains(.ssl))
        #expect(parsed.capabilities.rawValue >> 32 == 0)
        #expect(parsed.capabilities.contains(.deprecateEOF))
        #expect(parsed.authPluginData == Array(1...20))
        #expect(parsed.authPluginName == "mysql_native_password")
        #expect(masked.readableBytes == original.readableBytes)
    }

    @Test("a listener with TLS offers CLIENT_SSL even when the server does not")
    func offersTLS() throws {
        let caps: MySQLCapabilities = [.protocol41, .secureConnection, .pluginAuth]
        let masked = try HandshakeV10.maskCapabilities(in: Wire.greeting(capabilities: caps), tls: true)
        #expect(try HandshakeV10(payload: masked).capabilities.contains(.ssl))
    }

    @Test("a truncated greeting is an error, not a crash")
    func truncatedGreeting() {
        var greeting = Wire.greeting()
        for length in [0, 1, 5, 20, 30] {
            let cut = greeting.getSlice(at: 0, length: length)!
            #expect(throws: MySQLWireError.self) { try HandshakeV10.maskCapabilities(in: cut, tls: false) }
        }
        greeting.moveWriterIndex(to: 40)
        #expect(throws: (any Error).self) { try HandshakeV10(payload: greeting) }
    }

    @Test("the handshake response round-trips user, auth data, database, plugin and connection attributes")
    func responseRoundTrip() throws {
        let response = Wire.response(attributes: [("_client_name", "libmariadb"), ("lane", "gray")])
        let parsed = try HandshakeResponse41(payload: response.encode())
        #expect(parsed.username == "app")
        #expect(parsed.database == "mse_demo")
        #expect(parsed.authResponse == Array(repeating: 7, count: 20))
        #expect(parsed.authPluginName == "mysql_native_password")
        #expect(parsed.attribute("lane") == "gray")
        #expect(parsed == response)
    }

    @Test("an SSLRequest is recognised by its 32-byte length and the SSL flag")
    func sslRequest() {
        var response = Wire.response()
        response.capabilities.insert(.ssl)
        #expect(SSLRequest.isSSLRequest(SSLRequest.encode(from: response)))
        #expect(!SSLRequest.isSSLRequest(response.encode()))
    }

    @Test("a proxy ERR carries the code, the '#' SQLSTATE marker and the message")
    func errEncoding() throws {
        let err = ERRPacket.tableRefusal("refused in lane gray")
        let bytes = Array(err.encode().readableBytesView)
        #expect(bytes.prefix(4) == [0xFF, 0x76, 0x04, UInt8(ascii: "#")])
        #expect(try ERRPacket(payload: err.encode()) == err)
        #expect(Array(err.encode(withSQLState: false).readableBytesView).count == 3 + "refused in lane gray".utf8.count)
    }

    @Test("0xFE is an EOF only when the payload is shorter than 9 bytes")
    func eofDetection() {
        #expect(EOFPacket.isEOF(EOFPacket(status: [.autocommit]).encode()))
        #expect(!EOFPacket.isEOF(ByteBuffer(bytes: [0xFE] + Array(repeating: 0, count: 9))))
    }

    @Test("the auth switch request round-trips its plugin name and scramble")
    func authSwitch() throws {
        let request = AuthSwitchRequest(pluginName: "client_ed25519", pluginData: Array(1...32))
        #expect(try AuthSwitchRequest(payload: request.encode()) == request)
    }

    @Test("COM_STMT_PREPARE OK and statement-id commands decode their ids")
    func statementPackets() throws {
        let ok = StmtPrepareOK(statementID: 77, numColumns: 2, numParams: 1)
        #expect(try StmtPrepareOK(payload: ok.encode()) == ok)
        #expect(StatementCommand.statementID(of: StatementCommand.encode(.stmtExecute, statementID: 77)) == 77)
        #expect(StatementCommand.statementID(of: ByteBuffer(bytes: [0x17, 1])) == nil)
    }
}
