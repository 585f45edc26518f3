import MySQLWire
import NIOCore
import ShadowConfig
import ShadowSQL
import Testing

/// The session state machine's hooks for operations: statement events, reloads, drain and KILL checks.
@Suite("MySQL session operations")
struct OperationsSessionTests {
    @Test("a base statement is reported forwarded in the base lane with its text")
    func baseEvent() {
        var machine = Wire.commandPhase()
        _ = machine.clientPacketReceived(Wire.query("SELECT 1"))
        let event = machine.takeStatementEvent()
        #expect(event?.lane == "base")
        #expect(event?.outcome == .forwarded)
        #expect(event.map { String(buffer: $0.sql) } == "SELECT 1")
        #expect(machine.takeStatementEvent() == nil)
    }

    @Test("a statement in a lane is reported rewritten with the text the server got")
    func rewrittenEvent() {
        var machine = Wire.commandPhase(attributes: [("lane", "gray")])
        _ = machine.clientPacketReceived(Wire.query("INSERT INTO t (a) VALUES (1)"))
        guard case .rewritten(let sql)? = machine.takeStatementEvent()?.outcome else {
            Issue.record("not rewritten")
            return
        }
        #expect(String(decoding: sql, as: UTF8.self).contains("t_gray"))
    }

    @Test("a refused command is reported with its lane and message, and an unknown lane is not a metric label")
    func refusedEvent() {
        var machine = Wire.commandPhase()
        _ = machine.clientPacketReceived(Wire.query("/* lane=nope */ SELECT 1"))
        let event = machine.takeStatementEvent()
        #expect(event?.lane == MySQLStatementEvent.unknownLane)
        guard case .refused(let refusal)? = event?.outcome else {
            Issue.record("not refused")
            return
        }
        #expect(refusal.message.contains("unknown lane 'nope'"))
    }

    @Test("after a reload that removes the connection's lane, its statements are refused naming the lanes left")
    func reloadRemovesLane() {
        var machine = Wire.commandPhase(attributes: [("lane", "gray")])
        let smaller = RoutingTable(configuration: ShadowgateConfiguration(
            listeners: [Wire.listener],
            lanes: [LaneConfiguration(name: "gray2", mapping: LaneMapping(lane: "gray2", tableSuffix: "_gray"))]))
        machine.useRouting(smaller)
        let action = machine.clientPacketReceived(Wire.query("INSERT INTO t (a) VALUES (1)"))
        #expect(action.backendPacket == nil)
        let err = action.clientPacket.flatMap { try? ERRPacket(payload: $0.payload) }
        #expect(err?.message.contains("lane 'gray' is no longer configured") == true)
        #expect(err?.message.contains("gray2") == true)
        // A reload that brings the lane back makes the session usable again, with the new mapping.
        machine.useRouting(Wire.routing())
        let again = machine.clientPacketReceived(Wire.query("INSERT INTO t (a) VALUES (1)", seq: 0))
        #expect(again.backendPacket.map { String(buffer: TextCommand.text(of: $0.payload)) }?.contains("t_gray") == true)
    }

    @Test("a reload that changes a lane's mapping applies to the next statement")
    func reloadChangesMapping() {
        var machine = Wire.commandPhase(attributes: [("lane", "gray")])
        let changed = RoutingTable(configuration: ShadowgateConfiguration(
            listeners: [Wire.listener],
            lanes: [LaneConfiguration(name: "gray", mapping: LaneMapping(lane: "gray", tableSuffix: "_shadow"))]))
        machine.useRouting(changed)
        let action = machine.clientPacketReceived(Wire.query("INSERT INTO t (a) VALUES (1)"))
        #expect(action.backendPacket.map { String(buffer: TextCommand.text(of: $0.payload)) }?.contains("t_shadow") == true)
    }

    @Test("drain: a connection in a transaction is not idle until the server reports the transaction ended")
    func idleOutsideTransaction() {
        var machine = Wire.commandPhase()
        #expect(machine.isIdleOutsideTransaction)
        _ = machine.clientPacketReceived(Wire.query("BEGIN"))
        _ = machine.backendFrameReceived(Wire.ok(status: [.autocommit, .inTransaction]))
        #expect(machine.isIdle)
        #expect(!machine.isIdleOutsideTransaction)
        let closeNow = machine.quiesce()
        #expect(!closeNow)
        _ = machine.clientPacketReceived(Wire.query("COMMIT"))
        #expect(!machine.isIdleOutsideTransaction)
        _ = machine.backendFrameReceived(Wire.ok(status: [.autocommit]))
        #expect(machine.isIdleOutsideTransaction)
    }

    @Test("at the shutdown deadline an idle connection gets ERR 1053 and is closed; a busy one is just closed")
    func shutdownDeadline() throws {
        var idle = Wire.commandPhase()
        let action = idle.shutdownDeadline()
        guard case .sendToClientAndClose(let packet) = action else {
            Issue.record("expected an ERR and close, got \(action)")
            return
        }
        #expect(try ERRPacket(payload: packet.payload).code == 1053)
        var busy = Wire.commandPhase()
        _ = busy.clientPacketReceived(Wire.query("SELECT SLEEP(10)"))
        guard case .closeConnection = busy.shutdownDeadline() else {
            Issue.record("expected a plain close")
            return
        }
    }

    @Test("KILL of a thread the proxy knows only on another server is refused; on this server it is forwarded")
    func killOnOtherServer() throws {
        var machine = Wire.commandPhase()
        let remote = Endpoint(host: "10.0.0.2", port: 3306)
        let here = Wire.listener.backend
        machine.knownThreads = { id in
            switch id {
            case 77: [MySQLKnownThread(location: MySQLThreadLocation(server: remote, threadID: 77), lane: "remote")]
            case 78: [MySQLKnownThread(location: MySQLThreadLocation(server: remote, threadID: 3), lane: "remote"),
                      MySQLKnownThread(location: MySQLThreadLocation(server: here, threadID: 78), lane: nil)]
            default: []
            }
        }
        let refused = machine.clientPacketReceived(Wire.query("KILL QUERY 77"))
        #expect(refused.backendPacket == nil)
        let err = try #require(refused.clientPacket.flatMap { try? ERRPacket(payload: $0.payload) })
        #expect(err.message.contains("thread 77"))
        #expect(err.message.contains("10.0.0.2:3306"))
        let same = machine.clientPacketReceived(Wire.query("KILL 78", seq: 0))
        #expect(same.backendPacket.map { String(buffer: TextCommand.text(of: $0.payload)) } == "KILL 78")
        _ = machine.backendFrameReceived(Wire.ok())
        #expect(machine.clientPacketReceived(Wire.query("KILL 79", seq: 0)).backendPacket != nil)
        _ = machine.backendFrameReceived(Wire.ok())
        var processKill = ByteBuffer(bytes: [MySQLCommand.processKill.rawValue])
        processKill.writeInteger(UInt32(77), endianness: .little)
        #expect(machine.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: processKill)).clientPacket != nil)
    }

    @Test("KILL of the id a client was given for a connection moved to this lane server is rewritten to its real id")
    func killRewrittenToRealID() throws {
        var machine = Wire.commandPhase()
        machine.knownThreads = { id in
            id == 31 ? [MySQLKnownThread(location: MySQLThreadLocation(server: Wire.listener.backend, threadID: 12), lane: nil)] : []
        }
        let action = machine.clientPacketReceived(Wire.query("/* x */ KILL CONNECTION 31;"))
        #expect(action.backendPacket.map { String(buffer: TextCommand.text(of: $0.payload)) } == "/* x */ KILL CONNECTION 12;")
        _ = machine.backendFrameReceived(Wire.ok())
        var processKill = ByteBuffer(bytes: [MySQLCommand.processKill.rawValue])
        processKill.writeInteger(UInt32(31), endianness: .little)
        let sent = try #require(machine.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: processKill)).backendPacket)
        #expect(sent.payload.getInteger(at: sent.payload.readerIndex + 1, endianness: .little, as: UInt32.self) == 12)
    }

    @Test("KILL in a lane ends only that lane's connections: another lane's, base's and unknown ids are refused")
    func killInLane() throws {
        let here = Wire.listener.backend
        let threads: @Sendable (UInt64) -> [MySQLKnownThread] = { id in
            switch id {
            case 50: [MySQLKnownThread(location: MySQLThreadLocation(server: here, threadID: 50), lane: "gray")]
            case 51: [MySQLKnownThread(location: MySQLThreadLocation(server: here, threadID: 51), lane: nil)]
            default: []
            }
        }
        func message(_ action: MySQLSessionStateMachine.Action) -> String? {
            guard action.backendPacket == nil else { return nil }
            return action.clientPacket.flatMap { try? ERRPacket(payload: $0.payload) }?.message
        }
        var gray = Wire.commandPhase(attributes: [("lane", "gray")])
        gray.knownThreads = threads
        #expect(gray.clientPacketReceived(Wire.query("KILL QUERY 50")).backendPacket != nil)
        _ = gray.backendFrameReceived(Wire.ok())
        let base = message(gray.clientPacketReceived(Wire.query("KILL QUERY 51", seq: 0)))
        #expect(base?.contains("it is a connection of lane 'base'") == true)
        let unknown = message(gray.clientPacketReceived(Wire.query("KILL 52", seq: 0)))
        #expect(unknown?.contains("not a connection of lane 'gray' through this proxy") == true)
        var processKill = ByteBuffer(bytes: [MySQLCommand.processKill.rawValue])
        processKill.writeInteger(UInt32(51), endianness: .little)
        #expect(message(gray.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: processKill)))?.contains("lane 'base'") == true)
        #expect(message(gray.clientPacketReceived(Wire.query("KILL USER app", seq: 0)))?.contains("KILL other than one") == true)
        // A KILL among other statements is not looked up by the session, so a lane refuses it.
        #expect(message(gray.clientPacketReceived(Wire.query("KILL QUERY 51; SELECT 1", seq: 0)))?.contains("KILL other than one") == true)
        // The base lane kills any connection; a hint makes a base connection's KILL a lane KILL.
        var plain = Wire.commandPhase()
        plain.knownThreads = threads
        #expect(plain.clientPacketReceived(Wire.query("KILL QUERY 50")).backendPacket != nil)
        _ = plain.backendFrameReceived(Wire.ok())
        #expect(plain.clientPacketReceived(Wire.query("KILL QUERY 52", seq: 0)).backendPacket != nil)
        _ = plain.backendFrameReceived(Wire.ok())
        #expect(message(plain.clientPacketReceived(Wire.query("/* lane=gray */ KILL QUERY 51", seq: 0)))?.contains("lane 'base'") == true)
    }

    @Test("COM_REFRESH and COM_SHUTDOWN are refused in a lane and forwarded in base; COM_PING passes in both")
    func serverWideCommands() throws {
        for command in [MySQLCommand.refresh, .shutdown] {
            var gray = Wire.commandPhase(attributes: [("lane", "gray")])
            let packet = MySQLPacket(sequenceID: 0, payload: ByteBuffer(bytes: [command.rawValue, 0]))
            let refused = gray.clientPacketReceived(packet)
            #expect(refused.backendPacket == nil)
            let message = try #require(refused.clientPacket.flatMap { try? ERRPacket(payload: $0.payload) }?.message)
            #expect(message.contains("lane 'gray'") && message.contains("whole server"))
            var base = Wire.commandPhase()
            #expect(base.clientPacketReceived(packet).backendPacket != nil)
        }
        var gray = Wire.commandPhase(attributes: [("lane", "gray")])
        #expect(gray.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: ByteBuffer(bytes: [MySQLCommand.ping.rawValue]))).backendPacket != nil)
    }

    @Test("the server thread id comes from the greeting")
    func threadID() {
        let machine = Wire.commandPhase()
        #expect(machine.serverThreadID == 42)
    }
}

@Suite("KILL statement recognition")
struct KillStatementTests {
    func id(_ sql: String) -> UInt64? {
        KillStatement.threadID(inQuery: TextCommand.encode(.query, text: Array(sql.utf8)))
    }

    @Test("the forms of KILL that name a thread id are recognised")
    func recognised() {
        #expect(id("KILL 12") == 12)
        #expect(id("kill connection 12;") == 12)
        #expect(id("  /* lane=gray */ KILL QUERY 7 ") == 7)
        #expect(id("KILL HARD QUERY 9") == 9)
        #expect(id("-- note\nKILL\tSOFT CONNECTION 5") == 5)
        #expect(id("# note\nKill 3 ;  ") == 3)
    }

    @Test("anything else is not a KILL of a thread id")
    func notRecognised() {
        #expect(id("KILL QUERY ID 12") == nil)
        #expect(id("KILL USER app") == nil)
        #expect(id("KILL 12; SELECT 1") == nil)
        #expect(id("KILLS 1") == nil)
        #expect(id("KILL 12a") == nil)
        #expect(id("/*!KILL 12 */") == nil)
        #expect(id("SELECT 'KILL 12'") == nil)
        #expect(id("KILL 99999999999999999999999") == nil)
        #expect(id("KILL /* unterminated") == nil)
        #expect(id("") == nil)
    }
}
