@testable import MySQLWire
import NIOCore
import ShadowSQL
import Testing

/// ANSI_QUOTES makes the server read `"…"` as a name, where a backslash is an ordinary byte; the proxy's lexer reads
/// a string. The server sends no signal for the mode, so the session follows the changes it sees.
@Suite struct SessionANSIQuotesTests {
    static let exploit = #"SELECT 1 AS "a\" FROM DUAL; DELETE FROM a; -- ""#

    @Test("after SET sql_mode with ANSI_QUOTES or ANSI a lane statement with a double quote is refused; without one it runs")
    func refusedWhileSet() throws {
        for mode in ["'ANSI_QUOTES'", "'NO_ZERO_DATE, ansi_quotes'", "ANSI", "ORACLE", "'MSSQL'", "4", "'4'",
                     "CONCAT(@@sql_mode, ',ANSI_QUOTES')"] {
            var machine = Wire.commandPhase(attributes: [("lane", "gray")])
            _ = try Lanes.run(&machine, "SET SESSION sql_mode = \(mode)")
            let message = try #require(Lanes.refusal(&machine, Self.exploit), "\(mode)")
            #expect(message.contains("ANSI_QUOTES") && message.contains("lane 'gray'"))
            #expect(try Lanes.run(&machine, "INSERT INTO a VALUES ('x')") == "INSERT INTO a_gray VALUES ('x')")
        }
    }

    @Test("a change without ANSI_QUOTES ends the refusals once the server accepted it; a failed one does not")
    func clearedOnlyBySuccess() throws {
        var machine = Wire.commandPhase(attributes: [("lane", "gray")])
        _ = try Lanes.run(&machine, "SET sql_mode = 'ANSI_QUOTES'")
        _ = machine.clientPacketReceived(Wire.query("SET sql_mode = 'NO_SUCH_MODE'"))
        _ = machine.backendFrameReceived(MySQLFrame(sequenceID: 1, payload: ERRPacket(code: 1231, sqlState: "42000", message: "bad").encode()))
        #expect(Lanes.refusal(&machine, #"SELECT "x""#) != nil)
        _ = try Lanes.run(&machine, "SET @@sql_mode = DEFAULT")
        #expect(try Lanes.run(&machine, #"SELECT "x" FROM a"#) == #"SELECT "x" FROM a_gray"#)
    }

    @Test("a base connection's change counts too, and a multi-statement query that sets it refuses its own double quotes")
    func baseChangesAndMultiStatements() throws {
        var machine = Wire.commandPhase()
        _ = try Lanes.run(&machine, "SET sql_mode = 'ANSI_QUOTES'")
        #expect(Lanes.refusal(&machine, "/* lane=gray */ " + Self.exploit) != nil)
        // Base statements are never refused.
        let base = Wire.query(Self.exploit)
        #expect(machine.clientPacketReceived(base) == .sendToBackend(base))
        _ = machine.backendFrameReceived(Wire.ok(seq: 1))
        var multi = Wire.commandPhase(attributes: [("lane", "gray")])
        #expect(Lanes.refusal(&multi, "SET sql_mode = 'ANSI_QUOTES'; " + Self.exploit) != nil)
        #expect(!multi.ansiQuotesPossible, "a refused statement changes nothing")
    }

    @Test("EXECUTE, a prepared SET sql_mode and a global change: the first two count as setting it, the last does not")
    func unseenChanges() throws {
        var execute = Wire.commandPhase(attributes: [("lane", "gray")])
        _ = execute.clientPacketReceived(Wire.query("/* lane=base */ EXECUTE s"))
        _ = execute.backendFrameReceived(Wire.ok(seq: 1))
        #expect(execute.ansiQuotesPossible)
        var prepare = Wire.commandPhase()
        _ = prepare.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: TextCommand.encode(.stmtPrepare, text: Array("SET sql_mode = ''".utf8))))
        #expect(prepare.ansiQuotesPossible)
        var global = Wire.commandPhase()
        _ = try Lanes.run(&global, "SET @@global.sql_mode = 'ANSI_QUOTES'")
        #expect(!global.ansiQuotesPossible)
    }

    @Test("a plain list of modes without one that quotes names clears it")
    func plainModes() {
        #expect(!MySQLSessionStateMachine.mayQuoteIdentifiers(sqlMode: "STRICT_TRANS_TABLES, NO_ENGINE_SUBSTITUTION"))
        #expect(!MySQLSessionStateMachine.mayQuoteIdentifiers(sqlMode: ""))
        #expect(!MySQLSessionStateMachine.mayQuoteIdentifiers(sqlMode: "DEFAULT"))
        #expect(!MySQLSessionStateMachine.mayQuoteIdentifiers(sqlMode: "TRADITIONAL"))
        #expect(MySQLSessionStateMachine.mayQuoteIdentifiers(sqlMode: "TRADITIONAL,POSTGRESQL"))
        #expect(MySQLSessionStateMachine.mayQuoteIdentifiers(sqlMode: "DB2"))
    }

    @Test("COM_RESET_CONNECTION returns to the server's global sql_mode")
    func resetClears() throws {
        var machine = Wire.commandPhase(attributes: [("lane", "gray")])
        _ = try Lanes.run(&machine, "SET sql_mode = 'ANSI'")
        _ = machine.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: ByteBuffer(bytes: [MySQLCommand.resetConnection.rawValue])))
        _ = machine.backendFrameReceived(Wire.ok(seq: 1))
        #expect(!machine.ansiQuotesPossible)
    }
}
