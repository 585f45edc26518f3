import NIOCore
import ShadowConfig
import ShadowSQL
import Testing

@testable import PostgresWire

/// What the state machine reports for metrics and logs, and how it follows a configuration reload.
@Suite("PostgreSQL session state machine: statement events and reloads")
struct PostgresSessionOperationsTests {
    typealias Helpers = PostgresSessionStateMachineTests

    static func query(_ sql: String) -> PostgresFrame {
        Helpers.frame(PostgresMessageEncoder.query(sql: Array(sql.utf8)))
    }

    @Test("each routed statement is reported with its lane and outcome; other messages report nothing")
    func statementEvents() {
        var m = Helpers.ready(lane: "gray")
        _ = m.frontendFrameReceived(Self.query("INSERT INTO orders (id) VALUES (1)"))
        guard case .rewritten(let bytes) = m.lastStatement?.outcome else {
            Issue.record("expected a rewrite, got \(String(describing: m.lastStatement))")
            return
        }
        #expect(m.lastStatement?.lane == "gray")
        #expect(String(decoding: bytes, as: UTF8.self).contains("orders_gray"))
        _ = m.frontendFrameReceived(Helpers.backend("S"))
        #expect(m.lastStatement == nil)

        var base = Helpers.ready()
        _ = base.frontendFrameReceived(Self.query("SELECT 1"))
        guard case .forwarded = base.lastStatement?.outcome else {
            Issue.record("expected forwarded")
            return
        }
        #expect(base.lastStatement?.lane == "base")
    }

    @Test("after a reload removes the connection's lane its statements are refused, naming the remaining lanes")
    func laneRemovedByReload() {
        var m = Helpers.ready(lane: "gray")
        m.useRouting(
            RoutingTable(
                configuration: ShadowgateConfiguration(
                    listeners: [StartupRoutingTests.listener],
                    lanes: [LaneConfiguration(name: "canary", mapping: LaneMapping(lane: "canary"))])))
        let action = m.frontendFrameReceived(Self.query("INSERT INTO orders (id) VALUES (1)"))
        guard case .send = action, case .refused(let refusal) = m.lastStatement?.outcome else {
            Issue.record("expected a refusal, got \(action)")
            return
        }
        #expect(refusal.message.contains("no longer configured"))
        #expect(refusal.message.contains("canary"))
        // The lane name is not a configured one any more: metrics see it as unknown.
        #expect(m.lastStatement?.lane == PostgresStatementEvent.unknownLane)
    }

    @Test("a session in an unknown lane may still switch lanes, but nothing else runs")
    func leaveUnknownLane() {
        var m = Helpers.ready()
        _ = m.frontendFrameReceived(Self.query("SET shadow.lane = 'purple'"))
        _ = m.backendFrameReceived(Helpers.backend("C", Array("SET\0".utf8)))
        _ = m.backendFrameReceived(Helpers.backend("Z", [UInt8(ascii: "I")]))
        #expect(m.currentLane == "purple")
        guard case .send = m.frontendFrameReceived(Self.query("SELECT * FROM orders")) else {
            Issue.record("expected the statement to be refused")
            return
        }
        _ = m.backendFrameReceived(Helpers.backend("E", Array("SERROR\0C42601\0Mx\0\0".utf8)))
        _ = m.backendFrameReceived(Helpers.backend("Z", [UInt8(ascii: "I")]))
        guard case .forward = m.frontendFrameReceived(Self.query("RESET shadow.lane")) else {
            Issue.record("expected RESET to be forwarded")
            return
        }
        guard case .send = m.frontendFrameReceived(Self.query("RESET shadow.lane; DELETE FROM orders")) else {
            Issue.record("a switch combined with another statement must be refused")
            return
        }
    }

    @Test("the session is closable by a drain only when idle outside a transaction")
    func idleOutsideTransaction() {
        var m = Helpers.ready()
        #expect(m.isIdleOutsideTransaction)
        _ = m.frontendFrameReceived(Self.query("BEGIN"))
        #expect(!m.isIdleOutsideTransaction)
        _ = m.backendFrameReceived(Helpers.backend("C", Array("BEGIN\0".utf8)))
        _ = m.backendFrameReceived(Helpers.backend("Z", [UInt8(ascii: "T")]))
        #expect(m.isIdle)
        #expect(!m.isIdleOutsideTransaction)
        _ = m.frontendFrameReceived(Self.query("COMMIT"))
        _ = m.backendFrameReceived(Helpers.backend("C", Array("COMMIT\0".utf8)))
        _ = m.backendFrameReceived(Helpers.backend("Z", [UInt8(ascii: "I")]))
        #expect(m.isIdleOutsideTransaction)
    }
}

/// Settings the server reports that change how statements are lexed.
@Suite("PostgreSQL session state machine: lexing settings")
struct PostgresLexingSettingsTests {
    typealias Helpers = PostgresSessionStateMachineTests

    static func parameter(_ name: String, _ value: String) -> PostgresFrame {
        Helpers.backend("S", Array(name.utf8) + [0] + Array(value.utf8) + [0])
    }

    static func outcome(_ m: inout PostgresSessionStateMachine, _ sql: String) -> PostgresStatementEvent.Outcome? {
        _ = m.frontendFrameReceived(PostgresSessionOperationsTests.query(sql))
        let outcome = m.lastStatement?.outcome
        _ = m.backendFrameReceived(Helpers.backend("Z", [UInt8(ascii: "I")]))
        return outcome
    }

    @Test("with standard_conforming_strings off, lane statements are refused and base statements pass; on again, lanes work")
    func standardConformingStringsOff() {
        var m = Helpers.ready(lane: "gray")
        _ = m.backendFrameReceived(Self.parameter("standard_conforming_strings", "off"))
        guard case .refused(let refusal) = Self.outcome(&m, #"SELECT 'x\' , ' ; DELETE FROM a WHERE id = 1 ; -- '"#) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(refusal.message.contains("standard_conforming_strings is off"))
        _ = m.backendFrameReceived(Self.parameter("standard_conforming_strings", "on"))
        guard case .rewritten = Self.outcome(&m, "DELETE FROM a WHERE id = 1") else {
            Issue.record("expected a rewrite")
            return
        }
        var base = Helpers.ready()
        _ = base.backendFrameReceived(Self.parameter("standard_conforming_strings", "off"))
        guard case .forwarded = Self.outcome(&base, "DELETE FROM a WHERE id = 1") else {
            Issue.record("expected the base statement to pass")
            return
        }
    }

    @Test("only a statement that is exactly a reset of the lexing settings passes while they are off")
    func restoresLexing() {
        for sql in ["SET standard_conforming_strings = on", "set session standard_conforming_strings to 'on';",
                    "RESET ALL", "SET client_encoding TO 'UTF8'", "DISCARD ALL"] {
            #expect(PostgresSessionStateMachine.restoresLexing(ByteBuffer(string: sql)), "\(sql)")
        }
        for sql in ["SET standard_conforming_strings = on; DELETE FROM a", "SET standard_conforming_strings = off",
                    #"SET standard_conforming_strings = 'on\'"#, "SELECT 1"] {
            #expect(!PostgresSessionStateMachine.restoresLexing(ByteBuffer(string: sql)), "\(sql)")
        }
    }

    @Test("SET of the lane setting in a query with other statements is refused: the proxy decides one lane per query")
    func laneSwitchAmongOtherStatements() {
        var m = Helpers.ready()
        guard case .refused(let refusal) = Self.outcome(&m, "SET shadow.lane = 'gray'; INSERT INTO a VALUES (1)") else {
            Issue.record("expected a refusal")
            return
        }
        #expect(refusal.message.contains("as a query of its own"))
        guard case .forwarded = Self.outcome(&m, "SET shadow.lane = 'gray'") else {
            Issue.record("a lone SET of the lane passes")
            return
        }
    }

    @Test("a client-only encoding whose second bytes can be a backslash (SJIS, BIG5, GBK…) refuses lane statements")
    func clientEncodingHazard() {
        var m = Helpers.ready(lane: "gray")
        _ = m.backendFrameReceived(Self.parameter("client_encoding", "SJIS"))
        guard case .refused(let refusal) = Self.outcome(&m, "SELECT 1") else {
            Issue.record("expected a refusal")
            return
        }
        #expect(refusal.message.contains("client_encoding is SJIS"))
        _ = m.backendFrameReceived(Self.parameter("client_encoding", "UTF8"))
        #expect(m.lexingHazard == nil)
        _ = m.backendFrameReceived(Self.parameter("client_encoding", "LATIN1"))
        #expect(m.lexingHazard == nil)
    }
}
