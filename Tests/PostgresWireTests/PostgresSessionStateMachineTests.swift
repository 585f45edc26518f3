import NIOCore
import ShadowConfig
import ShadowSQL
import Testing

@testable import PostgresWire

@Suite("PostgreSQL session state machine")
struct PostgresSessionStateMachineTests {
    static func machine(tls: Bool = false) -> PostgresSessionStateMachine {
        PostgresSessionStateMachine(
            listener: StartupRoutingTests.listener, routing: StartupRoutingTests.routing(), tlsAvailable: tls)
    }

    static func frame(_ bytes: ByteBuffer) -> PostgresFrame {
        var b = bytes
        var decoder = PostgresFrameDecoder(maximumMessageSize: 1 << 20)
        return try! decoder.decode(buffer: &b)!
    }

    static func backend(_ id: Character, _ body: [UInt8] = []) -> PostgresFrame {
        var b = ByteBuffer()
        b.writeInteger(id.asciiValue!)
        b.writeInteger(Int32(4 + body.count))
        b.writeBytes(body)
        return frame(b)
    }

    /// A machine past authentication, idle.
    static func ready(lane: String? = nil) -> PostgresSessionStateMachine {
        var m = machine()
        var parameters = [(name: "user", value: "u")]
        if let lane { parameters.append(("options", "-c shadow.lane=\(lane)")) }
        _ = m.startupPacketReceived(.startup(StartupMessage(parameters: parameters)))
        _ = m.backendFrameReceived(backend("R", [0, 0, 0, 0]))
        _ = m.backendFrameReceived(backend("Z", [UInt8(ascii: "I")]))
        return m
    }

    /// Backend messages as the server sends them, back to back.
    static func raw(_ frames: [PostgresFrame], then tail: [UInt8] = []) -> ByteBuffer {
        var bytes = ByteBuffer()
        for frame in frames { bytes.writeImmutableBuffer(frame.bytes) }
        bytes.writeBytes(tail)
        return bytes
    }

    @Test("a run of DataRows at the start of what the server sent is taken whole, up to the first other message")
    func dataRowRun() {
        var m = Self.ready()
        let row = Self.backend("D", [0, 1, 0, 0, 0, 1, 0x31])
        let complete = Self.backend("C", Array("SELECT 2".utf8) + [0])
        #expect(m.backendDataRowRun(Self.raw([row, row, complete]), maximumMessageSize: 1 << 20) == 24)
        #expect(m.backendDataRowRun(Self.raw([complete, row]), maximumMessageSize: 1 << 20) == 0)
        // A DataRow not all received yet, one over the size limit and one with an invalid length go to the decoder.
        #expect(m.backendDataRowRun(Self.raw([row], then: [UInt8(ascii: "D"), 0, 0, 0, 20, 0]), maximumMessageSize: 1 << 20) == 12)
        #expect(m.backendDataRowRun(Self.raw([row, row]), maximumMessageSize: 10) == 0)
        #expect(m.backendDataRowRun(Self.raw([row], then: [UInt8(ascii: "D"), 0, 0, 0, 3]), maximumMessageSize: 1 << 20) == 12)
        // Before the session is ready nothing runs.
        var starting = Self.machine()
        _ = starting.startupPacketReceived(.startup(StartupMessage(parameters: [(name: "user", value: "u")])))
        #expect(starting.backendDataRowRun(Self.raw([row]), maximumMessageSize: 1 << 20) == 0)
    }

    @Test("SSLRequest is answered S when the listener has TLS and N otherwise; GSSENCRequest always N")
    func sslAndGSS() {
        var withTLS = Self.machine(tls: true)
        guard case .startTLS = withTLS.startupPacketReceived(.sslRequest) else {
            Issue.record("expected startTLS")
            return
        }
        var without = Self.machine()
        guard case .reply(let n) = without.startupPacketReceived(.sslRequest) else {
            Issue.record("expected N")
            return
        }
        #expect(n == ByteBuffer(bytes: [UInt8(ascii: "N")]))
        guard case .reply(let g) = withTLS.startupPacketReceived(.gssEncryptionRequest) else {
            Issue.record("expected N")
            return
        }
        #expect(g == ByteBuffer(bytes: [UInt8(ascii: "N")]))
    }

    @Test("a CancelRequest is handed to the glue with the client's key")
    func cancel() {
        var m = Self.machine()
        guard case .cancel(let pid, let key) = m.startupPacketReceived(.cancelRequest(processID: 5, secretKey: 6)) else {
            Issue.record("expected cancel")
            return
        }
        #expect(pid == 5 && key == 6)
    }

    @Test("a StartupMessage connects to the lane's server with the edited startup packet")
    func connect() {
        var m = Self.machine()
        let action = m.startupPacketReceived(
            .startup(StartupMessage(parameters: [("user", "u"), ("options", "-c shadow.lane=stress")])))
        guard case .connect(let backend, _, let preamble) = action else {
            Issue.record("expected connect, got \(action)")
            return
        }
        #expect(backend == Endpoint(host: "10.0.0.2", port: 5432))
        #expect(preamble == nil)
        #expect(m.connectionLane == "stress")
    }

    @Test("SCRAM-SHA-256-PLUS is removed from the server's SASL mechanisms")
    func channelBindingStripped() throws {
        var m = Self.machine()
        _ = m.startupPacketReceived(.startup(StartupMessage(parameters: [("user", "u")])))
        var body: [UInt8] = [0, 0, 0, 10]
        body += Array("SCRAM-SHA-256-PLUS".utf8) + [0] + Array("SCRAM-SHA-256".utf8) + [0, 0]
        guard case .replace(let bytes) = m.backendFrameReceived(Self.backend("R", body)) else {
            Issue.record("expected replace")
            return
        }
        #expect(bytes == PostgresMessageEncoder.authenticationSASL(mechanisms: ["SCRAM-SHA-256"]))
    }

    @Test("BackendKeyData is replaced by a proxy key and the first ReadyForQuery completes the handshake")
    func keyAndReady() {
        var m = Self.machine()
        _ = m.startupPacketReceived(.startup(StartupMessage(parameters: [("user", "u")])))
        guard case .issueCancelKey(let pid, let key) = m.backendFrameReceived(Self.backend("K", [0, 0, 0, 9, 0, 0, 0, 8]))
        else {
            Issue.record("expected issueCancelKey")
            return
        }
        #expect(pid == 9 && key == 8)
        guard case .forwardHandshakeComplete = m.backendFrameReceived(Self.backend("Z", [UInt8(ascii: "I")])) else {
            Issue.record("expected handshake completion")
            return
        }
        #expect(m.isIdle)
    }

    @Test("only password messages are accepted during authentication")
    func authenticationPhase() {
        var m = Self.machine()
        _ = m.startupPacketReceived(.startup(StartupMessage(parameters: [("user", "u")])))
        guard case .protocolViolation = m.frontendFrameReceived(Self.frame(PostgresMessageEncoder.query(sql: Array("SELECT 1".utf8))))
        else {
            Issue.record("query during authentication accepted")
            return
        }
    }

    @Test("base-lane queries are forwarded untouched")
    func baseForward() {
        var m = Self.ready()
        guard case .forward = m.frontendFrameReceived(Self.frame(PostgresMessageEncoder.query(sql: Array("SELECT 1".utf8))))
        else {
            Issue.record("base query not forwarded")
            return
        }
        #expect(!m.isIdle)
        _ = m.backendFrameReceived(Self.backend("C", Array("SELECT 1".utf8) + [0]))
        _ = m.backendFrameReceived(Self.backend("Z", [UInt8(ascii: "I")]))
        #expect(m.isIdle)
    }

    @Test("after an error in a pipeline the responses until Sync are discarded and the session is idle at ReadyForQuery")
    func pipelineError() {
        var m = Self.ready()
        for message in [
            PostgresMessageEncoder.parse(statement: "", sql: Array("SELECT 1/0".utf8), parameterTypes: ByteBuffer(bytes: [0, 0])),
            PostgresMessageEncoder.bind(portal: "", statement: ""),
            PostgresMessageEncoder.execute(portal: ""),
        ] {
            guard case .forward = m.frontendFrameReceived(Self.frame(message)) else {
                Issue.record("not forwarded")
                return
            }
        }
        var sync = ByteBuffer()
        sync.writeInteger(UInt8(ascii: "S"))
        sync.writeInteger(Int32(4))
        _ = m.frontendFrameReceived(Self.frame(sync))
        _ = m.backendFrameReceived(Self.backend("1"))
        _ = m.backendFrameReceived(Self.backend("2"))
        guard case .forward = m.backendFrameReceived(Self.frame(PostgresMessageEncoder.errorResponse(sqlState: "22012", message: "division by zero")))
        else {
            Issue.record("server error not relayed")
            return
        }
        #expect(!m.isIdle)
        _ = m.backendFrameReceived(Self.backend("Z", [UInt8(ascii: "I")]))
        #expect(m.isIdle)
    }

    @Test("CopyData outside COPY is a protocol violation; inside COPY it is forwarded")
    func copyData() {
        var m = Self.ready()
        var data = ByteBuffer()
        data.writeInteger(UInt8(ascii: "d"))
        data.writeInteger(Int32(5))
        data.writeInteger(UInt8(1))
        guard case .protocolViolation = m.frontendFrameReceived(Self.frame(data)) else {
            Issue.record("CopyData outside COPY accepted")
            return
        }
        var m2 = Self.ready()
        _ = m2.frontendFrameReceived(Self.frame(PostgresMessageEncoder.query(sql: Array("COPY t FROM STDIN".utf8))))
        _ = m2.backendFrameReceived(Self.backend("G", [0, 0, 0]))
        guard case .forward = m2.frontendFrameReceived(Self.frame(data)) else {
            Issue.record("CopyData inside COPY refused")
            return
        }
    }

    @Test("Terminate is forwarded and closes the session")
    func terminate() {
        var m = Self.ready()
        var x = ByteBuffer()
        x.writeInteger(UInt8(ascii: "X"))
        x.writeInteger(Int32(4))
        guard case .forwardAndClose = m.frontendFrameReceived(Self.frame(x)) else {
            Issue.record("terminate not forwarded")
            return
        }
    }

    @Test("a connection labelled with a lane on its own server runs its statements there")
    func laneOnOwnServer() {
        var m = Self.ready(lane: "stress")
        #expect(m.currentLane == "stress")
        guard case .forward = m.frontendFrameReceived(Self.frame(PostgresMessageEncoder.query(sql: Array("SELECT 1".utf8))))
        else {
            Issue.record("statement on the lane's own server not forwarded")
            return
        }
    }
}

@Suite("Session lane switch semantics")
struct SessionLaneSettingTests {
    let setting = "shadow.lane"

    @Test("a SET outside a transaction sticks once the implicit transaction succeeds")
    func setSticks() {
        var s = SessionLaneSetting()
        s.apply(.setVariable(name: setting, value: "gray", scope: .session), setting: setting)
        s.readyForQuery(status: UInt8(ascii: "I"), errorSeen: false)
        #expect(s.effectiveLane == "gray")
    }

    @Test("a SET inside a transaction that rolls back is undone")
    func rolledBack() {
        var s = SessionLaneSetting()
        s.apply(.setVariable(name: setting, value: "gray", scope: .session), setting: setting)
        s.readyForQuery(status: UInt8(ascii: "T"), errorSeen: false)
        #expect(s.effectiveLane == "gray")
        s.commandCompleted(tag: "ROLLBACK")
        s.readyForQuery(status: UInt8(ascii: "I"), errorSeen: false)
        #expect(s.effectiveLane == nil)
    }

    @Test("SET LOCAL ends with the transaction")
    func setLocal() {
        var s = SessionLaneSetting()
        s.apply(.setVariable(name: setting, value: "gray", scope: .session), setting: setting)
        s.commit()
        s.apply(.setVariable(name: setting, value: "stress", scope: .local), setting: setting)
        #expect(s.effectiveLane == "stress")
        s.commandCompleted(tag: "COMMIT")
        #expect(s.effectiveLane == "gray")
    }

    @Test("RESET, SET TO DEFAULT, RESET ALL and DISCARD ALL return to the startup value")
    func reset() {
        var s = SessionLaneSetting()
        s.apply(.setVariable(name: setting, value: "gray", scope: .session), setting: setting)
        s.commit()
        s.apply(.setVariable(name: setting, value: nil, scope: .session), setting: setting)
        s.commit()
        #expect(s.effectiveLane == nil)
        s.apply(.setVariable(name: setting, value: "gray", scope: .session), setting: setting)
        s.commit()
        s.apply(.resetAll, setting: setting)
        s.commit()
        #expect(s.effectiveLane == nil)
    }

    @Test("an implicit transaction that failed drops its SET; other settings are ignored")
    func failedImplicit() {
        var s = SessionLaneSetting()
        s.apply(.setVariable(name: "work_mem", value: "1MB", scope: .session), setting: setting)
        s.apply(.setVariable(name: "SHADOW.LANE", value: "gray", scope: .session), setting: setting)
        s.readyForQuery(status: UInt8(ascii: "I"), errorSeen: true)
        #expect(s.effectiveLane == nil)
    }
}
