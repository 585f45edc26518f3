import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresWire
import ShadowConfig
import ShadowSQL

/// The client side of one proxied PostgreSQL connection. It decodes client packets, asks the session state machine
/// what to do, and executes the answer: relay bytes, start TLS, connect the backend, issue cancel keys, close.
/// All protocol decisions live in ``PostgresSessionStateMachine``.
final class PostgresFrontendHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Everything a connection needs from its listener.
    struct Environment: Sendable {
        var listener: ListenerConfiguration
        var serverTLS: NIOSSLContext?
        var backendTLS: NIOSSLContext?
        var cancelRegistry: PostgresCancelRegistry
        var logger: Logger
        var routing: RoutingSource
        var connections: ConnectionRegistry
        var statistics: LaneStatistics
        var dualWrite: DualWriteService? = nil
    }

    private var machine: PostgresSessionStateMachine
    private let environment: Environment
    private var logger: Logger
    private var startupProcessor: NIOSingleStepByteToMessageProcessor<PostgresStartupDecoder>? =
        NIOSingleStepByteToMessageProcessor(PostgresStartupDecoder(), maximumBufferSize: PostgresStartupDecoder.maximumLength)
    private var frameReader: PostgresFrameReader?
    private var context: ChannelHandlerContext?
    private var backendChannel: (any Channel)?
    /// The backend handler's context, where relayed writes to the server start: from there a write goes straight to
    /// the handlers nearer the socket (TLS when configured, then the head) instead of entering the pipeline at its
    /// tail through the `Channel` existential. Set and cleared with `backendChannel`.
    private var backendOutbound: ChannelHandlerContext?
    private var backendHandler: PostgresBackendHandler?
    private var pendingStartup: ByteBuffer?
    private var toBackendBeforeConnect: [ByteBuffer] = []
    private var firstBytesSeen = false
    private var pendingRead = false
    private var handshakeTimeout: Scheduled<Void>?
    private var issuedKey: (processID: Int32, secretKey: Int32)?
    private var draining = false
    private var closed = false
    /// Whether the server's last message was an ErrorResponse (it already told the client why it is closing).
    private var backendLastSentError = false
    /// Operations bookkeeping (registry, metrics, logs); never consulted for protocol decisions.
    private var observer: PostgresConnectionObserver
    /// Dual-write capture; nil when nothing of this listener is mirrored.
    private var capture: ConnectionCapture?
    /// Sync dual-write: each hold gates the client writes queued behind it (starting with its ReadyForQuery) until
    /// its records are durable; holds release in order.
    private var holds: [(id: Int, done: Bool, writes: [ByteBuffer])] = []
    private var nextHoldID = 0
    /// Small messages relayed between two flushes, gathered into one write per direction.
    private var toClient = OutboundCoalescer()
    private var toBackend = OutboundCoalescer()
    /// Bytes relayed to the client since the last flush, reported to metrics once per flush rather than per message.
    private var unreportedBytesOut = 0

    init(machine: PostgresSessionStateMachine, environment: Environment) {
        self.machine = machine
        self.environment = environment
        self.logger = environment.logger
        self.observer = PostgresConnectionObserver(environment: environment)
        self.capture = ConnectionCapture(service: environment.dualWrite, listener: environment.listener.name, dialect: .postgres)
        if let capture {
            var statementCapture = PostgresStatementCapture()
            statementCapture.copyLimit = capture.maxCopyBytes
            self.machine.capture = statementCapture
            self.machine.mirroredLanes = capture.mirroredLanes
        }
    }

    // MARK: channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let remote = context.channel.remoteAddress { logger[metadataKey: "client"] = "\(remote)" }
        logger[metadataKey: "listener"] = "\(environment.listener.name)"
        observer.opened(client: context.channel.remoteAddress.map { "\($0)" } ?? "?", lane: machine.connectionLane, eventLoop: context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelActive(context: ChannelHandlerContext) {
        let seconds = environment.listener.handshakeTimeoutSeconds
        handshakeTimeout = context.eventLoop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) { [self] in
            self.failClient(sqlState: "08006", message: "handshake not completed within \(seconds) seconds")
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        observer.bytesIn(buffer.readableBytes)
        if !firstBytesSeen {
            firstBytesSeen = true
            // PostgreSQL 17 direct TLS (sslnegotiation=direct): a TLS ClientHello instead of SSLRequest.
            if buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) == 0x16, let tls = environment.serverTLS {
                do {
                    try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls), position: .first)
                    context.pipeline.syncOperations.fireChannelRead(NIOAny(buffer))
                } catch {
                    close()
                }
                return
            }
        }
        do {
            if let startupProcessor {
                try startupProcessor.process(buffer: buffer) { packet in
                    self.startupPacket(packet, leftover: startupProcessor.unprocessedBytes)
                }
            } else if let frameReader {
                try frameReader.process(buffer) { frame in
                    self.clientFrame(frame)
                }
            }
        } catch let error as PostgresWireError {
            failClient(sqlState: "08P01", message: error.message)
        } catch {
            failClient(sqlState: "08P01", message: "invalid message from client: \(error)")
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushToBackend()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        close(reason: "client closed")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("client connection error", metadata: ["error": "\(error)"])
        close(reason: "client connection error")
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is PostgresDrainEvent {
            draining = true
            if machine.isIdleOutsideTransaction || backendChannel == nil { close(reason: "shutdown (idle)") }
            return
        }
        if event is PostgresShutdownDeadlineEvent {
            failClient(
                sqlState: "57P01", message: "terminating connection: the proxy is shutting down",
                reason: "shutdown deadline")
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { backendHandler?.clientBecameWritable() }
        context.fireChannelWritabilityChanged()
    }

    /// Withholds reads from the client while the server cannot take more (backpressure).
    func read(context: ChannelHandlerContext) {
        if let backendChannel, !backendChannel.isWritable {
            pendingRead = true
        } else {
            context.read()
        }
    }

    /// False while a sync dual-write holds the client's answers, so the server's are not buffered without bound.
    var clientIsWritable: Bool { holds.isEmpty && (context?.channel.isWritable ?? false) }

    func backendBecameWritable() {
        if pendingRead, let context {
            pendingRead = false
            context.read()
        }
    }

    // MARK: startup

    private func startupPacket(_ packet: PostgresStartupPacket, leftover: Int) {
        startupProcessor = nil
        if case .startup(let startup) = packet { observer.startup(startup) }
        switch machine.startupPacketReceived(packet) {
        case .reply(let bytes):
            guard leftover == 0 else {
                return failClient(sqlState: "08P01", message: "unexpected data after SSL/GSS encryption request")
            }
            startupProcessor = NIOSingleStepByteToMessageProcessor(
                PostgresStartupDecoder(), maximumBufferSize: PostgresStartupDecoder.maximumLength)
            context?.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
        case .startTLS:
            guard leftover == 0, let context, let tls = environment.serverTLS else {
                return failClient(sqlState: "08P01", message: "received unencrypted data after SSL request")
            }
            context.writeAndFlush(wrapOutboundOut(PostgresMessageEncoder.singleByte(UInt8(ascii: "S"))), promise: nil)
            do {
                try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls), position: .first)
            } catch {
                return close()
            }
            startupProcessor = NIOSingleStepByteToMessageProcessor(
                PostgresStartupDecoder(), maximumBufferSize: PostgresStartupDecoder.maximumLength)
        case .cancel(let pid, let key):
            forwardCancel(processID: pid, secretKey: key)
            close(reason: "cancel request")
        case .reject(let error):
            context?.writeAndFlush(wrapOutboundOut(error), promise: nil)
            close(reason: "rejected at startup")
        case .connect(let backend, let startup, let preamble):
            guard leftover == 0 else {
                return failClient(sqlState: "08P01", message: "unexpected data after startup packet")
            }
            frameReader = PostgresFrameReader(maximumMessageSize: environment.listener.maxMessageSize)
            if let preamble { context?.writeAndFlush(wrapOutboundOut(preamble), promise: nil) }
            logger[metadataKey: "lane"] = "\(machine.connectionLane)"
            observer.routed(lane: machine.connectionLane, backend: backend, logger: logger)
            connectBackend(backend, startup: startup)
        }
    }

    private func connectBackend(_ endpoint: Endpoint, startup: ByteBuffer) {
        guard let context else { return }
        let handler = PostgresBackendHandler(frontend: self, maximumMessageSize: environment.listener.maxMessageSize)
        backendHandler = handler
        pendingStartup = startup
        let timeout = TimeAmount.milliseconds(Int64(environment.listener.connectTimeoutSeconds * 1000))
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(timeout)
            .relayOptions()
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    self.backendConnected(channel)
                case .failure(let error):
                    ProxyMetrics.recordBackendConnectError(
                        listener: self.environment.listener.name, backend: "\(endpoint)")
                    self.failClient(
                        sqlState: "08006",
                        message: "could not connect to backend server \(endpoint): \(error)")
                }
            }
    }

    private func backendConnected(_ channel: any Channel) {
        guard !closed else {
            channel.close(promise: nil)
            return
        }
        backendChannel = channel
        guard let backendHandler, let outbound = try? channel.pipeline.syncOperations.context(handler: backendHandler) else {
            channel.close(promise: nil)
            return failClient(sqlState: "08006", message: "backend connection to \(machine.backend) lost its handler")
        }
        backendOutbound = outbound
        if environment.listener.backendTLS {
            backendHandler.awaitingSSLResponse = true
            channel.writeAndFlush(PostgresMessageEncoder.sslRequest(), promise: nil)
        } else {
            sendStartup()
        }
    }

    func backendSSLResponse(_ byte: UInt8, extraBytes: Int) {
        guard byte == UInt8(ascii: "S"), extraBytes == 0, let channel = backendChannel,
            let tls = environment.backendTLS
        else {
            return failClient(
                sqlState: "08006",
                message: "backend server \(machine.backend) refused TLS (backend_tls is on for this listener)")
        }
        do {
            try channel.pipeline.syncOperations.addHandler(
                NIOSSLClientHandler(context: tls, serverHostname: nil), position: .first)
        } catch {
            return failClient(sqlState: "08006", message: "TLS to backend server \(machine.backend) failed: \(error)")
        }
        sendStartup()
    }

    private func sendStartup() {
        guard let channel = backendChannel, let startup = pendingStartup else { return }
        pendingStartup = nil
        channel.write(startup, promise: nil)
        for buffer in toBackendBeforeConnect { channel.write(buffer, promise: nil) }
        toBackendBeforeConnect = []
        channel.flush()
    }

    private func forwardCancel(processID: Int32, secretKey: Int32) {
        guard let target = environment.cancelRegistry.target(processID: processID, secretKey: secretKey),
            let context
        else {
            logger.debug("cancel request with an unknown key ignored")
            return
        }
        let request = PostgresMessageEncoder.cancelRequest(processID: target.processID, secretKey: target.secretKey)
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(.milliseconds(Int64(environment.listener.connectTimeoutSeconds * 1000)))
            .connect(host: target.backend.host, port: target.backend.port)
            .whenSuccess { channel in
                channel.writeAndFlush(request).whenComplete { _ in channel.close(promise: nil) }
            }
    }

    // MARK: client → server

    private func clientFrame(_ frame: PostgresFrame) {
        if observer.routingChanged(frame.id) { machine.useRouting(environment.routing.current) }
        let action = machine.frontendFrameReceived(frame)
        if let event = machine.lastStatement { observer.statement(event, logger: logger) }
        observer.frameSent(frame.id)
        switch action {
        case .forward:
            sendToBackend(frame.bytes)
        case .send(let bytes):
            sendToBackend(bytes)
        case .discard:
            break
        case .forwardAndClose:
            sendToBackend(frame.bytes)
            flushToBackend()
            close(reason: "client terminated")
        case .protocolViolation(let error):
            failClient(sqlState: "08P01", message: error.message, reason: "client protocol violation")
        }
    }

    private func sendToBackend(_ bytes: ByteBuffer) {
        if let backendOutbound, pendingStartup == nil {
            toBackend.write(bytes, allocator: backendOutbound.channel.allocator) {
                backendOutbound.write(NIOAny($0), promise: nil)
            }
        } else {
            toBackendBeforeConnect.append(bytes)
        }
    }

    private func flushToBackend() {
        guard let backendOutbound else { return }
        toBackend.drain { backendOutbound.write(NIOAny($0), promise: nil) }
        backendOutbound.flush()
    }

    // MARK: server → client

    /// Takes the run of DataRow messages at the start of `received`, if any, and relays it as one slice.
    func backendDataRows(_ received: inout ByteBuffer) {
        guard context != nil, !closed else { return }
        let count = machine.backendDataRowRun(received, maximumMessageSize: environment.listener.maxMessageSize)
        guard count > 0, let rows = received.readSlice(length: count) else { return }
        backendLastSentError = false
        unreportedBytesOut += count
        writeToClient(rows)
    }

    func backendFrameReceived(_ frame: PostgresFrame) {
        guard context != nil, !closed else { return }
        backendLastSentError = frame.id == UInt8(ascii: "E")
        let action = machine.backendFrameReceived(frame)
        if capture != nil, let batch = machine.takeCapturedBatch(), case .forward = action, holdForReplayLog(batch, readyForQuery: frame.bytes) {
            return
        }
        switch action {
        case .forward:
            unreportedBytesOut += frame.bytes.readableBytes
            writeToClient(frame.bytes)
        case .replace(let bytes):
            unreportedBytesOut += bytes.readableBytes
            writeToClient(bytes)
        case .issueCancelKey(let pid, let key):
            let issued = environment.cancelRegistry.register(
                .init(backend: machine.backend, processID: pid, secretKey: key))
            issuedKey = issued
            queueToClient(PostgresMessageEncoder.backendKeyData(processID: issued.processID, secretKey: issued.secretKey))
        case .forwardHandshakeComplete:
            handshakeTimeout?.cancel()
            handshakeTimeout = nil
            queueToClient(frame.bytes)
        case .protocolViolation(let error):
            logger.warning("backend protocol violation", metadata: ["error": "\(error.message)"])
            failClient(sqlState: "08P01", message: "backend server \(machine.backend): \(error.message)")
            return
        }
        if frame.id == UInt8(ascii: "Z") {
            observer.readyForQuery(lane: machine.readCurrentLane())
            if draining, machine.isIdleOutsideTransaction, holds.isEmpty {
                flushToClient()
                close(reason: "shutdown (drained)")
            }
        }
    }

    private func writeToClient(_ bytes: ByteBuffer) {
        guard !holds.isEmpty else { return queueToClient(bytes) }
        holds[holds.count - 1].writes.append(bytes)
    }

    private func queueToClient(_ bytes: ByteBuffer) {
        guard let context else { return }
        toClient.write(bytes, allocator: context.channel.allocator) { context.write(self.wrapOutboundOut($0), promise: nil) }
    }

    /// Writes out what is gathered for the client without flushing (before a write that bypasses the coalescer).
    private func drainToClient() {
        guard let context else { return }
        toClient.drain { context.write(self.wrapOutboundOut($0), promise: nil) }
    }

    /// Feeds dual-write capture at a ReadyForQuery; appends finished records. Returns true when a sync stream holds
    /// the ReadyForQuery (and everything after it) until the append completes.
    private func holdForReplayLog(_ batch: PostgresStatementCapture.Batch, readyForQuery: ByteBuffer) -> Bool {
        guard var capture, let eventLoop = context?.eventLoop else { return false }
        let pending = capture.batchFinished(batch, nowMicros: DualWriteClock.nowMicros())
        self.capture = capture
        guard !pending.isEmpty else { return false }
        let waits = pending.filter { $0.stream.isSync }
        for item in pending where !item.stream.isSync { item.stream.append(item.record) { _ in } }
        guard !waits.isEmpty else { return false }
        nextHoldID += 1
        let id = nextHoldID
        holds.append((id, false, [readyForQuery]))
        let futures = waits.map { $0.stream.append($0.record, on: eventLoop) }
        EventLoopFuture<DualWriteStream.AppendOutcome>.whenAllComplete(futures, on: eventLoop).whenComplete { [self] _ in
            self.releaseHold(id)
        }
        return true
    }

    /// Marks a hold durable and writes, in order, everything no earlier hold still gates.
    private func releaseHold(_ id: Int) {
        guard let position = holds.firstIndex(where: { $0.id == id }) else { return }
        holds[position].done = true
        while let first = holds.first, first.done {
            holds.removeFirst()
            guard !closed else { continue }
            for bytes in first.writes { queueToClient(bytes) }
        }
        guard !closed else { return }
        flushToClient()
        if holds.isEmpty {
            backendHandler?.clientBecameWritable()
            if draining, machine.isIdleOutsideTransaction { close(reason: "shutdown (drained)") }
        }
    }

    func flushToClient() {
        drainToClient()
        if unreportedBytesOut > 0 {
            observer.bytesOut(unreportedBytesOut)
            unreportedBytesOut = 0
        }
        context?.flush()
    }

    func backendClosed() {
        guard !closed else { return }
        flushToClient()
        backendLost(reason: "backend closed")
    }

    func backendFailed(_ error: any Error) {
        logger.debug("backend connection error", metadata: ["error": "\(error)"])
        if let error = error as? PostgresWireError {
            failClient(sqlState: "08P01", message: "backend server \(machine.backend): \(error.message)")
        } else {
            backendLost(reason: "backend connection error")
        }
    }

    /// A server that dies (or is cut off) mid-statement sends nothing: tell the client what happened instead of a
    /// bare close. A server that explained itself (its last message was an ErrorResponse) or an idle session closes
    /// as before.
    private func backendLost(reason: String) {
        if !machine.isIdle && !backendLastSentError {
            return failClient(
                sqlState: "08006", message: "lost the connection to backend server \(machine.backend) during a statement",
                reason: reason)
        }
        close(reason: reason)
    }

    // MARK: closing

    /// Sends a FATAL ErrorResponse to the client and closes both sides.
    private func failClient(sqlState: String, message: String, reason: String? = nil) {
        guard !closed, let context else { return close(reason: reason ?? message) }
        logger.debug("closing client connection", metadata: ["reason": "\(message)"])
        drainToClient()
        context.writeAndFlush(
            wrapOutboundOut(PostgresMessageEncoder.errorResponse(severity: "FATAL", sqlState: sqlState, message: message)),
            promise: nil)
        close(reason: reason ?? message)
    }

    private func close(reason: String = "closed") {
        guard !closed else { return }
        closed = true
        observer.closed(reason: reason, logger: logger)
        handshakeTimeout?.cancel()
        handshakeTimeout = nil
        if let key = issuedKey {
            environment.cancelRegistry.remove(processID: key.processID, secretKey: key.secretKey)
        }
        backendChannel?.close(promise: nil)
        // The backend handler holds this handler strongly (it calls back into it); dropping our references
        // breaks that cycle so both handlers and the backend channel are freed once the pipelines are torn down.
        backendChannel = nil
        backendOutbound = nil
        backendHandler = nil
        context?.close(promise: nil)
    }
}

/// Asks a connection to close as soon as it has no statement in flight (graceful shutdown).
struct PostgresDrainEvent: Sendable {}

/// The drain deadline passed: tell the client (57P01 admin_shutdown) and close now.
struct PostgresShutdownDeadlineEvent: Sendable {}
