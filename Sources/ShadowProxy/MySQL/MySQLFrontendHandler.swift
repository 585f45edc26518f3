import Logging
import MySQLWire
import NIOCore
import NIOPosix
import NIOSSL
import ReplayLog
import ShadowConfig

/// The client side of one proxied connection. Thin: it decodes frames, feeds the session state machine and
/// executes the actions it returns; the backend channel lives on the same event loop and calls back into it.
final class MySQLFrontendHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let settings: MySQLConnectionSettings
    var machine: MySQLSessionStateMachine
    var logger: Logger
    private var context: ChannelHandlerContext?
    private var inbound = ByteBuffer()
    private var decoder = MySQLFrameDecoder()
    private var assembler: MySQLPacketAssembler
    private var backend: (any Channel)?
    private var laneBackend: (any Channel)?
    /// The backend handlers' contexts, where writes to the server start: from there a write goes straight to the
    /// handlers nearer the socket (TLS when configured, then the head) instead of entering the pipeline at its tail
    /// through the `Channel` existential. Set and cleared with `backend` and `laneBackend`.
    private var backendOutbound: ChannelHandlerContext?
    private var laneBackendOutbound: ChannelHandlerContext?
    private var handshakeTimeout: Scheduled<Void>?
    private var closing = false
    private var clientNeedsFlush = false
    private var backendNeedsFlush = false
    /// Small packets relayed between two flushes, gathered into one write per direction.
    private var toClient = OutboundCoalescer()
    private var toBackend = OutboundCoalescer()
    /// Bytes relayed to the client since the last flush, reported to metrics once per flush rather than per packet.
    private var unreportedBytesOut = 0
    private var readingPaused = false
    private var backendWritable = true
    /// Dual-write capture; nil when nothing of this listener is mirrored.
    private var capture: ConnectionCapture?
    /// When the command in flight went to the server (MySQL replays it with this `TIMESTAMP`).
    private var commandSentMicros: Int64 = 0
    /// A sync dual-write holds the client's OK until the record is durable; nothing else moves meanwhile.
    private var holdingForReplayLog = false
    private let baseLane: String
    /// Operations bookkeeping (registry, metrics, logs; see MySQLFrontendHandler+Operations.swift).
    var observer: ConnectionObserver
    var operations = MySQLOperationsState()

    /// Stop reading the client when this many commands wait behind the one in flight.
    private static let maxQueuedCommands = 32
    /// Bytes a client may send while its OK is held for the replay log before the proxy stops reading it.
    private static let maxHeldInbound = 64 << 10

    init(settings: MySQLConnectionSettings) {
        let routing = settings.routing.current
        self.settings = settings
        self.machine = MySQLSessionStateMachine(
            settings: .init(listener: settings.listener, clientTLS: settings.clientTLS != nil, backendTLS: settings.backendTLS != nil),
            routing: routing
        )
        self.logger = settings.logger
        self.assembler = MySQLPacketAssembler(maxSize: settings.listener.maxMessageSize)
        self.baseLane = routing.label.baseLane
        self.capture = ConnectionCapture(service: settings.dualWrite, listener: settings.listener.name, dialect: .mysql)
        self.machine.capturesStatements = capture != nil
        self.machine.mirroredLanes = capture?.mirroredLanes ?? []
        if let capture { self.machine.localInfileCaptureLimit = capture.maxCopyBytes }
        self.observer = ConnectionObserver(environment: .init(
            listener: settings.listener.name, wireProtocol: "mysql", logName: "mysql", dialect: .mysql,
            routing: settings.routing, connections: settings.connections, statistics: settings.statistics),
            logLevel: settings.logger.logLevel)
        let threads = settings.threads
        self.machine.knownThreads = { threads.threads(knownAs: $0) }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// The context holds this handler: keeping it after removal is a cycle that outlives the connection.
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        logger[metadataKey: "client"] = "\(context.remoteAddress.map { "\($0)" } ?? "?")"
        logger[metadataKey: "listener"] = "\(settings.listener.name)"
        observer.opened(client: context.remoteAddress.map { "\($0)" } ?? "?", lane: baseLane, eventLoop: context.eventLoop)
        let timeout = TimeAmount.milliseconds(Int64(settings.listener.handshakeTimeoutSeconds * 1000))
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        handshakeTimeout = context.eventLoop.scheduleTask(in: timeout) {
            let handler = loopBound.value
            guard !handler.machine.isAuthenticated else { return }
            handler.logger.debug("handshake timeout")
            handler.closeAll(reason: "handshake timeout")
        }
        connectBackend(settings.listener.backend, context: context, isLane: false)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshakeTimeout?.cancel()
        closeAll(reason: "client closed")
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let received = unwrapInboundIn(data)
        observer.bytesIn(received.readableBytes)
        inbound.appendKeepingSlices(received)
        if holdingForReplayLog { updateClientReading() }
        processInbound(context: context)
    }

    private func processInbound(context: ChannelHandlerContext) {
        do {
            while !closing, !holdingForReplayLog, let frame = try decoder.decode(buffer: &inbound) {
                let assembled: MySQLPacket?
                do {
                    assembled = try assembler.push(frame)
                } catch let error as MySQLWireError where error.code == .packetTooLarge {
                    run(machine.clientPacketTooLarge(sequenceID: frame.sequenceID, limit: settings.listener.maxMessageSize))
                    return
                }
                guard let packet = assembled else { continue }
                followRoutingReload()
                let action = machine.clientPacketReceived(packet)
                if case .startClientTLS = action {
                    startClientTLS(context: context)
                    return
                }
                run(action)
                observeStatement()
            }
            inbound.compactAfterDecoding()
            // Refuse a frame as soon as its header announces more than the limit, instead of buffering up to
            // 16 MiB of it first.
            if let announced = inbound.getInteger(at: inbound.readerIndex, endianness: .little, as: UInt16.self)
                .flatMap({ low in inbound.getInteger(at: inbound.readerIndex + 2, as: UInt8.self).map { Int(low) | Int($0) << 16 } }),
                announced > assembler.maxSize
            {
                throw MySQLWireError(.packetTooLarge, "frame of \(announced) bytes exceeds \(assembler.maxSize)")
            }
            if inbound.readableBytes > MySQLFrame.maxPayloadLength + 4 {
                throw MySQLWireError(.packetTooLarge, "frame larger than 16 MiB")
            }
        } catch {
            logger.debug("client protocol error", metadata: ["error": "\(error)"])
            closeAll(reason: "client protocol error")
        }
        updateClientReading()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushAll()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // Backpressure: stop reading the server while the client cannot take more.
        backend?.setOption(.autoRead, value: context.channel.isWritable).whenComplete { _ in }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is MySQLQuiesceEvent {
            if machine.quiesce() { closeAll(reason: "shutdown (idle)") }
            return
        }
        if event is MySQLShutdownDeadlineEvent {
            guard !closing else { return }
            run(machine.shutdownDeadline(), reason: "shutdown deadline")
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("client channel error", metadata: ["error": "\(error)"])
        closeAll(reason: "client connection error")
    }

    // MARK: - Backend events (called on the same event loop)

    func backendFrame(_ frame: MySQLFrame, from channel: any Channel) {
        guard !closing else { return }
        if let laneBackend, channel === laneBackend {
            run(machine.laneBackendGreetingReceived(frame))
            return
        }
        guard let backend, channel === backend else { return }
        let wasCommandPhase = machine.isCommandPhase
        let action = machine.backendFrameReceived(frame)
        observeBackend(wasCommandPhase: wasCommandPhase)
        if !wasCommandPhase, machine.isCommandPhase, let timeout = handshakeTimeout {
            // A pending timer makes every event-loop turn read the clock and check the timer heap: drop it as
            // soon as the login is through rather than let it fire for nothing seconds later.
            timeout.cancel()
            handshakeTimeout = nil
        }
        if capture != nil, let completion = machine.takeStatementCompletion(), holdForReplayLog(completion, then: action) {
            return
        }
        run(action)
        drainQueue()
    }

    /// Takes the run of frames at the start of `received` that only need following (a result set's header,
    /// definitions and rows, and usually the frame that ends the answer) and queues it for the client as one slice;
    /// what needs a decision goes to ``backendFrame(_:from:)`` frame by frame.
    func backendAnswerRun(_ received: inout ByteBuffer, from channel: any Channel) {
        guard !closing, let backend, channel === backend else { return }
        let run = machine.backendAnswerRun(received)
        guard run.length > 0, let bytes = received.readSlice(length: run.length) else { return }
        unreportedBytesOut += run.length
        queue(bytes, to: .client)
        clientNeedsFlush = true
        guard run.completed else { return }
        observeBackend(wasCommandPhase: true)
        drainQueue()
    }

    static func replayValue(_ value: MySQLStatementCapture.Value) -> ReplayValue {
        switch value {
        case .null: .null
        case .int(let v): .int64(v)
        case .unsigned(let v): v <= UInt64(Int64.max) ? .int64(Int64(v)) : .text(String(v))
        case .double(let v): .double(v)
        case .text(let v): .text(v)
        case .bytes(let v): .bytes(v)
        }
    }

    /// Feeds dual-write capture; appends finished records. Returns true when a sync stream holds `action` (the
    /// client's OK) until the append completes; it then runs on this event loop and the connection moves on.
    private func holdForReplayLog(_ completion: MySQLSessionStateMachine.StatementCompletion, then action: MySQLSessionStateMachine.Action) -> Bool {
        guard var capture, let eventLoop = context?.eventLoop else { return false }
        var outcome = ConnectionCapture.Outcome(
            sql: completion.sql, lane: completion.lane ?? baseLane, succeeded: completion.succeeded,
            inTransaction: completion.status.map { $0.contains(.inTransaction) },
            parameters: completion.localInfileData.map { [.bytes($0)] } ?? completion.parameters?.map(Self.replayValue),
            insertID: completion.lastInsertID, timestampMicros: commandSentMicros)
        outcome.capturable = completion.capturable
        let pending = capture.statementFinished(outcome, nowMicros: DualWriteClock.nowMicros())
        self.capture = capture
        guard !pending.isEmpty else { return false }
        let waits = pending.filter { $0.stream.isSync }
        for item in pending where !item.stream.isSync { item.stream.append(item.record) { _ in } }
        guard !waits.isEmpty else { return false }
        holdingForReplayLog = true
        updateClientReading()
        let futures = waits.map { $0.stream.append($0.record, on: eventLoop) }
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        EventLoopFuture<DualWriteStream.AppendOutcome>.whenAllComplete(futures, on: eventLoop).whenComplete { results in
            let handler = loopBound.value
            if case .success(let outcomes) = results {
                for case .success(.mirroringStopped(let reason)) in outcomes {
                    handler.logger.debug("dual-write stopped; acknowledging without the mirror", metadata: ["reason": "\(reason)"])
                }
            }
            handler.holdingForReplayLog = false
            guard !handler.closing else { return }
            handler.updateClientReading()
            handler.run(action)
            handler.flushAll()
            handler.drainQueue()
            if let context = handler.context { handler.processInbound(context: context) }
            handler.flushAll()
        }
        return true
    }

    func backendReadComplete() {
        flushAll()
    }

    func backendWritabilityChanged(_ channel: any Channel) {
        backendWritable = channel.isWritable
        applyClientAutoRead()
    }

    func backendClosed(_ channel: any Channel) {
        guard !closing else { return }
        if let laneBackend, channel === laneBackend { return closeAll(reason: "lane server closed") }
        guard let backend, channel === backend else { return }
        run(machine.backendClosed(), reason: "server closed")
    }

    func backendProtocolError(_ error: any Error) {
        logger.debug("backend protocol error", metadata: ["error": "\(error)"])
        closeAll(reason: "server protocol error")
    }

    // MARK: - Actions

    private func run(_ action: MySQLSessionStateMachine.Action, reason: String = "closed") {
        switch action {
        case .none:
            break
        case .sendToClient(let packet):
            writeClient(packet)
        case .forwardToClient(let frame):
            unreportedBytesOut += frame.wire?.readableBytes ?? frame.payload.readableBytes + 4
            writeFrame(frame, to: .client)
            clientNeedsFlush = true
        case .sendToBackend(let packet):
            if capture != nil { commandSentMicros = DualWriteClock.nowMicros() }
            writePacket(packet, to: .backend)
            backendNeedsFlush = true
        case .startBackendTLS(let sslRequest, let response):
            guard let backend, let tls = settings.backendTLS else { return closeAll() }
            writePacket(sslRequest, to: .backend)
            drain(.backend)
            backendOutbound?.flush()
            do {
                let handler = try NIOSSLClientHandler(context: tls, serverHostname: nil)
                try backend.pipeline.syncOperations.addHandler(handler, position: .first)
            } catch {
                logger.warning("backend TLS failed", metadata: ["error": "\(error)"])
                return closeAll()
            }
            writePacket(response, to: .backend)
            backendNeedsFlush = true
        case .startClientTLS:
            break // handled in processInbound, where the bytes after the SSLRequest are at hand
        case .connectLaneBackend(let endpoint):
            if let context { connectBackend(endpoint, context: context, isLane: true) }
        case .switchToLaneBackend(let authSwitch):
            drain(.backend)
            let old = backend
            backend = laneBackend
            backendOutbound = laneBackendOutbound
            laneBackend = nil
            laneBackendOutbound = nil
            old?.close(promise: nil)
            writeClient(authSwitch)
        case .sendToClientAndClose(let packet):
            writeClient(packet)
            flushAll()
            closeAll(reason: reason == "closed" ? Self.closeReason(packet) : reason)
        case .sendToBackendAndClose(let packet):
            writePacket(packet, to: .backend)
            flushAll()
            closeAll(reason: "client quit")
        case .closeConnection(let error):
            logger.debug("closing connection", metadata: ["error": "\(error)"])
            closeAll(reason: reason == "closed" ? "protocol error: \(error)" : reason)
        }
    }

    private func drainQueue() {
        while !closing {
            let action = machine.nextQueuedCommand()
            if case .none = action { break }
            run(action)
            observeStatement()
        }
        if machine.quiescing && machine.isIdleOutsideTransaction { closeAll(reason: "shutdown (drained)") }
        updateClientReading()
    }

    private func updateClientReading() {
        // While a sync dual-write holds an OK the client stays readable until what it sent meanwhile reaches
        // `maxHeldInbound` (nothing is processed until the hold ends): a client waiting for its OK sends nothing,
        // and pausing at every held OK cost two epoll_ctl calls per commit.
        let shouldPause =
            machine.queuedCount >= Self.maxQueuedCommands
            || (holdingForReplayLog && inbound.readableBytes >= Self.maxHeldInbound)
        if shouldPause != readingPaused {
            readingPaused = shouldPause
            applyClientAutoRead()
        }
    }

    /// The client is read only while the server can take more and few commands wait.
    private func applyClientAutoRead() {
        context?.channel.setOption(.autoRead, value: backendWritable && !readingPaused).whenComplete { _ in }
    }

    private func writeClient(_ packet: MySQLPacket) {
        unreportedBytesOut += packet.wire?.readableBytes ?? packet.payload.readableBytes + 4
        writePacket(packet, to: .client)
        clientNeedsFlush = true
    }

    /// The two directions a packet can go.
    private enum Side { case client, backend }

    /// The context a side's writes start from: this handler's own for the client, the backend handler's for the
    /// server (TLS handlers sit nearer the socket on both channels, so they see every write).
    private func outbound(_ side: Side) -> ChannelHandlerContext? {
        switch side {
        case .client: context
        case .backend: backendOutbound
        }
    }

    private func writePacket(_ packet: MySQLPacket, to side: Side) {
        if let wire = packet.wire { return queue(wire, to: side) }
        if packet.payload.readableBytes < MySQLFrame.maxPayloadLength {
            return writeFrame(MySQLFrame(sequenceID: packet.sequenceID, payload: packet.payload), to: side)
        }
        for frame in packet.frames() { writeFrame(frame, to: side) }
    }

    /// A small frame is built in the gathered buffer (header and payload, one copy); a large payload slice goes out
    /// as received, never copied, behind its own header.
    private func writeFrame(_ frame: MySQLFrame, to side: Side) {
        if let wire = frame.wire { return queue(wire, to: side) }
        guard let out = outbound(side) else { return }
        let payload = frame.payload
        if payload.readableBytes <= OutboundCoalescer.copyLimit {
            withCoalescer(side) {
                $0.append(capacity: payload.readableBytes + 4, allocator: out.channel.allocator, to: { out.write(NIOAny($0), promise: nil) }) {
                    MySQLFrame.writeHeader(length: payload.readableBytes, sequenceID: frame.sequenceID, into: &$0)
                    $0.writeImmutableBuffer(payload)
                }
            }
            return
        }
        drain(side)
        var header = out.channel.allocator.buffer(capacity: 4)
        MySQLFrame.writeHeader(length: payload.readableBytes, sequenceID: frame.sequenceID, into: &header)
        out.write(NIOAny(header), promise: nil)
        out.write(NIOAny(payload), promise: nil)
    }

    private func queue(_ bytes: ByteBuffer, to side: Side) {
        guard let out = outbound(side) else { return }
        withCoalescer(side) { $0.write(bytes, allocator: out.channel.allocator) { out.write(NIOAny($0), promise: nil) } }
    }

    /// Writes out what is gathered for `side` (before its flush, or before a write that bypasses the coalescer).
    private func drain(_ side: Side) {
        guard let out = outbound(side) else { return }
        withCoalescer(side) { $0.drain { out.write(NIOAny($0), promise: nil) } }
    }

    private func withCoalescer(_ side: Side, _ body: (inout OutboundCoalescer) -> Void) {
        switch side {
        case .client: body(&toClient)
        case .backend: body(&toBackend)
        }
    }

    private func flushAll() {
        if clientNeedsFlush {
            clientNeedsFlush = false
            drain(.client)
            if unreportedBytesOut > 0 {
                observer.bytesOut(unreportedBytesOut)
                unreportedBytesOut = 0
            }
            context?.flush()
        }
        if backendNeedsFlush {
            backendNeedsFlush = false
            drain(.backend)
            backendOutbound?.flush()
        }
    }

    func closeAll(reason: String = "closed") {
        guard !closing else { return }
        closing = true
        connectionClosed(reason: reason)
        handshakeTimeout?.cancel()
        flushAll()
        backend?.close(promise: nil)
        laneBackend?.close(promise: nil)
        backend = nil
        laneBackend = nil
        backendOutbound = nil
        laneBackendOutbound = nil
        context?.close(promise: nil)
    }

    // MARK: - Connections and TLS

    private func connectBackend(_ endpoint: Endpoint, context: ChannelHandlerContext, isLane: Bool) {
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let timeout = TimeAmount.milliseconds(Int64(settings.listener.connectTimeoutSeconds * 1000))
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(timeout)
            .relayOptions()
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = loopBound.value
                    let backendHandler = MySQLBackendHandler(frontend: handler)
                    try channel.pipeline.syncOperations.addHandler(backendHandler)
                    let outbound = try channel.pipeline.syncOperations.context(handler: backendHandler)
                    // Known before the first byte can arrive, so the greeting is never read by an unknown channel.
                    if isLane {
                        handler.laneBackend = channel
                        handler.laneBackendOutbound = outbound
                    } else {
                        handler.backend = channel
                        handler.backendOutbound = outbound
                    }
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .whenComplete { result in
                let handler = loopBound.value
                switch result {
                case .success(let channel):
                    if handler.closing { channel.close(promise: nil) }
                case .failure(let error):
                    guard !handler.closing else { return }
                    ProxyMetrics.recordBackendConnectError(listener: handler.settings.listener.name, backend: "\(endpoint)")
                    handler.logger.warning("backend unreachable", metadata: ["backend": "\(endpoint)", "error": "\(error)"])
                    handler.run(handler.machine.backendUnreachable(endpoint, reason: "\(error)"))
                }
            }
    }

    private func startClientTLS(context: ChannelHandlerContext) {
        guard let tls = settings.clientTLS else { return closeAll() }
        let leftover = inbound
        inbound = ByteBuffer()
        do {
            try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls), position: .first)
        } catch {
            logger.warning("client TLS failed", metadata: ["error": "\(error)"])
            return closeAll()
        }
        if leftover.readableBytes > 0 {
            context.pipeline.syncOperations.fireChannelRead(NIOAny(leftover))
        }
    }
}

extension MySQLSessionStateMachine {
    /// Whether the handshake finished (the handshake timeout no longer applies).
    var isAuthenticated: Bool { isCommandPhase }
}
