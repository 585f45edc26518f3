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
    struct PreparedInfo: Sendable {
        var lane: String
        /// Prepared with a per-statement hint: the lane travels with the statement.
        var hinted: Bool
        var effects: [SessionEffect]
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
    /// The session switch.
    public private(set) var laneSetting = SessionLaneSetting()
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
            let info = statements[statement]
            if let info, !info.hinted, info.lane != currentLane {
                let refusal = PostgresRefusals.preparedInOtherLane(
                    statement: statement, preparedIn: info.lane, now: currentLane)
                lastStatement = PostgresStatementEvent(
                    lane: currentLane, sql: ByteBuffer(), outcome: .refused(refusal), hinted: false)
                portals[portal] = nil
                capture?.closed(kind: UInt8(ascii: "P"), name: portal)
                enqueue(.bind(refusal: refusal))
                return .send(PostgresMessageEncoder.bind(portal: portal, statement: Self.refusedStandInName))
            }
            portals[portal] = info
            capture?.bound(portal: portal, statement: statement, frame: frame)
            enqueue(.bind(refusal: nil))
            return .forward
        case .describe:
            enqueue(.describe)
            return .forward
        case .execute(let portal, _):
            capture?.executed(portal: portal)
            enqueue(.execute(effects: portals[portal]?.effects ?? []))
            return .forward
        case .close(let kind, let name):
            if kind == UInt8(ascii: "S") { statements[name] = nil } else { portals[name] = nil }
            capture?.closed(kind: kind, name: name)
            enqueue(.close)
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
            if routing.isBase(currentLane) {
                enqueue(.query(refusal: nil, effects: []))
                lastStatement = PostgresStatementEvent(
                    lane: currentLane, sql: ByteBuffer(), outcome: .forwarded, hinted: false)
                return .forward
            }
            // A function called by OID cannot be analysed: refuse in non-base lanes.
            let refusal = Refusal(
                lane: currentLane, table: nil, rule: .routines,
                message: "function calls by OID (FunctionCall message) cannot be isolated in lane \(currentLane)")
            enqueue(.query(refusal: refusal, effects: []))
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

    private mutating func route(_ sql: ByteBuffer) -> (Routed, lane: String, hinted: Bool, effects: [SessionEffect]) {
        let (hint, effects) = sql.withUnsafeReadableBytes { raw in
            (hints.lane(in: raw, dialect: .postgres), SessionStatementScanner.effects(in: raw, dialect: .postgres))
        }
        let laneName = hint ?? currentLane
        if mirroredLanes.contains(laneName),
            let reason = sql.withUnsafeReadableBytes({ UncapturableWrite.reason(in: $0, dialect: .postgres) })
        {
            let message = "refused in lane \(laneName), whose writes are mirrored (dual_write): \(reason); run it "
                + "directly on both databases, or through a listener without dual-write"
            return (.refused(Refusal(lane: laneName, table: nil, rule: .unsupported, message: message)), laneName, hint != nil, effects)
        }
        if routing.isBase(laneName) {
            if listener.backend != backend {
                return (.refused(PostgresRefusals.otherServer(laneName, setting: setting)), laneName, hint != nil, effects)
            }
            return (.original, laneName, hint != nil, effects)
        }
        guard let lane = routing.lane(named: laneName) else {
            // Switching the lane (SET/RESET of the lane setting, DISCARD ALL) touches no table: let the session
            // leave a lane that does not exist.
            if hint == nil, Self.onlySwitchesLane(sql, effects: effects, setting: setting) {
                return (.original, laneName, false, effects)
            }
            let refusal =
                hint == nil && laneName == connectionLane
                ? PostgresRefusals.laneRemoved(laneName, routing: routing)
                : PostgresRefusals.unknownLane(laneName, routing: routing)
            return (.refused(refusal), laneName, hint != nil, effects)
        }
        if routing.backend(for: listener, lane: lane) != backend {
            return (.refused(PostgresRefusals.otherServer(laneName, setting: setting)), laneName, hint != nil, effects)
        }
        if let lexingHazard, !Self.restoresLexing(sql) {
            return (.refused(PostgresRefusals.unreadable(laneName, reason: lexingHazard)), laneName, hint != nil, effects)
        }
        let outcome = sql.withUnsafeReadableBytes { rewriter.rewrite($0, lane: lane.mapping) }
        switch outcome {
        case .unchanged: return (.original, laneName, hint != nil, effects)
        case .rewritten(let bytes, _): return (.rewritten(bytes), laneName, hint != nil, effects)
        case .refused(let refusal): return (.refused(refusal), laneName, hint != nil, effects)
        }
    }

    /// Whether every statement in `sql` is a session statement changing the lane setting (or resetting all).
    static func onlySwitchesLane(_ sql: ByteBuffer, effects: [SessionEffect], setting: String) -> Bool {
        guard !effects.isEmpty else { return false }
        let laneOnly = effects.allSatisfy { effect in
            switch effect {
            case .setVariable(let name, _, _): return name.lowercased() == setting.lowercased()
            case .resetAll: return true
            case .useDatabase: return false
            }
        }
        guard laneOnly else { return false }
        let kinds = sql.withUnsafeReadableBytes { StatementClassifier.classify($0, dialect: .postgres) }
        return kinds.count == effects.count && kinds.allSatisfy { $0 == .session }
    }

    private mutating func simpleQuery(_ sql: ByteBuffer) -> PostgresFrontendAction {
        let (routed, lane, hinted, effects) = route(sql)
        record(routed, lane: lane, hinted: hinted, sql: sql)
        switch routed {
        case .original:
            capture?.queried(sql: Array(sql.readableBytesView), lane: lane)
            enqueue(.query(refusal: nil, effects: effects))
            return .forward
        case .rewritten(let bytes):
            capture?.queried(sql: bytes, lane: lane)
            enqueue(.query(refusal: nil, effects: effects))
            return .send(PostgresMessageEncoder.query(sql: bytes))
        case .refused(let refusal):
            enqueue(.query(refusal: refusal, effects: []))
            return .send(PostgresMessageEncoder.query(sql: Self.refusedStandIn))
        }
    }

    private mutating func parse(name: String, sql: ByteBuffer, parameterTypes: ByteBuffer) -> PostgresFrontendAction {
        let (routed, lane, hinted, effects) = route(sql)
        record(routed, lane: lane, hinted: hinted, sql: sql)
        switch routed {
        case .original:
            statements[name] = PreparedInfo(lane: lane, hinted: hinted, effects: effects)
            capture?.parsed(name: name, sql: Array(sql.readableBytesView), lane: lane)
            enqueue(.parse(refusal: nil))
            return .forward
        case .rewritten(let bytes):
            statements[name] = PreparedInfo(lane: lane, hinted: hinted, effects: effects)
            capture?.parsed(name: name, sql: bytes, lane: lane)
            enqueue(.parse(refusal: nil))
            return .send(PostgresMessageEncoder.parse(statement: name, sql: bytes, parameterTypes: parameterTypes))
        case .refused(let refusal):
            statements[name] = nil
            capture?.closed(kind: UInt8(ascii: "S"), name: name)
            enqueue(.parse(refusal: refusal))
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
            while let head = popHead() {
                if head.endsWithReadyForQuery { break }
            }
            capture?.ready(statusBefore: transactionStatus, status: status, errorSeen: errorSinceReady)
            transactionStatus = status
            laneSetting.readyForQuery(status: status, errorSeen: errorSinceReady)
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
            laneSetting.commandCompleted(tag: tag)
            if capture != nil {
                if case .execute = peekHead() {
                    capture?.commandCompleted(tag: tag, isExecute: true)
                } else {
                    capture?.commandCompleted(tag: tag, isExecute: false)
                }
            }
            switch peekHead() {
            case .execute(let effects):
                _ = popHead()
                if Self.isSessionTag(tag) {
                    for effect in effects { laneSetting.apply(effect, setting: setting) }
                }
            case .query(let refusal, var effects):
                if Self.isSessionTag(tag), !effects.isEmpty {
                    laneSetting.apply(effects.removeFirst(), setting: setting)
                    replaceHead(.query(refusal: refusal, effects: effects))
                }
            default:
                break
            }
            if copy != .none { copy = .none }
            return .forward
        case .other(let id):
            switch id {
            case .parseComplete, .bindComplete, .closeComplete:
                _ = popHead()
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
            pendingHead = 0
        }
        pending.append(response)
    }

    private func peekHead() -> PendingResponse? {
        pendingHead < pending.count ? pending[pendingHead] : nil
    }

    private mutating func popHead() -> PendingResponse? {
        guard pendingHead < pending.count else { return nil }
        defer {
            pendingHead += 1
            if pendingHead == pending.count {
                pending.removeAll(keepingCapacity: true)
                pendingHead = 0
            }
        }
        return pending[pendingHead]
    }

    private mutating func replaceHead(_ response: PendingResponse) {
        if pendingHead < pending.count { pending[pendingHead] = response }
    }
}
