@testable import MySQLWire
import NIOCore
import ShadowConfig
import ShadowSQL
import Testing

/// Builders for the database-lane and sql_mode tests.
enum Lanes {
    /// A base connection (no label) whose handshake selected `database`.
    static func base(database: String? = "mse_demo") -> MySQLSessionStateMachine {
        commandPhase(database: database, attributes: [])
    }

    /// A connection labelled with the database lane `db` (`mse_demo → mse_demo_db`).
    static func dbLane(database: String? = "mse_demo") -> MySQLSessionStateMachine {
        commandPhase(database: database, attributes: [("lane", "db")])
    }

    static func commandPhase(database: String?, attributes: [(key: String, value: String)], loginStatus: MySQLServerStatus = [.autocommit]) -> MySQLSessionStateMachine {
        var machine = MySQLSessionStateMachine(settings: .init(listener: Wire.listener, clientTLS: false), routing: Wire.routing())
        _ = machine.backendGreetingReceived(MySQLFrame(sequenceID: 0, payload: Wire.greeting()))
        _ = machine.clientPacketReceived(MySQLPacket(sequenceID: 1, payload: Wire.response(database: database, attributes: attributes).encode()))
        _ = machine.backendFrameReceived(Wire.ok(status: loginStatus, seq: 2))
        return machine
    }

    /// Sends `sql`, expects it to reach the server, and answers it with an OK carrying `status`; returns the text the
    /// server received.
    static func run(_ machine: inout MySQLSessionStateMachine, _ sql: String, status: MySQLServerStatus = [.autocommit]) throws -> String {
        let sent = try #require(machine.clientPacketReceived(Wire.query(sql)).backendPacket, "\(sql) was not forwarded")
        _ = machine.backendFrameReceived(Wire.ok(status: status, seq: 1))
        #expect(machine.isIdle)
        return String(buffer: TextCommand.text(of: sent.payload))
    }

    /// The message of the ERR the proxy answered `sql` with; records an issue when `sql` reached the server.
    static func refusal(_ machine: inout MySQLSessionStateMachine, _ sql: String, command: MySQLCommand = .query) -> String? {
        let action = machine.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: TextCommand.encode(command, text: Array(sql.utf8))))
        guard action.backendPacket == nil, let packet = action.clientPacket, let err = try? ERRPacket(payload: packet.payload) else {
            Issue.record("\(sql) was not refused: \(action)")
            return nil
        }
        #expect(packet.sequenceID == 1)
        #expect(err.code == 1105 && err.sqlState == "HY000")
        #expect(machine.isIdle, "the connection stays usable")
        return err.message
    }

    /// COM_CHANGE_USER as libmariadb sends it (secure connection, plugin auth, connection attributes).
    static func changeUser(_ user: String, database: String?, attributes: [(String, String)] = []) -> MySQLPacket {
        var payload = ByteBuffer(bytes: [MySQLCommand.changeUser.rawValue])
        payload.writeString(user); payload.writeInteger(UInt8(0))
        payload.writeInteger(UInt8(20)); payload.writeRepeatingByte(1, count: 20)
        payload.writeString(database ?? ""); payload.writeInteger(UInt8(0))
        payload.writeInteger(UInt16(45), endianness: .little)
        payload.writeString("mysql_native_password"); payload.writeInteger(UInt8(0))
        var attrs = ByteBuffer()
        for (key, value) in attributes {
            attrs.writeLengthEncodedInteger(UInt64(key.utf8.count)); attrs.writeString(key)
            attrs.writeLengthEncodedInteger(UInt64(value.utf8.count)); attrs.writeString(value)
        }
        payload.writeLengthEncodedInteger(UInt64(attrs.readableBytes))
        payload.writeImmutableBuffer(attrs)
        return MySQLPacket(sequenceID: 0, payload: payload)
    }

    static let changeUserCapabilities: MySQLCapabilities = Wire.response().capabilities
}

@Suite struct SessionDatabaseLaneTests {
    @Test("a hint naming a database lane, on a connection whose database was selected in base, is refused: database lanes are connection-level")
    func hintIntoDatabaseLaneRefused() throws {
        var machine = Lanes.base()
        let message = try #require(Lanes.refusal(&machine, "/* lane=db */ INSERT INTO a VALUES (9)"))
        #expect(message.contains("database-level lanes are connection-level"))
        #expect(message.contains("'mse_demo'") && message.contains("'mse_demo_db'"))
        #expect(message.contains("connection attribute 'lane'"))
        // Base traffic on the same connection is untouched.
        #expect(try Lanes.run(&machine, "INSERT INTO a VALUES (9)") == "INSERT INTO a VALUES (9)")
    }

    @Test("SET @lane to a database lane on a connection whose database was selected in base is refused and does not stick")
    func sessionSwitchIntoDatabaseLaneRefused() throws {
        var machine = Lanes.base()
        let message = try #require(Lanes.refusal(&machine, "SET @lane = 'db'"))
        #expect(message.contains("database-level lanes are connection-level"))
        #expect(machine.sessionLane == nil)
        #expect(machine.currentLaneName == nil)
    }

    @Test("a base hint, or a hint naming a lane without a database map, on a connection the database lane put in its shadow database is refused")
    func hintOutOfDatabaseLaneRefused() throws {
        var machine = Lanes.dbLane()
        for sql in ["/* lane=base */ INSERT INTO a VALUES (1)", "/* lane=gray */ INSERT INTO a VALUES (1)", "SET @lane = 'base'"] {
            let message = try #require(Lanes.refusal(&machine, sql), "\(sql)")
            #expect(message.contains("database-level lanes are connection-level"), "\(sql)")
            #expect(message.contains("selected in lane 'db'") && message.contains("'mse_demo_db'"), "\(sql)")
        }
        #expect(machine.sessionLane == nil)
        // The connection's own lane still works.
        #expect(try Lanes.run(&machine, "SELECT * FROM a") == "SELECT * FROM a")
    }

    @Test("a database-lane hint passes when no database is selected, or the current one is not mapped by either lane")
    func hintPassesWhereTheDatabaseIsTheSame() throws {
        var none = Lanes.base(database: nil)
        #expect(try Lanes.run(&none, "/* lane=db */ INSERT INTO mse_demo.a VALUES (1)").contains("mse_demo_db"))
        var other = Lanes.base(database: "other")
        _ = try Lanes.run(&other, "/* lane=db */ SELECT * FROM a")
        _ = try Lanes.run(&other, "SET @lane = 'db'")
        #expect(other.currentLaneName == "db")
        #expect(try Lanes.run(&other, "SET @lane = NULL") == "SET @lane = NULL")
    }

    @Test("USE sent alone with a database-lane hint moves the server to the shadow database: that lane then passes, base is refused until base selects again")
    func hintedUseMovesTheConnection() throws {
        var machine = Lanes.base()
        #expect(try Lanes.run(&machine, "/* lane=db */ USE mse_demo") == "USE `mse_demo_db`")
        _ = try Lanes.run(&machine, "/* lane=db */ SELECT * FROM a")
        #expect(Lanes.refusal(&machine, "INSERT INTO a VALUES (1)")?.contains("selected in lane 'db'") == true)
        #expect(try Lanes.run(&machine, "USE mse_demo") == "USE mse_demo")
        #expect(try Lanes.run(&machine, "INSERT INTO a VALUES (1)") == "INSERT INTO a VALUES (1)")
        #expect(Lanes.refusal(&machine, "/* lane=db */ INSERT INTO a VALUES (1)") != nil)
    }

    @Test("COM_INIT_DB selected in base makes a database-lane hint refused; selected in the session lane it is mapped and the lane passes")
    func initDBDecidesTheLaneOfTheDatabase() throws {
        var machine = Lanes.base(database: nil)
        let initDB = MySQLPacket(sequenceID: 0, payload: TextCommand.encode(.initDB, text: Array("mse_demo".utf8)))
        #expect(machine.clientPacketReceived(initDB) == .sendToBackend(initDB))
        _ = machine.backendFrameReceived(Wire.ok(seq: 1))
        #expect(machine.currentDatabase == "mse_demo")
        #expect(Lanes.refusal(&machine, "/* lane=db */ DELETE FROM a") != nil)
        // With no database selected, the session switch passes; COM_INIT_DB then follows it.
        var switched = Lanes.base(database: nil)
        _ = try Lanes.run(&switched, "SET @lane = 'db'")
        let sent = try #require(switched.clientPacketReceived(initDB).backendPacket)
        #expect(TextCommand.text(of: sent.payload) == ByteBuffer(string: "mse_demo_db"))
        _ = switched.backendFrameReceived(Wire.ok(seq: 1))
        _ = try Lanes.run(&switched, "SELECT * FROM a")
        #expect(Lanes.refusal(&switched, "/* lane=base */ DELETE FROM a") != nil)
    }

    @Test("a USE or COM_INIT_DB the server rejects leaves the database it was in")
    func failedSelectionLeavesTheDatabase() throws {
        var machine = Lanes.dbLane()
        _ = machine.clientPacketReceived(Wire.query("USE missing"))
        _ = machine.backendFrameReceived(MySQLFrame(sequenceID: 1, payload: ERRPacket(code: 1049, sqlState: "42000", message: "Unknown database").encode()))
        #expect(machine.isIdle)
        #expect(machine.currentDatabase == "mse_demo")
        #expect(Lanes.refusal(&machine, "/* lane=base */ INSERT INTO a VALUES (1)") != nil)
        _ = machine.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: TextCommand.encode(.initDB, text: Array("missing".utf8))))
        _ = machine.backendFrameReceived(MySQLFrame(sequenceID: 1, payload: ERRPacket(code: 1049, sqlState: "42000", message: "Unknown database").encode()))
        #expect(Lanes.refusal(&machine, "/* lane=base */ INSERT INTO a VALUES (1)") != nil)
    }

    @Test("after a multi-statement USE that ended in an error, a statement passes only if it is right for every database the server may be in")
    func partlyFailedMultiStatementKeepsBothDatabases() throws {
        var machine = Lanes.dbLane()
        _ = machine.clientPacketReceived(Wire.query("USE other; SELECT nope"))
        _ = machine.backendFrameReceived(Wire.ok(status: [.autocommit, .moreResultsExist], seq: 1))
        _ = machine.backendFrameReceived(MySQLFrame(sequenceID: 2, payload: ERRPacket(code: 1054, sqlState: "42S22", message: "Unknown column").encode()))
        #expect(machine.isIdle)
        // In `other` a base statement would be fine, in `mse_demo_db` not: refused.
        #expect(Lanes.refusal(&machine, "/* lane=base */ SELECT 1") != nil)
        _ = try Lanes.run(&machine, "SELECT 1")
        // A selection the server accepts settles it.
        _ = try Lanes.run(&machine, "USE other")
        #expect(try Lanes.run(&machine, "/* lane=base */ SELECT 1") == "/* lane=base */ SELECT 1")
    }

    @Test("a base connection that never uses a database lane is never refused for its database")
    func baseConnectionUntouched() throws {
        var machine = Lanes.base()
        for sql in ["INSERT INTO a VALUES (1)", "USE other", "SELECT 1", "USE mse_demo_db", "DELETE FROM a", "USE mse_demo; SELECT 1"] {
            let packet = Wire.query(sql)
            #expect(machine.clientPacketReceived(packet) == .sendToBackend(packet), "\(sql)")
            _ = machine.backendFrameReceived(Wire.ok(seq: 1))
        }
    }
}

@Suite struct SessionChangeUserDatabaseTests {
    @Test("COM_CHANGE_USER's database follows the database lane the change of user leads to; every other byte is kept")
    func changeUserDatabaseMapped() throws {
        var machine = Lanes.dbLane()
        let change = Lanes.changeUser("app", database: "mse_demo", attributes: [("lane", "db")])
        let sent = try #require(machine.clientPacketReceived(change).backendPacket)
        let forwarded = try ChangeUser(payload: sent.payload, capabilities: Lanes.changeUserCapabilities)
        #expect(forwarded.database == "mse_demo_db")
        #expect(forwarded.username == "app")
        #expect(forwarded.attributes == ["lane": "db"])
        #expect(sent.payload.readableBytes == change.payload.readableBytes + "_db".utf8.count)
        _ = machine.backendFrameReceived(Wire.ok(seq: 1))
        #expect(machine.isIdle)
        #expect(machine.currentDatabase == "mse_demo")
        #expect(machine.connectionLane?.name == "db")
        _ = try Lanes.run(&machine, "SELECT * FROM a")
        #expect(Lanes.refusal(&machine, "/* lane=base */ INSERT INTO a VALUES (1)") != nil)
    }

    @Test("COM_CHANGE_USER from a base connection into a database lane maps the database; one leading to base forwards it unchanged")
    func changeUserReevaluatesTheLaneOfTheDatabase() throws {
        var machine = Lanes.base()
        let into = Lanes.changeUser("app", database: "MSE_DEMO", attributes: [("lane", "db")])
        let sent = try #require(machine.clientPacketReceived(into).backendPacket)
        #expect(try ChangeUser(payload: sent.payload, capabilities: Lanes.changeUserCapabilities).database == "mse_demo_db")
        _ = machine.backendFrameReceived(Wire.ok(seq: 1))
        #expect(machine.connectionLane?.name == "db")
        let back = Lanes.changeUser("app", database: "mse_demo")
        #expect(machine.clientPacketReceived(back) == .sendToBackend(back))
        _ = machine.backendFrameReceived(Wire.ok(seq: 1))
        #expect(machine.connectionLane == nil)
        #expect(try Lanes.run(&machine, "INSERT INTO a VALUES (1)") == "INSERT INTO a VALUES (1)")
        #expect(Lanes.refusal(&machine, "/* lane=db */ INSERT INTO a VALUES (1)") != nil)
    }

    @Test("COM_CHANGE_USER without a database leaves the session in none, so a database-lane hint then passes")
    func changeUserWithoutDatabase() throws {
        var machine = Lanes.base()
        let change = Lanes.changeUser("app", database: nil)
        #expect(machine.clientPacketReceived(change) == .sendToBackend(change))
        _ = machine.backendFrameReceived(Wire.ok(seq: 1))
        #expect(machine.currentDatabase == nil)
        _ = try Lanes.run(&machine, "/* lane=db */ INSERT INTO mse_demo.a VALUES (1)")
    }
}

@Suite struct SessionDatabaseCaseTests {
    @Test("a database lane maps database names without regard to case: handshake, COM_INIT_DB and USE")
    func caseInsensitiveLookups() throws {
        var machine = MySQLSessionStateMachine(settings: .init(listener: Wire.listener, clientTLS: false), routing: Wire.routing())
        _ = machine.backendGreetingReceived(MySQLFrame(sequenceID: 0, payload: Wire.greeting()))
        let response = try #require(machine.clientPacketReceived(
            MySQLPacket(sequenceID: 1, payload: Wire.response(database: "MSE_DEMO", attributes: [("lane", "db")]).encode())).backendPacket)
        #expect(try HandshakeResponse41(payload: response.payload).database == "mse_demo_db")
        _ = machine.backendFrameReceived(Wire.ok(seq: 2))
        #expect(try Lanes.run(&machine, "USE Mse_Demo") == "USE `mse_demo_db`")
        let initDB = machine.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: TextCommand.encode(.initDB, text: Array("mse_DEMO".utf8))))
        #expect(try TextCommand.text(of: #require(initDB.backendPacket).payload) == ByteBuffer(string: "mse_demo_db"))
        _ = machine.backendFrameReceived(Wire.ok(seq: 1))
        // A differently cased USE in a multi-statement query is refused like the exact name.
        #expect(Lanes.refusal(&machine, "USE MSE_DEMO; INSERT INTO a VALUES (1)")?.contains("statement of its own") == true)
        // And a base hint on the connection the handshake put in the shadow database is still refused.
        #expect(Lanes.refusal(&machine, "/* lane=base */ INSERT INTO a VALUES (1)") != nil)
    }

    @Test("a key spelled exactly wins over one that differs only in case; an unmapped name stays unmapped")
    func exactKeyWins() {
        let lane = LaneConfiguration(name: "x", mapping: LaneMapping(lane: "x", databases: ["Shop": "shop_a", "shop": "shop_b"]))
        #expect(MySQLSessionStateMachine.mappedDatabase("shop", in: lane) == "shop_b")
        #expect(MySQLSessionStateMachine.mappedDatabase("Shop", in: lane) == "shop_a")
        #expect(MySQLSessionStateMachine.mappedDatabase("SHOP", in: lane) == "shop_a")
        #expect(MySQLSessionStateMachine.mappedDatabase("shops", in: lane) == nil)
        #expect(MySQLSessionStateMachine.mappedDatabase("shop", in: nil) == nil)
    }
}

@Suite struct SessionNoBackslashEscapesTests {
    static let nbe: MySQLServerStatus = [.autocommit, .noBackslashEscapes]

    @Test("while the server reports NO_BACKSLASH_ESCAPES a lane statement with a backslash is refused, a base one is forwarded; once off, the lane statement is rewritten")
    func laneStatementsFollowTheFlag() throws {
        var machine = Wire.commandPhase(attributes: [("lane", "gray")])
        _ = try Lanes.run(&machine, "SET sql_mode = 'NO_BACKSLASH_ESCAPES'", status: Self.nbe)
        let message = try #require(Lanes.refusal(&machine, #"SELECT '\'; DELETE FROM a; -- '"#))
        #expect(message.contains("NO_BACKSLASH_ESCAPES") && message.contains("turn NO_BACKSLASH_ESCAPES off"))
        #expect(message.contains("lane 'gray'"))
        #expect(Lanes.refusal(&machine, #"INSERT INTO a VALUES ('x\'y')"#, command: .stmtPrepare) != nil)
        // Without a backslash the text reads the same in both modes.
        #expect(try Lanes.run(&machine, "INSERT INTO a VALUES (1)", status: Self.nbe) == "INSERT INTO a_gray VALUES (1)")
        let base = Wire.query(#"/* lane=base */ SELECT '\'"#)
        #expect(machine.clientPacketReceived(base) == .sendToBackend(base))
        _ = machine.backendFrameReceived(MySQLFrame(sequenceID: 1, payload: ERRPacket(code: 1064, sqlState: "42000", message: "syntax").encode()))
        _ = try Lanes.run(&machine, "SET sql_mode = ''")
        #expect(try Lanes.run(&machine, #"INSERT INTO a VALUES ('x\'y')"#) == #"INSERT INTO a_gray VALUES ('x\'y')"#)
    }

    @Test("the flag is taken from every OK and EOF: one relayed in an answer run, one inside a multi-result that ends in an error")
    func flagFromRunsAndIntermediateResults() throws {
        var machine = Wire.commandPhase(attributes: [("lane", "gray")])
        _ = machine.clientPacketReceived(Wire.query("SET sql_mode = 'NO_BACKSLASH_ESCAPES'"))
        var raw = ByteBuffer()
        let ok = OKPacket(status: Self.nbe).encode()
        MySQLFrame.writeHeader(length: ok.readableBytes, sequenceID: 1, into: &raw)
        raw.writeImmutableBuffer(ok)
        #expect(machine.backendAnswerRun(raw) == (raw.readableBytes, true))
        #expect(Lanes.refusal(&machine, #"SELECT 'a\'b'"#) != nil)

        var multi = Wire.commandPhase(attributes: [("lane", "gray")])
        _ = multi.clientPacketReceived(Wire.query("SET sql_mode = 'NO_BACKSLASH_ESCAPES'; SELECT nope"))
        _ = multi.backendFrameReceived(Wire.ok(status: [.autocommit, .noBackslashEscapes, .moreResultsExist], seq: 1))
        _ = multi.backendFrameReceived(MySQLFrame(sequenceID: 2, payload: ERRPacket(code: 1054, sqlState: "42S22", message: "Unknown column").encode()))
        #expect(multi.isIdle)
        #expect(Lanes.refusal(&multi, #"SELECT 'a\'b'"#) != nil)
    }

    @Test("the greeting's and the login OK's status flags give the mode a connection starts in")
    func flagFromTheHandshake() throws {
        var machine = MySQLSessionStateMachine(settings: .init(listener: Wire.listener, clientTLS: false), routing: Wire.routing())
        var greeting = Wire.greeting()
        // Status flags follow protocol version, version string, thread id, scramble part 1, filler, capabilities, charset.
        let statusOffset = greeting.readerIndex + 1 + "11.0.0-MariaDB".utf8.count + 1 + 4 + 8 + 1 + 2 + 1
        greeting.setInteger(Self.nbe.rawValue, at: statusOffset, endianness: .little)
        _ = machine.backendGreetingReceived(MySQLFrame(sequenceID: 0, payload: greeting))
        #expect(machine.tracker.serverStatus == Self.nbe)
        var login = Lanes.commandPhase(database: "mse_demo", attributes: [("lane", "gray")], loginStatus: Self.nbe)
        #expect(Lanes.refusal(&login, #"SELECT 'a\'b'"#) != nil)
        var plain = Lanes.commandPhase(database: "mse_demo", attributes: [("lane", "gray")])
        _ = try Lanes.run(&plain, #"SELECT 'a\'b'"#)
    }

    @Test("a lane multi-statement query that may change sql_mode and has a backslash is refused; without a backslash, or alone, it is forwarded")
    func modeChangeInsideAMultiStatementQuery() throws {
        var machine = Wire.commandPhase(attributes: [("lane", "gray")])
        for sql in [
            #"SET sql_mode = 'NO_BACKSLASH_ESCAPES'; SELECT '\'; DELETE FROM a; -- '"#,
            #"SET @@SESSION.SQL_MODE = 'NO_BACKSLASH_ESCAPES'; SELECT '\'; DELETE FROM a; -- '"#,
            #"EXECUTE s; SELECT '\'; DELETE FROM a; -- '"#,
        ] {
            #expect(Lanes.refusal(&machine, sql)?.contains("multi-statement query that may change sql_mode") == true, "\(sql)")
        }
        _ = try Lanes.run(&machine, "SET sql_mode = 'NO_BACKSLASH_ESCAPES'; SELECT 1")
        _ = try Lanes.run(&machine, #"SELECT 'it\'s'; SELECT 2"#)
        // Base traffic is never checked.
        var base = Wire.commandPhase()
        let sql = Wire.query(#"SET sql_mode = 'NO_BACKSLASH_ESCAPES'; SELECT '\'; DELETE FROM a; -- '"#)
        #expect(base.clientPacketReceived(sql) == .sendToBackend(sql))
    }
}
