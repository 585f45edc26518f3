import NIOCore
import ShadowConfig
import ShadowSQL

/// The pure protocol state of one proxied MySQL connection: handshake relay (with capability masking, TLS and
/// the handshake-time move to a lane's own server), lane decisions per command, rewriting and refusals, and
/// tracking of each answer. It performs no I/O: every event returns an ``Action`` the channel handler executes.
public struct MySQLSessionStateMachine: Sendable {
    /// What the handler must do after an event.
    public enum Action: Sendable, Hashable {
        /// Nothing to do now.
        case none
        /// Send a packet to the client (proxy-made, translated or relayed as a whole packet).
        case sendToClient(MySQLPacket)
        /// Relay one backend frame to the client untouched.
        case forwardToClient(MySQLFrame)
        /// Send a packet to the current backend (the client's original bytes when nothing changed).
        case sendToBackend(MySQLPacket)
        /// Send an SSLRequest to the backend, start TLS on it, then send the handshake response over TLS.
        case startBackendTLS(sslRequest: MySQLPacket, response: MySQLPacket)
        /// Begin TLS with the client (it sent an SSLRequest); the next client packet arrives encrypted.
        case startClientTLS
        /// Connect to a lane's own server and feed its greeting to ``laneBackendGreetingReceived(_:)``.
        case connectLaneBackend(Endpoint)
        /// Close the base backend, make the lane backend current, and send this AuthSwitchRequest to the client.
        case switchToLaneBackend(authSwitch: MySQLPacket)
        /// Send a packet to the client, then close both sides.
        case sendToClientAndClose(MySQLPacket)
        /// Send a packet to the backend (COM_QUIT), then close both sides.
        case sendToBackendAndClose(MySQLPacket)
        /// A protocol violation: close both sides.
        case closeConnection(MySQLWireError)
    }

    /// Fixed facts about the connection.
    public struct Settings: Sendable {
        public var listener: ListenerConfiguration
        /// Whether the proxy can terminate client TLS (the listener has a certificate).
        public var clientTLS: Bool
        /// Whether the proxy speaks TLS to the servers.
        public var backendTLS: Bool

        public init(listener: ListenerConfiguration, clientTLS: Bool, backendTLS: Bool = false) {
            self.listener = listener
            self.clientTLS = clientTLS
            self.backendTLS = backendTLS
        }
    }

    enum State: Sendable {
        case awaitingGreeting
        case awaitingResponse(greeting: HandshakeV10, tlsDone: Bool)
        case connectingLaneBackend(response: HandshakeResponse41, responseSequenceID: UInt8)
        case awaitingSwitchedAuth(response: HandshakeResponse41, laneGreeting: HandshakeV10)
        case authenticating
        case command
        case closed
    }

    struct Prepared: Sendable, Hashable {
        var lane: String?
        var fromHint: Bool
        var parameterCount: UInt16 = 0
    }

    public let settings: Settings
    /// The routing table statements are decided with; swapped by ``useRouting(_:)`` after a reload.
    public internal(set) var routing: RoutingTable
    var resolver: LaneResolver
    var state: State = .awaitingGreeting {
        didSet {
            if case .command = state { isCommandPhase = true } else { isCommandPhase = false }
        }
    }
    var rewriter = SQLRewriter(dialect: .mysql)
    var hints: LaneHintScanner
    /// The connection's lane after a reload removed it: every statement that would run in it is refused.
    public internal(set) var removedConnectionLane: String? { didSet { identityGeneration &+= 1 } }
    /// The server's thread id of this connection (from the greeting of the server it runs on).
    public internal(set) var serverThreadID: UInt32?
    /// The thread id the client was given: the base server's greeting, relayed before the lane was known. It
    /// differs from ``serverThreadID`` on a connection moved to a lane's own server.
    public internal(set) var clientThreadID: UInt32?
    /// The proxied connections known to clients by a thread id: where each really runs and its lane (for `KILL`);
    /// empty when unknown.
    public var knownThreads: @Sendable (UInt64) -> [MySQLKnownThread] = { _ in [] }
    /// What the last command did, for metrics and logs (``takeStatementEvent()``).
    var statementEvent: MySQLStatementEvent?
    /// How many command answers have completed; grows by one per finished answer (for latency).
    public internal(set) var completedAnswers = 0

    /// Client sequence id minus backend sequence id during the handshake (SSLRequest, auth switch to a lane server).
    var sequenceOffset: UInt8 = 0
    var serverCapabilities: MySQLCapabilities = []
    public internal(set) var clientCapabilities: MySQLCapabilities = []
    /// The connection character set as the session's statements left it (``ClientCharset``), and the one the
    /// handshake asked for (COM_RESET_CONNECTION returns to it).
    public internal(set) var clientCharset: ClientCharset = .readsAsUTF8
    var handshakeCharset: ClientCharset = .readsAsUTF8
    /// Whether the session's sql_mode may contain ANSI_QUOTES (or ANSI), as far as the statements through this
    /// session show: the server sends no signal for it (docs/mysql.md). Set at once by a change that may add it,
    /// cleared only once a change without it succeeded (``pendingANSIQuotesCleared``).
    public internal(set) var ansiQuotesPossible = false
    var pendingANSIQuotesCleared = false
    public internal(set) var user: String = "" { didSet { identityGeneration &+= 1 } }
    /// The lane from the connection attribute or the login user; nil is base.
    public internal(set) var connectionLane: LaneConfiguration? { didSet { identityGeneration &+= 1 } }
    /// The lane set by `SET @lane = '…'`; nil when unset (then the connection lane applies).
    public internal(set) var sessionLane: String? { didSet { identityGeneration &+= 1 } }
    /// Changes whenever the user or a lane of the session may have changed, so the proxy looks up the reported lane
    /// only then. The handler keeps this machine in a class property; reading a computed property of it copies the
    /// whole struct (a retain per reference it holds), which the per-packet path must not do.
    public private(set) var identityGeneration = 0
    /// Whether the handshake is over (kept stored for the same reason as ``identityGeneration``).
    public private(set) var isCommandPhase = false
    /// The server this connection talks to.
    public internal(set) var backend: Endpoint
    /// The database the client selected last (before any lane mapping), once the server accepted it.
    public internal(set) var currentDatabase: String?
    /// The databases the server's session may be in: one, except after a command that selected some and failed
    /// partway (a multi-statement query with `USE`, a change of user), when each of them may be it.
    var databases: [DatabaseSelection] = [DatabaseSelection()]
    /// The selection the command in flight makes once the server accepts it.
    var pendingDatabase: PendingDatabase?
    public internal(set) var inTransaction = false
    var tracker = ResponseTracker(deprecateEOF: false)
    var prepared: [UInt32: Prepared] = [:]
    var pendingPrepare: Prepared?
    var lastPreparedID: UInt32?
    var lastPrepareRefused = false
    var pendingReset: PendingReset?
    /// Client commands that arrived while an answer was in flight; run in order when the backend finishes.
    var queued: [MySQLPacket] = [] { didSet { queuedCount = queued.count } }
    public internal(set) var quiescing = false
    /// The last sequence id of the client's current command (a proxy-made answer uses the next one).
    var lastClientSequenceID: UInt8 = 0
    /// Dual-write: remember each text statement sent and report its outcome (``takeStatementCompletion()``).
    /// Off by default so connections without dual-write keep no copy of the SQL.
    public var capturesStatements = false
    /// Dual-write: the lanes (the base lane by its name) whose writes this connection mirrors. Statements the replay
    /// log cannot capture (``UncapturableWrite``) are refused in them rather than silently missing on the mirror.
    public var mirroredLanes: Set<String> = []
    /// The statement in flight, as sent to the server, its lane (nil is base) and bound values of an execute.
    var statementInFlight: (sql: String, lane: String?, parameters: [MySQLStatementCapture.Value]?, capturable: Bool)?
    /// The file a mirrored `LOAD DATA LOCAL INFILE` in flight sent so far (its data packets, in order).
    var localInfileCapture: [UInt8]?
    /// Most bytes of `LOAD … LOCAL INFILE` data one captured statement may carry (held in memory until the server's
    /// OK); a larger load closes the connection, which makes the server roll the statement back.
    public var localInfileCaptureLimit = 16 << 20
    var completedStatement: StatementCompletion?
    /// Prepared statements' SQL and bound values (only used with ``capturesStatements``).
    var preparedCapture = MySQLStatementCapture()

    /// How the server answered a text statement (only with ``capturesStatements``).
    public struct StatementCompletion: Sendable, Hashable {
        /// The SQL as the server received it (rewritten for a lane).
        public var sql: String
        /// The lane it ran in; nil is base.
        public var lane: String?
        public var succeeded: Bool
        /// The final OK/EOF status; nil after an ERR.
        public var status: MySQLServerStatus?
        /// The OK packet's last insert id.
        public var lastInsertID: UInt64?
        /// Bound values of a COM_STMT_EXECUTE; nil for a text statement.
        public var parameters: [MySQLStatementCapture.Value]?
        /// False when an execute could not be decoded faithfully (its SQL or values are unknown).
        public var capturable: Bool = true
        /// The file a `LOAD … LOCAL INFILE` in a mirrored lane sent, as the server received it.
        public var localInfileData: [UInt8]? = nil
    }

    /// The error a `LOAD … LOCAL INFILE` over ``localInfileCaptureLimit`` ends with, as the client sees it.
    public static func localInfileLimitMessage(_ limit: Int) -> String {
        "shadowgate: this lane's writes are mirrored (dual_write), and LOAD DATA LOCAL INFILE data is captured up to "
            + "\(limit) bytes per statement (replay_log.max_copy_bytes); the connection is closed so the server rolls "
            + "the load back — split the file, or raise the limit"
    }

    /// The outcome of the text statement whose answer just completed, once.
    public mutating func takeStatementCompletion() -> StatementCompletion? {
        defer { completedStatement = nil }
        return completedStatement
    }

    enum PendingReset: Sendable {
        case changeUser(user: String, attributeLane: String?)
        case resetConnection
    }

    public init(settings: Settings, routing: RoutingTable) {
        self.settings = settings
        self.routing = routing
        self.resolver = LaneResolver(routing: routing)
        self.hints = LaneHintScanner(key: routing.label.key)
        self.backend = settings.listener.backend
    }

    /// Whether no command is in flight and none is queued (safe to close for shutdown).
    public var isIdle: Bool {
        if case .command = state { return tracker.isIdle && queued.isEmpty }
        return false
    }

    /// Whether no command is in flight or queued and the server reported no open transaction
    /// (SERVER_STATUS_IN_TRANS clear): a graceful shutdown may close the connection now without losing work.
    public var isIdleOutsideTransaction: Bool { isIdle && !inTransaction }

    /// What the last client packet or queued command did with SQL (or which command the proxy refused), once.
    public mutating func takeStatementEvent() -> MySQLStatementEvent? {
        defer { statementEvent = nil }
        return statementEvent
    }

    /// A configuration reload: decide the next statements with `table`. The session keeps its lane by name; if the
    /// reload removed it, statements in it are refused until the client switches lanes or reconnects.
    public mutating func useRouting(_ table: RoutingTable) {
        routing = table
        resolver = LaneResolver(routing: table)
        hints = LaneHintScanner(key: table.label.key)
        guard let name = connectionLane?.name ?? removedConnectionLane else { return }
        if let lane = table.lane(named: name) {
            connectionLane = lane
            removedConnectionLane = nil
        } else {
            connectionLane = nil
            removedConnectionLane = name
        }
    }

    /// The lane name reported in metrics and logs for `name` (nil is base): the base label, a configured lane or
    /// ``MySQLStatementEvent/unknownLane`` (keeps metric labels bounded).
    public func reportedLane(_ name: String?) -> String {
        Self.reportedLane(name, in: routing)
    }

    /// ``reportedLane(_:)`` for the state machine's own mutating methods: calling the instance method there, with an
    /// argument read from `self`, made Swift copy the whole state machine first (a retain and release of every
    /// reference it holds, on every prepared-statement execution).
    static func reportedLane(_ name: String?, in routing: RoutingTable) -> String {
        guard let name else { return routing.label.baseLane }
        if routing.isBase(name) { return routing.label.baseLane }
        return routing.lane(named: name) != nil ? name : MySQLStatementEvent.unknownLane
    }

    /// How many commands wait in the queue (the handler stops reading the client while it is long).
    public private(set) var queuedCount = 0

    /// The lane a statement without a hint would run in now (nil is base).
    public var currentLaneName: String? {
        if let sessionLane { return routing.isBase(sessionLane) ? nil : sessionLane }
        return connectionLane?.name ?? removedConnectionLane
    }

    // MARK: - Handshake

    /// The backend's first frame: its greeting. Relay it with capabilities masked.
    public mutating func backendGreetingReceived(_ frame: MySQLFrame) -> Action {
        guard case .awaitingGreeting = state else { return unexpected("server greeting") }
        if frame.payload.getInteger(at: frame.payload.readerIndex, as: UInt8.self) == ERRPacket.header {
            state = .closed
            return .sendToClientAndClose(MySQLPacket(sequenceID: frame.sequenceID, payload: frame.payload))
        }
        do {
            let greeting = try HandshakeV10(payload: frame.payload)
            serverThreadID = greeting.connectionID
            clientThreadID = greeting.connectionID
            tracker.serverStatus = MySQLServerStatus(rawValue: greeting.statusFlags)
            let masked = try HandshakeV10.maskCapabilities(in: frame.payload, tls: settings.clientTLS)
            serverCapabilities = greeting.capabilities.masked(tls: false)
            state = .awaitingResponse(greeting: greeting, tlsDone: false)
            return .sendToClient(MySQLPacket(sequenceID: frame.sequenceID, payload: masked))
        } catch {
            return close(error)
        }
    }

    /// A logical packet from the client.
    public mutating func clientPacketReceived(_ packet: MySQLPacket) -> Action {
        switch state {
        case .awaitingResponse(let greeting, let tlsDone):
            return handshakeResponse(packet, greeting: greeting, tlsDone: tlsDone)
        case .awaitingSwitchedAuth(var response, let laneGreeting):
            // The client's answer to our AuthSwitchRequest is its auth data for the lane server's scramble.
            response.authResponse = packet.payload.getBytes(at: packet.payload.readerIndex, length: packet.payload.readableBytes) ?? []
            response.authPluginName = laneGreeting.authPluginName
            serverCapabilities = laneGreeting.capabilities.masked(tls: false)
            if !response.capabilities.contains(.pluginAuthLengthEncodedData) && response.authResponse.count > 250 {
                return close(MySQLWireError(.invalidValue, "auth response too long for the negotiated capabilities"))
            }
            tracker.deprecateEOF = clientCapabilities.contains(.deprecateEOF) && serverCapabilities.contains(.deprecateEOF)
            sequenceOffset = packet.sequenceID &- 1
            state = .authenticating
            return forwardResponse(response, backendSequenceID: 1)
        case .authenticating:
            return .sendToBackend(translatedToBackend(packet))
        case .command:
            lastClientSequenceID = packet.lastSequenceID
            if case .localInfileData = tracker.expectation {
                if packet.payload.readableBytes == 0 {
                    tracker.localInfileFinished()
                } else if capturesStatements, let statement = statementInFlight,
                    mirroredLanes.contains(statement.lane ?? routing.label.baseLane)
                {
                    let size = (localInfileCapture?.count ?? 0) + packet.payload.readableBytes
                    guard size <= localInfileCaptureLimit else {
                        // Part of the file already reached the server: only closing the connection keeps it from
                        // loading rows the mirror would miss (the server rolls the interrupted statement back).
                        localInfileCapture = nil
                        state = .closed
                        let err = ERRPacket.proxyRefusal(Self.localInfileLimitMessage(localInfileCaptureLimit))
                        return .sendToClientAndClose(MySQLPacket(sequenceID: packet.lastSequenceID &+ 1, payload: err.encode()))
                    }
                    if localInfileCapture == nil { localInfileCapture = [] }
                    localInfileCapture?.append(contentsOf: packet.payload.readableBytesView)
                }
                return .sendToBackend(packet)
            }
            if case .authentication = tracker.expectation { return .sendToBackend(packet) }
            guard tracker.isIdle, queued.isEmpty else {
                queued.append(packet)
                return .none
            }
            return command(packet)
        case .awaitingGreeting, .connectingLaneBackend:
            return unexpected("client packet before the handshake allows one")
        case .closed:
            return .none
        }
    }

    mutating func handshakeResponse(_ packet: MySQLPacket, greeting: HandshakeV10, tlsDone: Bool) -> Action {
        if !tlsDone, SSLRequest.isSSLRequest(packet.payload) {
            guard settings.clientTLS else { return unexpected("SSLRequest although TLS was not offered") }
            state = .awaitingResponse(greeting: greeting, tlsDone: true)
            sequenceOffset = 1
            return .startClientTLS
        }
        var response: HandshakeResponse41
        do { response = try HandshakeResponse41(payload: packet.payload) } catch { return close(error) }
        user = response.username
        handshakeCharset = ClientCharset(collation: UInt16(response.characterSet))
        clientCharset = handshakeCharset
        let errorSeq = packet.sequenceID &+ 1
        // Lane: connection attribute, then login user.
        if let label = response.attribute(routing.label.key) {
            switch resolver.resolve(label) {
            case .base: connectionLane = nil
            case .lane(let lane): connectionLane = lane
            case .unknown(let name):
                state = .closed
                let err = ERRPacket.proxyRefusal(resolver.unknownLaneMessage(name, source: "connection attribute '\(routing.label.key)'"))
                return .sendToClientAndClose(MySQLPacket(sequenceID: errorSeq, payload: err.encode()))
            }
        } else {
            connectionLane = routing.lane(forUser: response.username)
        }
        response.capabilities = response.capabilities.masked(tls: false)
        let requested = response.database.flatMap { $0.isEmpty ? nil : $0 }
        let selection = Self.selection(requested, lane: connectionLane)
        databases = [selection]
        currentDatabase = requested
        if requested != nil { response.database = selection.server }
        clientCapabilities = response.capabilities
        let target = routing.backend(for: settings.listener, lane: connectionLane)
        if target != settings.listener.backend {
            state = .connectingLaneBackend(response: response, responseSequenceID: packet.sequenceID)
            backend = target
            return .connectLaneBackend(target)
        }
        serverCapabilities = greeting.capabilities.masked(tls: false)
        tracker.deprecateEOF = clientCapabilities.contains(.deprecateEOF) && serverCapabilities.contains(.deprecateEOF)
        state = .authenticating
        return forwardResponse(response, backendSequenceID: packet.sequenceID &- sequenceOffset)
    }

    /// Sends the handshake response, preceded by an SSLRequest when the proxy speaks TLS to the server.
    mutating func forwardResponse(_ response: HandshakeResponse41, backendSequenceID: UInt8) -> Action {
        guard settings.backendTLS else {
            return .sendToBackend(MySQLPacket(sequenceID: backendSequenceID, payload: response.encode()))
        }
        var secured = response
        secured.capabilities.insert(.ssl)
        sequenceOffset &-= 1
        return .startBackendTLS(
            sslRequest: MySQLPacket(sequenceID: backendSequenceID, payload: SSLRequest.encode(from: secured)),
            response: MySQLPacket(sequenceID: backendSequenceID &+ 1, payload: secured.encode())
        )
    }

    /// The backend closed its side.
    public mutating func backendClosed() -> Action {
        switch state {
        case .closed:
            return .none
        case .command where !tracker.isIdle:
            state = .closed
            let err = ERRPacket(code: 1105, sqlState: "HY000", message: "shadowgate: lost connection to MySQL server at \(backend) during query")
            return .sendToClientAndClose(MySQLPacket(sequenceID: lastClientSequenceID &+ 1, payload: err.encode()))
        default:
            return close(MySQLWireError(.unexpectedPacket, "server \(backend) closed the connection"))
        }
    }

    /// The lane server's greeting: ask the client to authenticate again against its scramble.
    public mutating func laneBackendGreetingReceived(_ frame: MySQLFrame) -> Action {
        guard case .connectingLaneBackend(let response, let responseSeq) = state else { return unexpected("lane greeting") }
        do {
            let greeting = try HandshakeV10(payload: frame.payload)
            serverThreadID = greeting.connectionID
            tracker.serverStatus = MySQLServerStatus(rawValue: greeting.statusFlags)
            guard let plugin = greeting.authPluginName else {
                return close(MySQLWireError(.unexpectedPacket, "lane server greeting names no auth plugin"))
            }
            state = .awaitingSwitchedAuth(response: response, laneGreeting: greeting)
            let authSwitch = AuthSwitchRequest(pluginName: plugin, pluginData: greeting.authPluginData)
            return .switchToLaneBackend(authSwitch: MySQLPacket(sequenceID: responseSeq &+ 1, payload: authSwitch.encode()))
        } catch {
            return close(error)
        }
    }

    /// A backend could not be reached: tell the client which, then close.
    public mutating func backendUnreachable(_ endpoint: Endpoint, reason: String) -> Action {
        let seq: UInt8
        var beforeGreeting = false
        switch state {
        case .connectingLaneBackend(_, let responseSeq): seq = responseSeq &+ 1
        default: seq = 0; beforeGreeting = true
        }
        state = .closed
        let err = ERRPacket.backendUnreachable("shadowgate: cannot connect to MySQL server at \(endpoint) (\(reason))")
        return .sendToClientAndClose(MySQLPacket(sequenceID: seq, payload: err.encode(withSQLState: !beforeGreeting)))
    }

    // MARK: - Backend frames

    /// One frame from the current backend.
    public mutating func backendFrameReceived(_ frame: MySQLFrame) -> Action {
        switch state {
        case .awaitingGreeting:
            return backendGreetingReceived(frame)
        case .authenticating:
            let first = frame.payload.getInteger(at: frame.payload.readerIndex, as: UInt8.self)
            let translated = MySQLPacket(sequenceID: frame.sequenceID &+ sequenceOffset, payload: frame.payload)
            switch first {
            case 0x00:
                state = .command
                sequenceOffset = 0
                if let status = ResponseTracker.status(of: frame.payload) { tracker.serverStatus = status }
                return .sendToClient(translated)
            case ERRPacket.header:
                state = .closed
                return .sendToClientAndClose(translated)
            default:
                // Auth switch (0xFE) and more data (0x01, incl. caching_sha2 0x03/0x04): relay only.
                return .sendToClient(translated)
            }
        case .command:
            return commandResponseFrame(frame)
        case .closed:
            return .none
        case .awaitingResponse, .connectingLaneBackend, .awaitingSwitchedAuth:
            if frame.payload.getInteger(at: frame.payload.readerIndex, as: UInt8.self) == ERRPacket.header {
                state = .closed
                return .sendToClientAndClose(MySQLPacket(sequenceID: frame.sequenceID &+ sequenceOffset, payload: frame.payload))
            }
            return unexpected("server packet during the client's handshake")
        }
    }

    /// The bytes at the start of `received` (the server's raw frames, in order) that belong to the answer in flight
    /// and need no decision beyond following it (see ``ResponseTracker/answerRun(in:mayComplete:)``), to forward to
    /// the client as they are; 0 when the next frame needs ``backendFrameReceived(_:)``. Those frames count as
    /// received. The run includes the frame that completes the answer only when completing it needs nothing but its
    /// status: no dual-write capture, no prepare, reset or change of user pending. `completed` says it did; the
    /// handler then runs the queued commands.
    public mutating func backendAnswerRun(_ received: ByteBuffer) -> (length: Int, completed: Bool) {
        guard case .command = state, !tracker.isIdle else { return (0, false) }
        let mayComplete = !capturesStatements && statementInFlight == nil && pendingReset == nil && pendingPrepare == nil
        let run = tracker.answerRun(in: received, mayComplete: mayComplete)
        guard let completion = run.completion else { return (run.length, false) }
        answerCompleted(status: completion.status, error: completion.error)
        return (run.length, true)
    }

    /// What every completed answer updates, whether its end came in a run or frame by frame: the count the handler
    /// times round trips by, the transaction state from the final OK/EOF, and the database the command selected.
    /// (The tracker itself keeps the status flags of every OK/EOF, for NO_BACKSLASH_ESCAPES.)
    mutating func answerCompleted(status: MySQLServerStatus?, error: Bool) {
        completedAnswers &+= 1
        if let status { inTransaction = status.contains(.inTransaction) }
        if pendingDatabase != nil { databaseChangeCompleted(error: error) }
        if pendingANSIQuotesCleared {
            pendingANSIQuotesCleared = false
            if !error { ansiQuotesPossible = false }
        }
    }

    mutating func commandResponseFrame(_ frame: MySQLFrame) -> Action {
        if tracker.isIdle {
            // An unsolicited ERR (e.g. the server killed the connection): relay it and close.
            if frame.payload.getInteger(at: frame.payload.readerIndex, as: UInt8.self) == ERRPacket.header {
                state = .closed
                return .sendToClientAndClose(MySQLPacket(sequenceID: frame.sequenceID, payload: frame.payload))
            }
            return unexpected("server packet while no command was in flight")
        }
        let outcome: ResponseTracker.Outcome
        do { outcome = try tracker.frame(frame) } catch { return close(error) }
        switch outcome {
        case .continuing, .localInfileRequested:
            break
        case .prepared(let id, let parameterCount):
            if capturesStatements, let ok = try? StmtPrepareOK(payload: frame.payload) { preparedCapture.prepared(ok) }
            if var info = pendingPrepare {
                info.parameterCount = parameterCount
                prepared[id] = info
            }
            lastPreparedID = id
            lastPrepareRefused = false
            pendingPrepare = nil
        case .complete(let status, let error):
            answerCompleted(status: status, error: error)
            if let statement = statementInFlight {
                statementInFlight = nil
                let ok = error ? nil : (try? OKPacket(payload: frame.payload))
                completedStatement = StatementCompletion(
                    sql: statement.sql, lane: statement.lane, succeeded: !error, status: status, lastInsertID: ok?.lastInsertID,
                    parameters: statement.parameters, capturable: statement.capturable, localInfileData: localInfileCapture)
                localInfileCapture = nil
            }
            if let reset = pendingReset {
                pendingReset = nil
                if !error { applyReset(reset) }
            }
            pendingPrepare = nil
        }
        return .forwardToClient(frame)
    }

    mutating func applyReset(_ reset: PendingReset) {
        sessionLane = nil
        // Both start the session over with the server's global sql_mode.
        ansiQuotesPossible = false
        pendingANSIQuotesCleared = false
        prepared = [:]
        lastPreparedID = nil
        switch reset {
        case .resetConnection:
            clientCharset = handshakeCharset
        case .changeUser(let newUser, let attributeLane):
            user = newUser
            removedConnectionLane = nil
            if let attributeLane, case .lane(let lane) = resolver.resolve(attributeLane) {
                connectionLane = lane
            } else if attributeLane.map(routing.isBase) == true {
                connectionLane = nil
            } else {
                connectionLane = routing.lane(forUser: newUser)
            }
        }
    }

    /// After a complete answer: the next queued command, if any. Call until it returns `.none` or the
    /// machine is busy again.
    public mutating func nextQueuedCommand() -> Action {
        guard case .command = state, tracker.isIdle, !queued.isEmpty else { return .none }
        let packet = queued.removeFirst()
        return command(packet)
    }

    /// The proxy is shutting down: returns true to close now (idle outside a transaction, or still in the
    /// handshake); otherwise the handler closes once ``isIdleOutsideTransaction`` holds after an answer.
    public mutating func quiesce() -> Bool {
        quiescing = true
        return isIdleOutsideTransaction || { if case .command = state { return false }; return true }()
    }

    /// The shutdown deadline passed. A connection waiting between commands is told why (ERR 1053
    /// ER_SERVER_SHUTDOWN, as a server does) and closed; one with an answer in flight is just closed.
    public mutating func shutdownDeadline() -> Action {
        let idle = isIdle
        state = .closed
        guard idle else { return .closeConnection(MySQLWireError(.unexpectedPacket, "shutdown deadline with a command in flight")) }
        let err = ERRPacket(code: 1053, sqlState: "08S01", message: "Server shutdown in progress")
        return .sendToClientAndClose(MySQLPacket(sequenceID: 0, payload: err.encode()))
    }

    /// The client sent a logical packet larger than the proxy accepts: answer like the server does for a packet
    /// over max_allowed_packet (ER_NET_PACKET_TOO_LARGE), then close.
    public mutating func clientPacketTooLarge(sequenceID: UInt8, limit: Int) -> Action {
        state = .closed
        let err = ERRPacket(code: 1153, sqlState: "08S01", message: "shadowgate: got a packet bigger than the proxy's maximum message size (\(limit) bytes)")
        return .sendToClientAndClose(MySQLPacket(sequenceID: sequenceID &+ 1, payload: err.encode()))
    }

    // MARK: - Helpers

    func translatedToBackend(_ packet: MySQLPacket) -> MySQLPacket {
        MySQLPacket(sequenceID: packet.sequenceID &- sequenceOffset, lastSequenceID: packet.lastSequenceID &- sequenceOffset, payload: packet.payload)
    }

    mutating func unexpected(_ what: String) -> Action {
        close(MySQLWireError(.unexpectedPacket, "unexpected \(what)"))
    }

    mutating func close(_ error: any Error) -> Action {
        state = .closed
        if let wire = error as? MySQLWireError { return .closeConnection(wire) }
        return .closeConnection(MySQLWireError(.invalidValue, "\(error)"))
    }
}
