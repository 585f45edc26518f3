import NIOCore
import ShadowConfig
import ShadowSQL

/// The per-connection protocol state machine of the PostgreSQL proxy. Pure: it consumes decoded packets and frames
/// from both sides and returns what to do; the NIO handlers only execute those actions.
///
/// Per statement it resolves the lane (hint > session switch > connection label), rewrites or refuses, and tracks
/// the server's responses so that a refusal looks to the client exactly like a server-side error at the same
/// protocol step (the stand-in message fails on the server, which then aborts the transaction or discards the rest
/// of the pipeline itself; the proxy swaps the error text).
public struct PostgresSessionStateMachine: Sendable {
    enum Phase: Sendable {
        case startup
        case authenticating
        case ready
        case closed
    }

    /// What a prepared statement or portal remembers about the lane it was prepared in.
    struct PreparedInfo: Sendable, Hashable {
        var lane: String
        /// Prepared with a per-statement hint on a protocol Parse: the lane travels with the statement to its Binds
        /// (a Bind has no text to carry a hint). SQL `PREPARE` never sets it: its `EXECUTE` is routed on its own.
        var hinted: Bool
        var effects: [SessionEffect]
        /// The transaction-control and prepared-statement statements the text runs (matched to its tags).
        var operations: [SessionOperation] = []
    }

    enum CopyState: Sendable {
        case none
        case copyIn
        /// The server ended COPY IN with an error; the client may still send CopyData until it notices.
        case copyInAborted
    }

    /// Stand-in text for a refused Query/Parse: it cannot parse, so the server fails at the same step.
    public static let refusedStandIn: [UInt8] = Array("SHADOWGATE REFUSED STATEMENT".utf8)
    /// Stand-in names for refused Bind/Execute: they do not exist on the server.
    public static let refusedStandInName = "shadowgate refused statement"

    private var phase: Phase = .startup
    public let listener: ListenerConfiguration
    public let tlsAvailable: Bool
    /// The routing table statements are decided with; swapped by ``useRouting(_:)`` after a reload.
    public private(set) var routing: RoutingTable
    private var rewriter = SQLRewriter(dialect: .postgres)
    private var hints: LaneHintScanner
    private var setting: String
    /// The last SQL text routed, for metrics and logs; `nil` after a step that routed none.
    public private(set) var lastStatement: PostgresStatementEvent?

    /// The connection-level lane (from the startup packet or the user).
    public private(set) var connectionLane: String
    /// The server this connection talks to.
    public private(set) var backend: Endpoint
    /// The database the client asked for at startup, and the one the server was sent (different when the
    /// connection's lane redirects it).
    public private(set) var requestedDatabase = ""
    public private(set) var database = ""
    /// The session switch.
    public private(set) var laneSetting = SessionLaneSetting()
    /// `search_path`, followed like the session switch: a path that names pg_catalog after another schema lets a
    /// user function shadow a built-in of the same name, so lane calls then stop trusting the catalogue.
    public private(set) var searchPath = SessionLaneSetting()
    /// Whether every search_path of the StartupMessage searches pg_catalog first (true when it sets none).
    var startupSearchesCatalogFirst = true
    /// The last session search_path read, and whether it searches pg_catalog first (read once per value).
    var readSearchPath: (path: String, catalogFirst: Bool)?
    /// `set_config('search_path', …)` ran (or was sent) on this session: the path is unknown for good.
    var searchPathSetByFunction = false
    /// The last transaction status the server reported (`I`, `T`, `E`).
    public private(set) var transactionStatus: UInt8 = UInt8(ascii: "I")
    /// What the server reported of the settings that change how statements are lexed (ParameterStatus): with
    /// `standard_conforming_strings` off a backslash escapes in `'…'`, and under client-only encodings (SJIS, BIG5,
    /// GBK, UHC, GB18030, JOHAB) a character's second byte can be a backslash. The proxy's lexer assumes neither,
    /// so lane statements are refused while either holds (nil: nothing to fear).
    public private(set) var lexingHazard: String?
    private var standardConformingStringsOff = false
    private var clientEncodingHazard: String?

    private var pending: [PendingResponse] = []
    private var pendingHead = 0
    /// The sequence number of `pending[0]` (messages sent so far minus those in the array), so that in-flight
    /// indexes survive compaction.
    private var pendingBase = 0
    /// The sequence number of the last in-flight message that ends with ReadyForQuery (Query, Sync); -1 if none.
    private var lastBoundarySeq = -1
    /// In-flight messages (sequence numbers, ascending) that create or drop the statement or portal of a name, so
    /// that a Bind or Execute need not look at the whole pipeline (a JDBC batch sends thousands of them).
    private var inFlight: [InFlightKey: [Int]] = [:]
    /// In-flight messages that drop every statement (DEALLOCATE ALL, DISCARD ALL) or every portal (also COMMIT,
    /// ROLLBACK run by Execute).
    private var inFlightDropAll: [PreparedKind: [Int]] = [:]
    private var errorSinceReady = false
    private var copy: CopyState = .none
    /// The proxy failed the client's COPY FROM STDIN (its data outgrew the dual-write capture limit): the client's
    /// remaining CopyData, CopyDone or CopyFail are dropped until it sends something else.
    private var discardingClientCopy = false
    private var statements: [String: PreparedInfo] = [:]
    private var portals: [String: PreparedInfo] = [:]
    /// Dual-write: set when the listener dual-writes; reports each batch at ReadyForQuery (``takeCapturedBatch()``).
    public var capture: PostgresStatementCapture?
    /// Dual-write: the lanes (the base lane by its name) whose writes this connection mirrors. Statements the replay
    /// log cannot capture (``UncapturableWrite``) are refused in them rather than silently missing on the mirror.
    public var mirroredLanes: Set<String> = []

    /// The statements answered since the previous ReadyForQuery, once (only with ``capture``).
    public mutating func takeCapturedBatch() -> PostgresStatementCapture.Batch? {
        defer { capture?.completed = nil }
        return capture?.completed
    }

    public init(listener: ListenerConfiguration, routing: RoutingTable, tlsAvailable: Bool) {
        self.listener = listener
        self.routing = routing
        self.tlsAvailable = tlsAvailable
        self.hints = LaneHintScanner(key: routing.label.key)
        self.setting = routing.label.postgresSetting
        self.connectionLane = routing.label.baseLane
        self.backend = listener.backend
    }

    /// Decides later statements with `table` (configuration reload). The session keeps its lane names; a lane that
    /// no longer exists is refused per statement. The connection's server never changes.
    public mutating func useRouting(_ table: RoutingTable) {
        routing = table
        hints = LaneHintScanner(key: table.label.key)
        setting = table.label.postgresSetting
    }

    /// Whether the session is idle: ready for query with no response outstanding (safe to close when draining).
    public var isIdle: Bool { phase == .ready && pendingHead == pending.count && copy == .none }

    /// Whether the session is idle and outside a transaction: a graceful shutdown may close it now without
    /// losing work.
    public var isIdleOutsideTransaction: Bool { isIdle && transactionStatus == UInt8(ascii: "I") }

    /// The lane a statement without a hint runs in now.
    @inlinable public var currentLane: String { laneSetting.effectiveLane ?? connectionLane }

    /// ``currentLane`` for a handler that keeps the machine in a class property and reads it at every ReadyForQuery:
    /// a mutating call gets the property in place, while the getter — inlinable or not — got a copy of the whole
    /// machine first (a retain and release of every reference in it).
    @inlinable public mutating func readCurrentLane() -> String { currentLane }

    // MARK: startup

    /// A startup-phase packet from the client.
    public mutating func startupPacketReceived(_ packet: PostgresStartupPacket) -> PostgresStartupAction {
        switch packet {
        case .sslRequest:
            return tlsAvailable ? .startTLS : .reply(PostgresMessageEncoder.singleByte(UInt8(ascii: "N")))
        case .gssEncryptionRequest:
            return .reply(PostgresMessageEncoder.singleByte(UInt8(ascii: "N")))
        case .cancelRequest(let pid, let key):
            phase = .closed
            return .cancel(processID: pid, secretKey: key)
        case .startup(let startup):
            switch StartupRouting.decide(startup: startup, listener: listener, routing: routing) {
            case .failure(let refusal):
                phase = .closed
                return .reject(PostgresRefusals.errorResponse(for: refusal, severity: "FATAL"))
            case .success(let decision):
                phase = .authenticating
                connectionLane = decision.laneName
                backend = decision.backend
                requestedDatabase = decision.requestedDatabase
                database = decision.database
                startupSearchesCatalogFirst = decision.searchPaths.allSatisfy(Self.searchesCatalogFirst)
                let preamble =
                    decision.mustNegotiateProtocolVersion
                    ? PostgresMessageEncoder.negotiateProtocolVersion(
                        newestMinor: 0, unrecognizedOptions: decision.unsupportedProtocolOptions) : nil
                return .connect(
                    backend: decision.backend, startup: PostgresMessageEncoder.startup(decision.startup),
                    clientPreamble: preamble)
            }
        }
    }

    // MARK: client → server

    /// A typed message from the client after the StartupMessage.
    public mutating func frontendFrameReceived(_ frame: PostgresFrame) -> PostgresFrontendAction {
        lastStatement = nil
        let message: FrontendMessage
        do {
            message = try FrontendMessage(frame: frame)
        } catch let error as PostgresWireError {
            return .protocolViolation(error)
        } catch {
            return .protocolViolation(PostgresWireError(.malformedMessage, "\(error)"))
        }
        if case .terminate = message {
            phase = .closed
            return .forwardAndClose
        }
        switch phase {
        case .startup, .closed:
            return .protocolViolation(PostgresWireError(.unexpectedMessage, "unexpected message before startup"))
        case .authenticating:
            if case .authenticationResponse = message { return .forward }
            return .protocolViolation(
                PostgresWireError(.unexpectedMessage, "unexpected message '\(frame.name)' during authentication"))
        case .ready:
            return commandMessage(message, frame: frame)
        }
    }

    private mutating func commandMessage(_ message: FrontendMessage, frame: PostgresFrame) -> PostgresFrontendAction {
        if discardingClientCopy {
            switch message {
            case .copyData, .copyDone, .copyFail: return .discard
            default: discardingClientCopy = false
            }
        }
        switch message {
        case .query(let sql):
            return simpleQuery(sql)
        case .parse(let name, let sql, let types):
            return parse(name: name, sql: sql, parameterTypes: types)
        case .bind(let portal, let statement):
            let candidates = possible(.statement, statement)
            if let refusal = preparedUseRefusal(
                .statement, name: statement, candidates: candidates, lane: currentLane, followHints: true)
            {
                lastStatement = PostgresStatementEvent(
                    lane: currentLane, sql: ByteBuffer(), outcome: .refused(refusal), hinted: false)
                capture?.closed(kind: UInt8(ascii: "P"), name: portal)
                enqueue(.bind(refusal: refusal, portal: portal, info: nil))
                return .send(PostgresMessageEncoder.bind(portal: portal, statement: Self.refusedStandInName))
            }
            var info = candidates.compactMap { $0 }.last ?? PreparedInfo(lane: currentLane, hinted: false, effects: [])
            if !info.hinted { info.lane = currentLane }
            capture?.bound(portal: portal, statement: statement, frame: frame)
            enqueue(.bind(refusal: nil, portal: portal, info: info))
            return .forward
        case .describe:
            enqueue(.describe)
            return .forward
        case .execute(let portal, _):
            let candidates = possible(.portal, portal)
            if let refusal = preparedUseRefusal(
                .portal, name: portal, candidates: candidates, lane: currentLane, followHints: true)
            {
                lastStatement = PostgresStatementEvent(
                    lane: currentLane, sql: ByteBuffer(), outcome: .refused(refusal), hinted: false)
                capture?.executed(portal: Self.refusedStandInName)
                enqueue(.execute(refusal: refusal, effects: [], operations: []))
                return .send(PostgresMessageEncoder.execute(portal: Self.refusedStandInName))
            }
            capture?.executed(portal: portal)
            let info = candidates.compactMap { $0 }.last
            enqueue(.execute(refusal: nil, effects: info?.effects ?? [], operations: info?.operations ?? []))
            return .forward
        case .close(let kind, let name):
            capture?.closed(kind: kind, name: name)
            enqueue(.close(kind: kind, name: name))
            return .forward
        case .sync:
            enqueue(.sync)
            return .forward
        case .flush:
            return .forward
        case .copyData:
            switch copy {
            case .none:
                return .protocolViolation(PostgresWireError(.unexpectedMessage, "CopyData received outside COPY"))
            case .copyInAborted:
                return .forward
            case .copyIn:
                guard capture != nil else { return .forward }
                switch capture?.copyData(frame.body, mirroredLanes: mirroredLanes) {
                case .overLimit(let limit):
                    // The record would outgrow what a connection may hold: fail the COPY on the server, so the
                    // primary does not load rows the mirror would miss; the client gets the server's error.
                    copy = .copyInAborted
                    discardingClientCopy = true
                    return .send(PostgresMessageEncoder.copyFail(message: PostgresStatementCapture.copyLimitMessage(limit)))
                case .kept, nil:
                    return .forward
                }
            }
        case .copyDone, .copyFail:
            copy = .none
            return .forward
        case .functionCall:
            if routing.isBase(currentLane) && !laneSetting.uncertain {
                enqueue(.query(refusal: nil, effects: [], operations: []))
                lastStatement = PostgresStatementEvent(
                    lane: currentLane, sql: ByteBuffer(), outcome: .forwarded, hinted: false)
                return .forward
            }
            // A function called by OID cannot be analysed: refuse in non-base lanes.
            let refusal = Refusal(
                lane: currentLane, table: nil, rule: .routines,
                message: "function calls by OID (FunctionCall message) cannot be isolated in lane \(currentLane)")
            enqueue(.query(refusal: refusal, effects: [], operations: []))
            lastStatement = PostgresStatementEvent(
                lane: currentLane, sql: ByteBuffer(), outcome: .refused(refusal), hinted: false)
            return .send(PostgresMessageEncoder.query(sql: Self.refusedStandIn))
        case .authenticationResponse:
            return .protocolViolation(PostgresWireError(.unexpectedMessage, "unexpected password message"))
        case .terminate:
            return .forwardAndClose
        }
    }

    /// The outcome of routing one SQL text.
    enum Routed {
        case original
        case rewritten([UInt8])
        case refused(Refusal)
    }

    private mutating func route(_ sql: ByteBuffer) -> (
        Routed, lane: String, hinted: Bool, effects: [SessionEffect], operations: [SessionOperation]
    ) {
        let (hint, effects) = sql.withUnsafeReadableBytes { raw in
            (hints.lane(in: raw, dialect: .postgres), SessionStatementScanner.effects(in: raw, dialect: .postgres))
        }
        let laneName = hint ?? currentLane
        let scan = sql.withUnsafeReadableBytes { PreparedStatementScanner.scan($0, lane: laneName, setting: setting) }
        // The proxy cannot follow a path set by a function; from then on it trusts no search_path.
        if scan.setsSearchPathByFunction { searchPathSetByFunction = true }
        if Self.switchesLaneBeforeWork(sql, effects: effects, scan: scan, setting: setting) {
            return (.refused(PostgresRefusals.laneSwitchAmongOtherStatements(setting: setting, lane: laneName)), laneName,
                    hint != nil, effects, [])
        }
        if let refusal = sessionRefusal(scan, lane: laneName) {
            return (.refused(refusal), laneName, hint != nil, effects, [])
        }
        let (routed, hinted) = routeStatement(sql, laneName: laneName, hint: hint, effects: effects)
        if case .refused = routed { return (routed, laneName, hinted, effects, []) }
        return (routed, laneName, hinted, effects, scan.operations)
    }

    /// Refusals that follow from the session rather than from the statement's tables: the lane setting changed by
    /// `set_config`, a lane the proxy lost track of after ROLLBACK TO SAVEPOINT, and SQL `EXECUTE` of a statement
    /// prepared in another lane (or one the proxy does not know, outside the base lane).
    private func sessionRefusal(_ scan: PreparedStatementScan, lane: String) -> Refusal? {
        if scan.setsLaneSettingByFunction {
            return PostgresRefusals.laneSetByFunction(setting: setting, lane: lane)
        }
        if laneSetting.uncertain && !scan.onlyEndsTransaction {
            return PostgresRefusals.laneUnknownAfterRollbackTo(setting: setting, lane: lane)
        }
        enum Local {
            case prepared(PreparedInfo)
            case gone
        }
        var local: [String: Local] = [:]
        var allGone = false
        for item in scan.items {
            switch item {
            case .operation(.prepare(let name, let preparedLane)):
                local[name] = .prepared(PreparedInfo(lane: preparedLane, hinted: false, effects: []))
            case .operation(.deallocate(let name)):
                local[name] = .gone
            case .operation(.deallocateAll), .operation(.discardAll):
                local.removeAll()
                allGone = true
            case .execute(let name):
                guard let name else { return PostgresRefusals.unreadablePreparedName(lane: lane) }
                let candidates: [PreparedInfo?]
                switch local[name] {
                case .prepared(let info): candidates = [info]
                case .gone: candidates = [nil]
                case nil: candidates = allGone ? [nil] : possible(.statement, name)
                }
                if let refusal = preparedUseRefusal(
                    .statement, name: name, candidates: candidates, lane: lane, followHints: false)
                {
                    return refusal
                }
            case .operation:
                break
            }
        }
        return nil
    }

    /// The refusal when `laneName` runs on `server` in `database` and this connection is elsewhere. A statement that
    /// only switches lanes still runs, so a session can switch back to the lane its connection lives in.
    private func placementRefusal(
        _ laneName: String, server: Endpoint, database laneDatabase: String, sql: ByteBuffer, hint: String?,
        effects: [SessionEffect]
    ) -> Refusal? {
        guard server != backend || laneDatabase != database else { return nil }
        if hint == nil && Self.onlySwitchesLane(sql, effects: effects, setting: setting) { return nil }
        if server != backend { return PostgresRefusals.otherServer(laneName, setting: setting) }
        return PostgresRefusals.otherDatabase(
            laneName, laneDatabase: laneDatabase, connectionDatabase: database, setting: setting)
    }

    private mutating func routeStatement(
        _ sql: ByteBuffer, laneName: String, hint: String?, effects: [SessionEffect]
    ) -> (Routed, hinted: Bool) {
        if !mirroredLanes.isEmpty, mirroredLanes.contains(laneName),
            let reason = sql.withUnsafeReadableBytes({ UncapturableWrite.reason(in: $0, dialect: .postgres) })
        {
            let message = "refused in lane \(laneName), whose writes are mirrored (dual_write): \(reason); run it "
                + "directly on both databases, or through a listener without dual-write"
            return (.refused(Refusal(lane: laneName, table: nil, rule: .unsupported, message: message)), hint != nil)
        }
        if routing.isBase(laneName) {
            // On a connection redirected to another server or database, a statement that only switches lanes
            // still runs, so the session can switch back to a lane that lives there.
            if let refusal = placementRefusal(
                laneName, server: listener.backend, database: requestedDatabase, sql: sql, hint: hint, effects: effects)
            {
                return (.refused(refusal), hint != nil)
            }
            return (.original, hint != nil)
        }
        guard let lane = routing.lane(named: laneName) else {
            // Switching the lane (SET/RESET of the lane setting, DISCARD ALL) touches no table: let the session
            // leave a lane that does not exist.
            if hint == nil, Self.onlySwitchesLane(sql, effects: effects, setting: setting) {
                return (.original, false)
            }
            let refusal =
                hint == nil && laneName == connectionLane
                ? PostgresRefusals.laneRemoved(laneName, routing: routing)
                : PostgresRefusals.unknownLane(laneName, routing: routing)
            return (.refused(refusal), hint != nil)
        }
        // A lane that redirects the startup database runs only on connections redirected at startup: anywhere
        // else its statements would run in the database the connection is on (a base database).
        if let refusal = placementRefusal(
            laneName, server: routing.backend(for: listener, lane: lane),
            database: lane.mapping.databases[requestedDatabase] ?? requestedDatabase, sql: sql, hint: hint, effects: effects)
        {
            return (.refused(refusal), hint != nil)
        }
        if let lexingHazard, !Self.restoresLexing(sql) {
            return (.refused(PostgresRefusals.unreadable(laneName, reason: lexingHazard)), hint != nil)
        }
        rewriter.catalogSearchedFirst = catalogSearchedFirst()
        let outcome = sql.withUnsafeReadableBytes { rewriter.rewrite($0, lane: lane.mapping) }
        switch outcome {
        case .unchanged: return (.original, hint != nil)
        case .rewritten(let bytes, _): return (.rewritten(bytes), hint != nil)
        case .refused(let refusal): return (.refused(refusal), hint != nil)
        }
    }

    /// Whether `sql` sets the lane and also holds a statement that works on data (anything but session and
    /// transaction control, or an `EXECUTE`): the proxy routes a whole query in one lane, the one before the SET, while
    /// the server runs the statements after it in the new lane.
    static func switchesLaneBeforeWork(
        _ sql: ByteBuffer, effects: [SessionEffect], scan: PreparedStatementScan, setting: String
    ) -> Bool {
        let switches = effects.contains {
            if case .setVariable(let name, _, _) = $0 { name.lowercased() == setting.lowercased() } else { false }
        }
        guard switches else { return false }
        if scan.items.contains(where: { if case .execute = $0 { true } else { false } }) { return true }
        let kinds = sql.withUnsafeReadableBytes { StatementClassifier.classify($0, dialect: .postgres) }
        return kinds.contains { $0 != .session && $0 != .transactionControl }
    }

    /// Whether an unqualified call reaches pg_catalog before any user schema: unless the session's search_path (or
    /// every startup one) names pg_catalog after another schema, or the proxy lost track of it.
    mutating func catalogSearchedFirst() -> Bool {
        if searchPath.uncertain || searchPathSetByFunction { return false }
        guard let path = searchPath.effectiveLane else { return startupSearchesCatalogFirst }
        if let read = readSearchPath, read.path == path { return read.catalogFirst }
        let catalogFirst = Self.searchesCatalogFirst(path)
        readSearchPath = (path, catalogFirst)
        return catalogFirst
    }

    /// `search_path` as written (`a, "B", pg_catalog`): PostgreSQL searches pg_catalog first unless the path names
    /// it after another entry.
    static func searchesCatalogFirst(_ path: String) -> Bool {
        let entries = path.split(separator: ",").map { entry -> String in
            let trimmed = entry.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
            let text = String(trimmed)
            if text.hasPrefix("\"") || text.hasPrefix("'") { return String(text.dropFirst().dropLast()) }
            return text.lowercased()
        }
        guard let index = entries.firstIndex(of: "pg_catalog") else { return true }
        return index == 0
    }

    /// Whether every statement in `sql` is a session statement changing the lane setting (or resetting all).
    static func onlySwitchesLane(_ sql: ByteBuffer, effects: [SessionEffect], setting: String) -> Bool {
        guard !effects.isEmpty else { return false }
        let laneOnly = effects.allSatisfy { effect in
            switch effect {
            case .setVariable(let name, _, _): return name.lowercased() == setting.lowercased()
            case .resetAll: return true
            case .useDatabase, .setCharacterSet, .setSQLMode, .executePrepared: return false
            }
        }
        guard laneOnly else { return false }
        let kinds = sql.withUnsafeReadableBytes { StatementClassifier.classify($0, dialect: .postgres) }
        return kinds.count == effects.count && kinds.allSatisfy { $0 == .session }
    }

    private mutating func simpleQuery(_ sql: ByteBuffer) -> PostgresFrontendAction {
        let (routed, lane, hinted, effects, operations) = route(sql)
        record(routed, lane: lane, hinted: hinted, sql: sql)
        switch routed {
        case .original:
            capture?.queried(sql: Array(sql.readableBytesView), lane: lane)
            enqueue(.query(refusal: nil, effects: effects, operations: operations))
            return .forward
        case .rewritten(let bytes):
            capture?.queried(sql: bytes, lane: lane)
            enqueue(.query(refusal: nil, effects: effects, operations: operations))
            return .send(PostgresMessageEncoder.query(sql: bytes))
        case .refused(let refusal):
            enqueue(.query(refusal: refusal, effects: [], operations: []))
            return .send(PostgresMessageEncoder.query(sql: Self.refusedStandIn))
        }
    }

    private mutating func parse(name: String, sql: ByteBuffer, parameterTypes: ByteBuffer) -> PostgresFrontendAction {
        let (routed, lane, hinted, effects, operations) = route(sql)
        record(routed, lane: lane, hinted: hinted, sql: sql)
        // Recorded only when ParseComplete arrives: a Parse the server rejects (42P05, a syntax error) leaves the
        // statement it already has, and so does a refused one.
        let info = PreparedInfo(lane: lane, hinted: hinted, effects: effects, operations: operations)
        switch routed {
        case .original:
            capture?.parsed(name: name, sql: Array(sql.readableBytesView), lane: lane)
            enqueue(.parse(refusal: nil, name: name, info: info))
            return .forward
        case .rewritten(let bytes):
            capture?.parsed(name: name, sql: bytes, lane: lane)
            enqueue(.parse(refusal: nil, name: name, info: info))
            return .send(PostgresMessageEncoder.parse(statement: name, sql: bytes, parameterTypes: parameterTypes))
        case .refused(let refusal):
            capture?.closed(kind: UInt8(ascii: "S"), name: name)
            enqueue(.parse(refusal: refusal, name: name, info: nil))
            return .send(
                PostgresMessageEncoder.parse(
                    statement: name, sql: Self.refusedStandIn, parameterTypes: ByteBuffer(bytes: [0, 0])))
        }
    }

    private mutating func record(_ routed: Routed, lane: String, hinted: Bool, sql: ByteBuffer) {
        let outcome: PostgresStatementEvent.Outcome
        switch routed {
        case .original: outcome = .forwarded
        case .rewritten(let bytes): outcome = .rewritten(bytes)
        case .refused(let refusal): outcome = .refused(refusal)
        }
        // Lane names from clients go into metric labels: an unknown one is reported as such, never verbatim.
        let known = routing.isBase(lane) || routing.lane(named: lane) != nil
        lastStatement = PostgresStatementEvent(
            lane: known ? lane : PostgresStatementEvent.unknownLane, sql: sql, outcome: outcome, hinted: hinted)
    }

    // MARK: server → client

    /// A typed message from the backend.
    public mutating func backendFrameReceived(_ frame: PostgresFrame) -> PostgresBackendAction {
        let message: BackendMessage
        do {
            message = try BackendMessage(frame: frame)
        } catch let error as PostgresWireError {
            return .protocolViolation(error)
        } catch {
            return .protocolViolation(PostgresWireError(.malformedMessage, "\(error)"))
        }
        if case .parameterStatus(let name, let value) = message { parameterReported(name, value) }
        switch phase {
        case .startup, .closed:
            return .forward
        case .authenticating:
            switch message {
            case .authentication(code: 10):
                return .replace(Self.withoutChannelBinding(frame))
            case .backendKeyData(let pid, let key):
                return .issueCancelKey(processID: pid, secretKey: key)
            case .readyForQuery(let status):
                phase = .ready
                transactionStatus = status
                return .forwardHandshakeComplete
            default:
                return .forward
            }
        case .ready:
            return commandResponse(message, frame: frame)
        }
    }

    /// Whether `sql` is exactly a statement that puts the lexing settings back (`SET standard_conforming_strings =
    /// on`, `SET client_encoding TO 'UTF8'`, their RESETs, `RESET ALL`, `DISCARD ALL`), judged on its bytes alone —
    /// the lexer cannot be trusted while the settings are off — so a lane can leave the state it refuses in.
    static func restoresLexing(_ sql: ByteBuffer) -> Bool {
        guard sql.readableBytes <= 80 else { return false }
        var words: [String] = []
        var current = ""
        for byte in sql.readableBytesView {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: ";"):
                if !current.isEmpty { words.append(current) }
                current = ""
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "_"), UInt8(ascii: "="), UInt8(ascii: "'"):
                current.append(Character(Unicode.Scalar(byte | (byte >= 0x41 && byte <= 0x5A ? 0x20 : 0))))
            default:
                return false
            }
        }
        if !current.isEmpty { words.append(current) }
        if words.first == "set", words.count > 1, words[1] == "session" { words.remove(at: 1) }
        switch words {
        case ["reset", "all"], ["discard", "all"], ["reset", "standard_conforming_strings"], ["reset", "client_encoding"]:
            return true
        case ["set", "standard_conforming_strings", "=", "on"], ["set", "standard_conforming_strings", "to", "on"],
            ["set", "standard_conforming_strings", "=", "'on'"], ["set", "standard_conforming_strings", "to", "'on'"],
            ["set", "standard_conforming_strings=on"], ["set", "standard_conforming_strings='on'"]:
            return true
        case ["set", "client_encoding", "=", "'utf8'"], ["set", "client_encoding", "to", "'utf8'"],
            ["set", "client_encoding", "=", "utf8"], ["set", "client_encoding", "to", "utf8"], ["set", "names", "'utf8'"]:
            return true
        default:
            return false
        }
    }

    private mutating func parameterReported(_ name: String, _ value: String) {
        switch name.lowercased() {
        case "standard_conforming_strings":
            standardConformingStringsOff = value.lowercased() != "on"
        case "client_encoding":
            let encoding = value.uppercased().replacingOccurrences(of: "_", with: "")
            let hazardous = ["SJIS", "SHIFTJIS", "BIG5", "GBK", "UHC", "GB18030", "JOHAB", "WIN932", "WIN936", "WIN949", "WIN950"]
            clientEncodingHazard = hazardous.contains(encoding) ? "client_encoding is \(value)" : nil
        default:
            return
        }
        let reasons = [standardConformingStringsOff ? "standard_conforming_strings is off" : nil, clientEncodingHazard]
            .compactMap { $0 }
        lexingHazard = reasons.isEmpty ? nil : reasons.joined(separator: " and ")
    }

    /// The length of the run of whole DataRow messages at the start of `bytes` (raw messages, type byte included),
    /// which the handler forwards as one slice: a DataRow changes nothing in the session (the statement's outcome is
    /// in the CommandComplete or ErrorResponse after it), so it needs only its header read. 0 before the session is
    /// ready. A message over `maximumMessageSize` or of an invalid length stops the run and goes to the decoder,
    /// which refuses it.
    public mutating func backendDataRowRun(_ bytes: ByteBuffer, maximumMessageSize: Int) -> Int {
        guard case .ready = phase else { return 0 }
        return bytes.withUnsafeReadableBytes { raw in
            var offset = 0
            while raw.count - offset >= 5, raw[offset] == UInt8(ascii: "D") {
                let length = Int(raw[offset + 1]) << 24 | Int(raw[offset + 2]) << 16 | Int(raw[offset + 3]) << 8 | Int(raw[offset + 4])
                let total = length + 1
                guard length >= 4, total <= maximumMessageSize, raw.count - offset >= total else { break }
                offset += total
            }
            return offset
        }
    }

    private mutating func commandResponse(_ message: BackendMessage, frame: PostgresFrame) -> PostgresBackendAction {
        switch message {
        case .readyForQuery(let status):
            // A simple Query or a failed Parse also drops the server's unnamed statement; its record is kept
            // anyway: a stale record can only refuse a Bind the server would reject, while a missing one would let
            // a base-lane Bind through unchecked.
            while let head = popHead() {
                if head.endsWithReadyForQuery { break }
            }
            // Outside a transaction block every portal is gone.
            if status == UInt8(ascii: "I") { portals.removeAll() }
            capture?.ready(statusBefore: transactionStatus, status: status, errorSeen: errorSinceReady)
            transactionStatus = status
            laneSetting.readyForQuery(status: status, errorSeen: errorSinceReady)
            searchPath.readyForQuery(status: status, errorSeen: errorSinceReady)
            errorSinceReady = false
            copy = .none
            return .forward
        case .errorResponse:
            errorSinceReady = true
            if copy == .copyIn { copy = .copyInAborted }
            guard let head = peekHead() else { return .forward }
            switch head {
            case .query, .execute: capture?.failed()
            default: break
            }
            let replacement = head.refusal.map { PostgresRefusals.errorResponse(for: $0) }
            if !head.endsWithReadyForQuery {
                // The server now discards everything until Sync.
                while let next = peekHead(), !next.endsWithReadyForQuery { _ = popHead() }
            }
            return replacement.map { .replace($0) } ?? .forward
        case .commandComplete(let tag):
            commandCompleted(tag: tag)
            if capture != nil {
                if case .execute = peekHead() {
                    capture?.commandCompleted(tag: tag, isExecute: true)
                } else {
                    capture?.commandCompleted(tag: tag, isExecute: false)
                }
            }
            switch peekHead() {
            case .execute(_, let effects, _):
                _ = popHead()
                if Self.isSessionTag(tag) {
                    for effect in effects {
                        laneSetting.apply(effect, setting: setting)
                        searchPath.apply(effect, setting: "search_path")
                    }
                }
            case .query(let refusal, var effects, let operations):
                if Self.isSessionTag(tag), !effects.isEmpty {
                    let effect = effects.removeFirst()
                    laneSetting.apply(effect, setting: setting)
                    searchPath.apply(effect, setting: "search_path")
                    replaceHead(.query(refusal: refusal, effects: effects, operations: operations))
                }
            default:
                break
            }
            if copy != .none { copy = .none }
            return .forward
        case .other(let id):
            switch id {
            case .parseComplete, .bindComplete, .closeComplete:
                switch popHead() {
                case .parse(nil, let name, let info?):
                    statements[name] = info
                case .bind(nil, let portal, let info?):
                    portals[portal] = info
                case .close(let kind, let name):
                    if kind == UInt8(ascii: "S") { statements[name] = nil } else { portals[name] = nil }
                default:
                    break
                }
            case .rowDescription, .noData:
                if case .describe = peekHead() { _ = popHead() }
            case .emptyQueryResponse, .portalSuspended:
                if case .execute = peekHead() { _ = popHead() }
            case .copyInResponse, .copyBothResponse:
                copy = .copyIn
            default:
                break
            }
            return .forward
        case .authentication, .backendKeyData, .parameterStatus:
            return .forward
        }
    }

    /// Follows a CommandComplete tag: the statement of the head Query or Execute that produced it (matched in
    /// order) creates or drops prepared statements, moves between savepoints, or ends the transaction.
    private mutating func commandCompleted(tag: String) {
        var operation: SessionOperation?
        switch peekHead() {
        case .query(let refusal, let effects, var operations):
            if let i = operations.firstIndex(where: { $0.produces(tag: tag) }) {
                operation = operations.remove(at: i)
                replaceHead(.query(refusal: refusal, effects: effects, operations: operations))
            }
        case .execute(let refusal, let effects, var operations):
            if let i = operations.firstIndex(where: { $0.produces(tag: tag) }) {
                operation = operations.remove(at: i)
                replaceHead(.execute(refusal: refusal, effects: effects, operations: operations))
            }
        default:
            break
        }
        switch operation {
        case .prepare(let name, let lane):
            statements[name] = PreparedInfo(lane: lane, hinted: false, effects: [])
        case .deallocate(let name):
            statements[name] = nil
        case .deallocateAll:
            statements.removeAll()
        case .discardAll:
            statements.removeAll()
            portals.removeAll()
        case .savepoint(let name):
            laneSetting.savepoint(name)
            searchPath.savepoint(name)
        case .release(let name):
            laneSetting.release(name)
            searchPath.release(name)
        case .rollbackTo(let name):
            laneSetting.rollback(toSavepoint: name)
            searchPath.rollback(toSavepoint: name)
        case .endTransaction, nil:
            if tag == "COMMIT" || tag == "ROLLBACK" || tag == "PREPARE TRANSACTION" { portals.removeAll() }
            laneSetting.commandCompleted(tag: tag)
            searchPath.commandCompleted(tag: tag)
        }
    }

    enum PreparedKind: Hashable {
        case statement
        case portal
    }

    struct InFlightKey: Hashable {
        var kind: PreparedKind
        var name: String
    }

    /// What a prepared statement or portal named `name` may be when the server reaches the next message sent now:
    /// the proxy's record, changed by the messages still in flight. A change in the same pipeline segment (no Sync
    /// or Query since) is certain, because a failure there makes the server skip the next message too; one in an
    /// earlier segment may or may not have happened, so both outcomes are kept. nil means absent (or unknown).
    func possible(_ kind: PreparedKind, _ name: String) -> [PreparedInfo?] {
        let committed = kind == .statement ? statements[name] : portals[name]
        let head = pendingBase + pendingHead
        let keyed = inFlight[InFlightKey(kind: kind, name: name)] ?? []
        // The latest change decides alone when it is in the current segment (every later one is too).
        var latest = keyed.last.flatMap { $0 >= head ? $0 : nil } ?? -1
        if let dropAll = inFlightDropAll[kind]?.last, dropAll >= head, dropAll > latest { latest = dropAll }
        if latest > lastBoundarySeq {
            if let change = Self.changes(of: pending[latest - pendingBase], kind, name).last { return [change] }
            return [committed]
        }
        // Otherwise each change may or may not have happened. Drops only add "absent", which never decides a
        // check while any statement is possible, so only the keyed changes are walked.
        var states: [PreparedInfo?] = [committed]
        for seq in keyed where seq >= head {
            states += Self.changes(of: pending[seq - pendingBase], kind, name)
        }
        return states
    }

    static func changes(of response: PendingResponse, _ kind: PreparedKind, _ name: String) -> [PreparedInfo?] {
        func applying(_ operations: [SessionOperation]) -> [PreparedInfo?] {
            var out: [PreparedInfo?] = []
            for op in operations {
                switch (op, kind) {
                case (.prepare(let n, let lane), .statement) where n == name:
                    out.append(PreparedInfo(lane: lane, hinted: false, effects: []))
                case (.deallocate(let n), .statement) where n == name: out.append(nil)
                case (.deallocateAll, .statement), (.discardAll, _): out.append(nil)
                case (.endTransaction, .portal): out.append(nil)
                default: break
                }
            }
            return out
        }
        switch response {
        case .parse(let refusal, let n, let info) where kind == .statement && n == name:
            return refusal == nil ? [info] : []
        case .bind(nil, let p, let info) where kind == .portal && p == name:
            return [info]
        case .close(let k, let n) where n == name && (k == UInt8(ascii: "S")) == (kind == .statement):
            return [nil]
        case .query(let refusal, _, let operations):
            return refusal == nil ? applying(operations) : []
        case .execute(nil, _, let operations):
            return applying(operations)
        default:
            return []
        }
    }

    /// Whether a statement or portal that may be any of `candidates` can run in `lane`: one prepared or bound in
    /// another lane cannot (either way: a base statement would write base tables from a lane, a lane's statement
    /// would write its shadow tables from base), and outside the base lane one the proxy does not know cannot
    /// either, since its lane cannot be checked.
    func preparedUseRefusal(
        _ kind: PreparedKind, name: String, candidates: [PreparedInfo?], lane: String, followHints: Bool
    ) -> Refusal? {
        if laneSetting.uncertain {
            return PostgresRefusals.laneUnknownAfterRollbackTo(setting: setting, lane: lane)
        }
        let known = candidates.compactMap { $0 }
        if known.isEmpty {
            return routing.isBase(lane) ? nil : PostgresRefusals.unknownPrepared(portal: kind == .portal, name: name, lane: lane)
        }
        for info in known where !(followHints && info.hinted) {
            let same = info.lane == lane || (routing.isBase(info.lane) && routing.isBase(lane))
            if !same {
                return PostgresRefusals.preparedInOtherLane(
                    portal: kind == .portal, name: name, preparedIn: info.lane, now: lane, nowIsBase: routing.isBase(lane))
            }
        }
        return nil
    }

    static func isSessionTag(_ tag: String) -> Bool {
        tag == "SET" || tag == "RESET" || tag == "DISCARD ALL"
    }

    /// AuthenticationSASL without SCRAM-SHA-256-PLUS: the client's TLS session ends at the proxy, so channel binding
    /// to the server's certificate could never succeed.
    static func withoutChannelBinding(_ frame: PostgresFrame) -> ByteBuffer {
        var body = frame.body
        body.moveReaderIndex(forwardBy: 4)
        var mechanisms: [String] = []
        while let m = body.readPostgresCString(), !m.isEmpty {
            if m != "SCRAM-SHA-256-PLUS" { mechanisms.append(m) }
        }
        return PostgresMessageEncoder.authenticationSASL(mechanisms: mechanisms)
    }

    // MARK: queue

    private mutating func enqueue(_ response: PendingResponse) {
        if pendingHead > 64 && pendingHead * 2 > pending.count {
            pending.removeFirst(pendingHead)
            pendingBase += pendingHead
            pendingHead = 0
            let base = pendingBase
            for (key, seqs) in inFlight {
                let kept = seqs.filter { $0 >= base }
                inFlight[key] = kept.isEmpty ? nil : kept
            }
            for (kind, seqs) in inFlightDropAll { inFlightDropAll[kind] = seqs.filter { $0 >= base } }
        }
        let seq = pendingBase + pending.count
        pending.append(response)
        func note(_ kind: PreparedKind, _ name: String) { inFlight[InFlightKey(kind: kind, name: name), default: []].append(seq) }
        func noteAll(_ kind: PreparedKind) { inFlightDropAll[kind, default: []].append(seq) }
        switch response {
        case .parse(nil, let name, _): note(.statement, name)
        case .bind(nil, let portal, _): note(.portal, portal)
        case .close(let kind, let name): note(kind == UInt8(ascii: "S") ? .statement : .portal, name)
        case .query(nil, _, let operations), .execute(nil, _, let operations):
            for op in operations {
                switch op {
                case .prepare(let name, _), .deallocate(let name): note(.statement, name)
                case .deallocateAll: noteAll(.statement)
                case .discardAll:
                    noteAll(.statement)
                    noteAll(.portal)
                case .endTransaction: noteAll(.portal)
                case .savepoint, .release, .rollbackTo: break
                }
            }
        default:
            break
        }
        if response.endsWithReadyForQuery { lastBoundarySeq = seq }
    }

    private func peekHead() -> PendingResponse? {
        pendingHead < pending.count ? pending[pendingHead] : nil
    }

    private mutating func popHead() -> PendingResponse? {
        guard pendingHead < pending.count else { return nil }
        defer {
            pendingHead += 1
            if pendingHead == pending.count {
                pendingBase += pending.count
                pending.removeAll(keepingCapacity: true)
                pendingHead = 0
                inFlight.removeAll(keepingCapacity: true)
                inFlightDropAll.removeAll(keepingCapacity: true)
            }
        }
        return pending[pendingHead]
    }

    private mutating func replaceHead(_ response: PendingResponse) {
        if pendingHead < pending.count { pending[pendingHead] = response }
    }
}
