import NIOCore
import ShadowConfig
import ShadowSQL

/// Command phase: the lane of each command, rewriting and refusals.
extension MySQLSessionStateMachine {
    /// Where a statement runs, or why it cannot.
    enum LaneDecision {
        case lane(LaneConfiguration?, fromHint: Bool)
        case refuse(ERRPacket)
    }

    mutating func command(_ packet: MySQLPacket) -> Action {
        statementInFlight = nil
        localInfileCapture = nil
        statementEvent = nil
        guard let byte = packet.firstByte else { return unexpected("empty command packet") }
        guard let command = MySQLCommand(rawValue: byte) else {
            // Unknown commands are passed through in base only; the server answers with one packet (an ERR).
            if currentLaneName == nil && !quiescing { tracker.expect(.single); return .sendToBackend(packet) }
            return refuse(packet, .proxyRefusal("shadowgate: command 0x\(String(byte, radix: 16)) is not supported in lane '\(currentLaneName ?? "")'"))
        }
        switch command {
        case .query:
            let killed = KillStatement.threadID(inQuery: packet.payload)
            var killerLane: String? = nil
            if killed != nil {
                let hint = TextCommand.text(of: packet.payload).withUnsafeReadableBytes { hints.lane(in: $0, dialect: .mysql) }
                // A lane that cannot be resolved is refused by `statement`, with the reason.
                guard case .lane(let lane, _) = laneFor(hint: hint) else { return statement(packet, command: .query) }
                killerLane = lane?.name
            }
            switch killDecision(killed, lane: killerLane) {
            case .forward: return statement(packet, command: .query)
            case .refuse(let err): return refuse(packet, err)
            case .rewrite(let id):
                guard let payload = KillStatement.replacingThreadID(in: packet.payload, with: id) else { return statement(packet, command: .query) }
                return statement(MySQLPacket(sequenceID: packet.sequenceID, payload: payload), command: .query)
            }
        case .stmtPrepare:
            return statement(packet, command: .stmtPrepare)
        case .quit:
            state = .closed
            return .sendToBackendAndClose(packet)
        case .initDB:
            return initDB(packet)
        case .stmtExecute, .stmtFetch, .stmtReset, .stmtSendLongData, .stmtClose:
            return statementCommand(packet, command: command)
        case .changeUser:
            let change: ChangeUser
            do { change = try ChangeUser(payload: packet.payload, capabilities: clientCapabilities) } catch { return close(error) }
            let attributeLane = change.attributes[routing.label.key]
            if let attributeLane, case .unknown(let name) = resolver.resolve(attributeLane) {
                return refuse(packet, .proxyRefusal(resolver.unknownLaneMessage(name, source: "connection attribute '\(routing.label.key)'")))
            }
            var newLane = routing.lane(forUser: change.username)
            if let attributeLane, case .lane(let lane) = resolver.resolve(attributeLane) { newLane = lane }
            if let attributeLane, routing.isBase(attributeLane) { newLane = nil }
            if routing.backend(for: settings.listener, lane: newLane) != backend {
                return refuse(packet, .proxyRefusal("shadowgate: COM_CHANGE_USER to user '\(change.username)' would need another server (lane '\(newLane?.name ?? routing.label.baseLane)'); open a new connection instead"))
            }
            // The database of a change of user follows the lane the change leads to, as the handshake's does.
            let selection = Self.selection(change.database, lane: newLane)
            var forwarded = packet
            if let server = selection.server, server != change.database {
                guard let payload = change.replacingDatabase(in: packet.payload, with: server) else {
                    return refuse(packet, .proxyRefusal("shadowgate: malformed COM_CHANGE_USER"))
                }
                forwarded = MySQLPacket(sequenceID: packet.sequenceID, payload: payload)
            }
            pendingReset = .changeUser(user: change.username, attributeLane: attributeLane)
            // The character set the change of user asks for (taken as sent: a failed change of user ends the session).
            clientCharset = change.characterSet.map(ClientCharset.init(collation:)) ?? .other("unknown after COM_CHANGE_USER")
            // Without a database the server leaves the session in none.
            pendingDatabase = PendingDatabase(selections: [selection], errorLeavesUnchanged: false)
            tracker.expect(.authentication)
            return .sendToBackend(forwarded)
        case .resetConnection:
            pendingReset = .resetConnection
            tracker.expect(.single)
            return .sendToBackend(packet)
        case .fieldList:
            if currentLaneName != nil {
                return refuse(packet, .proxyRefusal("shadowgate: COM_FIELD_LIST is not supported in lane '\(currentLaneName ?? "")'; use SHOW COLUMNS"))
            }
            tracker.expect(.fieldList)
            return .sendToBackend(packet)
        case .processInfo:
            tracker.expect(.result(binary: false))
            return .sendToBackend(packet)
        case .createDB, .dropDB:
            if currentLaneName != nil {
                return refuse(packet, .proxyRefusal("shadowgate: creating or dropping databases is refused in lane '\(currentLaneName ?? "")'"))
            }
            tracker.expect(.single)
            return .sendToBackend(packet)
        case .binlogDump, .stmtBulkExecute:
            return refuse(packet, .proxyRefusal("shadowgate: command \(command) is not supported through the proxy"))
        case .processKill:
            let killerLane: String?
            switch laneFor(hint: nil) {
            case .refuse(let err): return refuse(packet, err)
            case .lane(let lane, _): killerLane = lane?.name
            }
            switch killDecision(KillStatement.threadID(inProcessKill: packet.payload), lane: killerLane) {
            case .forward:
                tracker.expect(.single)
                return .sendToBackend(packet)
            case .refuse(let err):
                return refuse(packet, err)
            case .rewrite(let id):
                guard let payload = KillStatement.replacingThreadID(in: packet.payload, with: id) else { return refuse(packet, .proxyRefusal("shadowgate: malformed COM_PROCESS_KILL")) }
                tracker.expect(.single)
                return .sendToBackend(MySQLPacket(sequenceID: packet.sequenceID, payload: payload))
            }
        case .refresh, .shutdown:
            // COM_REFRESH flushes server-wide state (FLUSH without a table list) and COM_SHUTDOWN stops the server:
            // both act beyond the lane, like their statements, which the lane refuses.
            if let lane = currentLaneName {
                return refuse(packet, .proxyRefusal(
                    "shadowgate: \(command == .refresh ? "COM_REFRESH (FLUSH)" : "COM_SHUTDOWN") is refused in lane '\(lane)': it acts on the whole server; send it on the base lane"))
            }
            tracker.expect(.single)
            return .sendToBackend(packet)
        case .statistics, .debug, .ping, .setOption:
            tracker.expect(.single)
            return .sendToBackend(packet)
        }
    }

    /// COM_QUERY / COM_STMT_PREPARE: hint, session switch, lane, rewrite.
    mutating func statement(_ packet: MySQLPacket, command: MySQLCommand) -> Action {
        let text = TextCommand.text(of: packet.payload)
        let hint = text.withUnsafeReadableBytes { hints.lane(in: $0, dialect: .mysql) }
        let effects = text.withUnsafeReadableBytes { SessionStatementScanner.effects(in: $0, dialect: .mysql) }
        // A refused statement never reaches the server, so its session effects must not stick either.
        let before = SessionStateBefore(lane: sessionLane, charset: clientCharset, ansiQuotes: ansiQuotesPossible)
        let charsetAfter = command == .query ? before.charset.after(effects) : before.charset
        let ansiAfter = Self.ansiQuotes(after: effects, before: before.ansiQuotes, prepared: command != .query)
        for effect in effects {
            switch effect {
            case .setVariable(let name, let value, _) where name.lowercased() == routing.label.mysqlSessionVariable.lowercased():
                if let value, case .unknown(let bad) = resolver.resolve(value) {
                    return refuse(packet, .proxyRefusal(resolver.unknownLaneMessage(bad, source: "SET @\(name)")))
                }
                // The lane the switch leads to (the connection's own lane when the variable is cleared) must live
                // on this connection's server, base included.
                let target: LaneConfiguration?
                switch value.map(resolver.resolve) {
                case .none: target = connectionLane
                case .base?: target = nil
                case .lane(let lane)?: target = lane
                case .unknown?: target = connectionLane
                }
                if routing.backend(for: settings.listener, lane: target) != backend {
                    return refuse(packet, otherServer(target?.name ?? routing.label.baseLane))
                }
                sessionLane = value
            default:
                break
            }
        }
        let decision = laneFor(hint: hint)
        let lane: LaneConfiguration?
        let fromHint: Bool
        switch decision {
        case .refuse(let err):
            undoSessionEffects(before)
            statementEvent = MySQLStatementEvent(
                lane: Self.reportedLane(hint ?? currentLaneName, in: routing), sql: text,
                outcome: .refused(Refusal(lane: hint ?? currentLaneName ?? routing.label.baseLane, table: nil, rule: .unsupported, message: err.message)))
            return refuse(packet, err)
        case .lane(let l, let h): lane = l; fromHint = h
        }
        let laneName = lane?.name ?? routing.label.baseLane
        // Only a COM_QUERY runs a `USE`; one sent on its own selects the database rather than running in it.
        let uses: [String] = command == .query ? effects.compactMap { if case .useDatabase(let db) = $0 { return db }; return nil } : []
        let single = uses.isEmpty || text.withUnsafeReadableBytes { StatementClassifier.classify($0, dialect: .mysql).count == 1 }
        var refusal: ERRPacket? = nil
        if let lane {
            refusal = backslashRefusal(text, lane: lane) ?? ansiQuotesRefusal(text, lane: lane, possible: before.ansiQuotes || ansiAfter)
                ?? charsetRefusal(text, lane: lane, charsets: [before.charset, charsetAfter])
        }
        if refusal == nil, uses.isEmpty || !single { refusal = databaseLaneConflict(lane) }
        if let refusal {
            undoSessionEffects(before)
            statementEvent = MySQLStatementEvent(
                lane: Self.reportedLane(lane?.name, in: routing), sql: text,
                outcome: .refused(Refusal(lane: laneName, table: nil, rule: .unsupported, message: refusal.message)))
            return refuse(packet, refusal)
        }
        // From here on the statement goes to the server unless the rewriter refuses it (which restores this).
        clientCharset = charsetAfter
        if ansiAfter {
            ansiQuotesPossible = true
        } else if before.ansiQuotes && effects.contains(where: { if case .setSQLMode = $0 { true } else { false } }) {
            pendingANSIQuotesCleared = true
        }
        if !mirroredLanes.isEmpty, mirroredLanes.contains(laneName),
            let reason = text.withUnsafeReadableBytes({ UncapturableWrite.reason(in: $0, dialect: .mysql) })
        {
            undoSessionEffects(before)
            let message = "shadowgate: refused in lane '\(laneName)', whose writes are mirrored (dual_write): \(reason); "
                + "run it directly on both databases, or through a listener without dual-write"
            statementEvent = MySQLStatementEvent(
                lane: laneName, sql: text,
                outcome: .refused(Refusal(lane: laneName, table: nil, rule: .unsupported, message: message)))
            return refuse(packet, .proxyRefusal(message))
        }
        if command == .stmtPrepare { pendingPrepare = Prepared(lane: lane?.name, fromHint: fromHint) }
        // Set before the rewrite; a refusal by the rewriter clears it. (A mapped `USE` in a multi-statement query is
        // refused below, so every selection here is the one the server makes.)
        pendingDatabase = uses.isEmpty ? nil : PendingDatabase(
            selections: uses.map { Self.selection($0, lane: lane) }, errorLeavesUnchanged: single)
        tracker.expect(command == .query ? .result(binary: false) : .prepareOK)
        let capture = capturesStatements
        // The text is only built when dual-write captures it (an autoclosure: building it cost an allocation and a
        // UTF-8 check per statement on connections that capture nothing).
        func remember(_ sql: @autoclosure () -> String, _ lane: String?) {
            guard capture else { return }
            let sql = sql()
            if command == .query {
                statementInFlight = (sql, lane, nil, true)
            } else {
                preparedCapture.prepareSent(sql: sql, lane: lane)
            }
        }
        guard let lane else {
            remember(String(buffer: text), nil)
            statementEvent = MySQLStatementEvent(lane: routing.label.baseLane, sql: text, outcome: .forwarded)
            return .sendToBackend(packet)
        }
        if command == .query, let (db, mapped) = Self.mappedUse(in: effects, lane: lane) {
            // The rewriter renames tables only, so a `USE` of a database the lane maps must be the whole query: in
            // a multi-statement query the statements after it would run in the base database, and replacing the
            // query by the mapped `USE` would drop the others.
            guard single else {
                pendingDatabase = nil
                undoSessionEffects(before)
                let message = "shadowgate: `USE \(db)` in lane '\(lane.name)', which maps that database to '\(mapped)', "
                    + "must be sent as a statement of its own, not in a multi-statement query (the statements around it "
                    + "would run in the wrong database); send it alone, or select the database when connecting"
                statementEvent = MySQLStatementEvent(
                    lane: lane.name, sql: text,
                    outcome: .refused(Refusal(lane: lane.name, table: nil, rule: .unsupported, message: message)))
                return refuse(packet, .proxyRefusal(message))
            }
            // `USE db` alone: the proxy follows the lane's database map itself.
            var sql = Array("USE `".utf8)
            for byte in mapped.utf8 { sql.append(byte); if byte == UInt8(ascii: "`") { sql.append(byte) } }
            sql.append(UInt8(ascii: "`"))
            remember(String(decoding: sql, as: UTF8.self), lane.name)
            statementEvent = MySQLStatementEvent(lane: lane.name, sql: text, outcome: .rewritten(sql))
            return .sendToBackend(MySQLPacket(sequenceID: packet.sequenceID, payload: TextCommand.encode(.query, text: sql)))
        }
        // The rewriter mutates in place: its token, plan and summary arrays are reused from statement to statement,
        // which a copy of it would defeat (every array it touched would be copied on write, every statement).
        let outcome = text.withUnsafeReadableBytes { rewriter.rewrite($0, lane: lane.mapping) }
        switch outcome {
        case .unchanged:
            remember(String(buffer: text), lane.name)
            statementEvent = MySQLStatementEvent(lane: lane.name, sql: text, outcome: .forwarded)
            return .sendToBackend(packet)
        case .rewritten(let sql, _):
            remember(String(decoding: sql, as: UTF8.self), lane.name)
            statementEvent = MySQLStatementEvent(lane: lane.name, sql: text, outcome: .rewritten(sql))
            return .sendToBackend(MySQLPacket(sequenceID: packet.sequenceID, payload: TextCommand.encode(command, text: sql)))
        case .refused(let refusal):
            tracker.expect(.idle)
            pendingPrepare = nil
            pendingDatabase = nil
            undoSessionEffects(before)
            statementEvent = MySQLStatementEvent(lane: lane.name, sql: text, outcome: .refused(refusal))
            let err: ERRPacket = (refusal.rule == .unmappedWrites || refusal.rule == .unmappedReads)
                ? .tableRefusal(refusal.message) : .proxyRefusal(refusal.message)
            return refuse(packet, err)
        }
    }

    /// Lane precedence: hint > session switch > connection attribute > login user > base.
    func laneFor(hint: String?) -> LaneDecision {
        let name: String?
        let fromHint: Bool
        if let hint { name = hint; fromHint = true } else { name = sessionLane; fromHint = false }
        var lane = connectionLane
        if name == nil, let removed = removedConnectionLane {
            return .refuse(.proxyRefusal(resolver.removedLaneMessage(removed)))
        }
        if let name {
            switch resolver.resolve(name) {
            case .base: lane = nil
            case .lane(let l): lane = l
            case .unknown(let bad):
                return .refuse(.proxyRefusal(resolver.unknownLaneMessage(bad, source: fromHint ? "statement hint" : "session lane")))
            }
        }
        if routing.backend(for: settings.listener, lane: lane) != backend {
            return .refuse(otherServer(lane?.name ?? routing.label.baseLane))
        }
        return .lane(lane, fromHint: fromHint)
    }

    func otherServer(_ lane: String) -> ERRPacket {
        .proxyRefusal("shadowgate: lane '\(lane)' lives on another server; label the connection (connection attribute '\(routing.label.key)') instead")
    }

    /// COM_INIT_DB follows the lane's database map.
    mutating func initDB(_ packet: MySQLPacket) -> Action {
        var text = TextCommand.text(of: packet.payload)
        let db = text.readString(length: text.readableBytes) ?? ""
        let lane: LaneConfiguration?
        switch laneFor(hint: nil) {
        case .refuse(let err): return refuse(packet, err)
        case .lane(let l, _): lane = l
        }
        let selection = Self.selection(db, lane: lane)
        pendingDatabase = PendingDatabase(selections: [selection], errorLeavesUnchanged: true)
        tracker.expect(.single)
        guard let server = selection.server, server != db else { return .sendToBackend(packet) }
        return .sendToBackend(MySQLPacket(sequenceID: packet.sequenceID, payload: TextCommand.encode(.initDB, text: Array(server.utf8))))
    }

    /// Statement-id commands: the statement must be used in the lane it was prepared in.
    mutating func statementCommand(_ packet: MySQLPacket, command: MySQLCommand) -> Action {
        guard var id = StatementCommand.statementID(of: packet.payload) else { return unexpected("short statement command") }
        if id == StatementCommand.lastPrepared {
            if let last = lastPreparedID {
                id = last
            } else if lastPrepareRefused {
                if command == .stmtSendLongData || command == .stmtClose { return .none }
                return refuse(packet, .proxyRefusal("shadowgate: the statement to execute was not prepared (its COM_STMT_PREPARE was refused)"))
            }
        }
        let hasResponse = command != .stmtSendLongData && command != .stmtClose
        // One lookup: an execute is the most frequent command of a prepared-statement workload.
        let info = prepared[id]
        if let info, !info.fromHint, info.lane != currentLaneName, command != .stmtClose {
            let message = "shadowgate: prepared statement \(id) was prepared in lane '\(info.lane ?? routing.label.baseLane)' and cannot run in lane '\(currentLaneName ?? routing.label.baseLane)'; prepare it again in this lane"
            if hasResponse { return refuse(packet, .proxyRefusal(message)) }
            // No answer is expected to SEND_LONG_DATA: drop it; the EXECUTE that follows is refused.
            return .none
        }
        switch command {
        case .stmtClose:
            prepared[id] = nil
            if capturesStatements { preparedCapture.closed(id) }
            return .sendToBackend(packet)
        case .stmtSendLongData:
            if capturesStatements { preparedCapture.longData(packet.payload, statement: id) }
            return .sendToBackend(packet)
        case .stmtExecute:
            if let info, info.parameterCount > 0,
                !StmtExecuteHeader.isComplete(payload: packet.payload, parameterCount: Int(info.parameterCount))
            {
                return refuse(packet, .proxyRefusal("shadowgate: malformed COM_STMT_EXECUTE for statement \(id)"))
            }
            if capturesStatements {
                if let execute = preparedCapture.execute(packet.payload, statement: id) {
                    statementInFlight = (execute.sql, execute.lane, execute.values, true)
                } else {
                    statementInFlight = ("", info?.lane, nil, false)
                }
            }
            tracker.expect(.result(binary: true))
            statementEvent = MySQLStatementEvent(lane: Self.reportedLane(info?.lane, in: routing), sql: ByteBuffer(), outcome: .forwarded)
        case .stmtFetch:
            tracker.expect(.rows(binary: true))
        default:
            tracker.expect(.single)
        }
        return .sendToBackend(packet)
    }

    /// The first `USE` among `effects` of a database `lane` maps, with the database it maps to.
    static func mappedUse(in effects: [SessionEffect], lane: LaneConfiguration) -> (String, String)? {
        for effect in effects {
            if case .useDatabase(let db) = effect, let mapped = mappedDatabase(db, in: lane) { return (db, mapped) }
        }
        return nil
    }

    /// Answers the command with a proxy-made ERR instead of sending it; the connection stays usable.
    mutating func refuse(_ packet: MySQLPacket, _ err: ERRPacket) -> Action {
        tracker.expect(.idle)
        if statementEvent == nil {
            let lane = currentLaneName ?? routing.label.baseLane
            statementEvent = MySQLStatementEvent(
                lane: Self.reportedLane(lane, in: routing), sql: ByteBuffer(),
                outcome: .refused(Refusal(lane: lane, table: nil, rule: .unsupported, message: err.message)))
        }
        if packet.firstByte == MySQLCommand.stmtPrepare.rawValue {
            // A pipelined EXECUTE of "the statement just prepared" (id 0xFFFFFFFF) must not reach the server,
            // which would run the statement prepared before this refused one.
            lastPreparedID = nil
            lastPrepareRefused = true
        }
        return .sendToClient(MySQLPacket(sequenceID: packet.lastSequenceID &+ 1, payload: err.encode()))
    }
}

/// The session state a statement's effects change before the server answered, kept so that a refusal can undo them.
struct SessionStateBefore {
    var lane: String?
    var charset: ClientCharset
    var ansiQuotes: Bool
}

extension MySQLSessionStateMachine {
    /// A refused statement never reaches the server: its session switch, character set and sql_mode change go.
    mutating func undoSessionEffects(_ before: SessionStateBefore) {
        sessionLane = before.lane
        clientCharset = before.charset
        ansiQuotesPossible = before.ansiQuotes
        pendingANSIQuotesCleared = false
    }
}

/// A proxied connection as the KILL check sees it: where it runs and the lane it runs in (nil: base).
public struct MySQLKnownThread: Sendable, Hashable {
    public var location: MySQLThreadLocation
    public var lane: String?

    public init(location: MySQLThreadLocation, lane: String?) {
        self.location = location
        self.lane = lane
    }
}

/// Where a proxied connection really runs: its server and its thread id there.
public struct MySQLThreadLocation: Sendable, Hashable {
    public var server: Endpoint
    public var threadID: UInt64

    public init(server: Endpoint, threadID: UInt64) {
        self.server = server
        self.threadID = threadID
    }
}

extension MySQLSessionStateMachine {
    enum KillDecision {
        case forward
        case rewrite(UInt64)
        case refuse(ERRPacket)
    }

    /// `KILL <id>` names the thread id the client was given. A connection the proxy moved to a lane's own server
    /// was given the base server's id (its greeting was relayed before the lane was known), and the same id can
    /// exist on two servers. So the id is looked up among the proxy's connections:
    /// - a connection on this server known by that id as its real id, or an id the proxy does not know (a client
    ///   connected directly): forwarded unchanged — base-lane traffic without lane servers is never touched;
    /// - a connection on this server known to its client by another id: rewritten to its real id there;
    /// - only connections on other servers: refused, naming the server, instead of killing an unrelated thread here.
    ///
    /// A KILL sent in a non-base `lane` may end only that lane's connections (promise 1: a lane must not abort a
    /// base write): an id the proxy does not hold, or one of a connection in another lane, is refused. Drivers
    /// cancel a timed-out query from a second connection of the same lane, which passes.
    func killDecision(_ threadID: UInt64?, lane: String?) -> KillDecision {
        guard let threadID else { return .forward }
        let known = knownThreads(threadID)
        if let lane {
            let here = known.filter { $0.location.server == backend }
            if known.isEmpty {
                return .refuse(.proxyRefusal(
                    "shadowgate: KILL of thread \(threadID) refused in lane '\(lane)': it is not a connection of lane '\(lane)' through this proxy; "
                        + "a lane may end only its own connections (run KILL on the base lane for others)"))
            }
            if let other = here.first(where: { $0.lane != lane }) {
                return .refuse(.proxyRefusal(
                    "shadowgate: KILL of thread \(threadID) refused in lane '\(lane)': it is a connection of lane '\(other.lane ?? routing.label.baseLane)'; "
                        + "a lane may end only its own connections (run KILL on the base lane for others)"))
            }
        }
        let locations = known.map(\.location)
        guard !locations.isEmpty else { return .forward }
        if locations.contains(MySQLThreadLocation(server: backend, threadID: threadID)) { return .forward }
        if let here = locations.first(where: { $0.server == backend }) { return .rewrite(here.threadID) }
        let servers = Set(locations.map { "\($0.server)" }).sorted().joined(separator: ", ")
        return .refuse(.proxyRefusal(
            "shadowgate: thread \(threadID) is a connection on another server (\(servers)), not on this connection's server \(backend); "
                + "run KILL through a connection in that connection's lane (connection attribute '\(routing.label.key)')"))
    }
}
