import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import PostgresWire
import ShadowConfig

/// A client-facing PostgreSQL listener: accepts connections, terminates TLS if configured, and runs one
/// ``PostgresSessionStateMachine`` per connection in front of the listener's base server (or a lane's own server).
///
/// Connections decide their lane with the routing source's table when they are accepted and follow reloads per
/// statement (a session keeps its lane name; a lane removed by a reload is refused). Every connection is registered
/// in the context's ``ConnectionRegistry`` and counted in ``LaneStatistics`` and ``ProxyMetrics``.
public final class PostgresListener: Sendable {
    public let configuration: ListenerConfiguration
    private let context: ListenerContext
    private let group: any EventLoopGroup
    private let logger: Logger
    private let cancelRegistry: PostgresCancelRegistry
    private let dualWrite: DualWriteService?
    private let state = NIOLockedValueBox(State())
    /// Sees every accepted channel (on its event loop, after the handler is added); lets tests hold weak
    /// references to per-connection objects and prove they are released after close.
    let acceptedChannelHook = NIOLockedValueBox<(@Sendable (any Channel) -> Void)?>(nil)

    struct State {
        var serverChannel: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
    }

    /// - Parameters:
    ///   - context: the process-wide routing source, connection registry, statistics, event loops and logger.
    ///   - cancelRegistry: where issued cancel keys are kept; share one per process (the default).
    public init(
        configuration: ListenerConfiguration,
        context: ListenerContext,
        cancelRegistry: PostgresCancelRegistry = .shared
    ) {
        self.dualWrite = context.dualWrite
        self.configuration = configuration
        self.context = context
        self.group = context.connectionGroup(for: configuration)
        self.logger = context.logger
        self.cancelRegistry = cancelRegistry
    }

    /// The bound address (useful with port 0), once started.
    public var localAddress: SocketAddress? {
        state.withLockedValue { $0.serverChannel?.localAddress }
    }

    /// Open client connections.
    public var connectionCount: Int {
        state.withLockedValue { $0.connections.count }
    }

    /// Binds the listening socket and starts accepting.
    public func start() async throws {
        let serverTLS = try configuration.tls.map { files -> NIOSSLContext in
            let chain = try NIOSSLCertificate.fromPEMFile(files.certificatePath).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: files.privateKeyPath, format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            // PostgreSQL 17 clients using direct TLS require the "postgresql" ALPN protocol.
            tls.applicationProtocols = ["postgresql"]
            return try NIOSSLContext(configuration: tls)
        }
        let backendTLS: NIOSSLContext? =
            configuration.backendTLS
            ? try {
                var tls = TLSConfiguration.makeClientConfiguration()
                // Like libpq's sslmode=require: encrypt, do not verify (the backend is configured by the operator).
                tls.certificateVerification = .none
                return try NIOSSLContext(configuration: tls)
            }() : nil
        let environmentBase = PostgresFrontendHandler.Environment(
            listener: configuration, serverTLS: serverTLS, backendTLS: backendTLS, cancelRegistry: cancelRegistry,
            logger: logger, routing: context.routing, connections: context.connections,
            statistics: context.statistics, dualWrite: dualWrite)
        let routing = context.routing
        let channel = try await ServerBootstrap(group: group, childGroup: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .relayChildOptions()
            .childChannelInitializer { [weak self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let machine = PostgresSessionStateMachine(
                        listener: environmentBase.listener, routing: routing.current,
                        tlsAvailable: environmentBase.serverTLS != nil)
                    try channel.pipeline.syncOperations.addHandler(
                        PostgresFrontendHandler(machine: machine, environment: environmentBase))
                    self?.track(channel)
                }
            }
            .bind(host: configuration.listen.host, port: configuration.listen.port)
            .get()
        state.withLockedValue { $0.serverChannel = channel }
        logger.info(
            "postgres listener started",
            metadata: ["listener": "\(configuration.name)", "address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
    }

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLockedValue { $0.connections[id] = channel }
        acceptedChannelHook.withLockedValue { $0 }?(channel)
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.state.withLockedValue { $0.connections.removeValue(forKey: id) }
        }
    }

    /// Stops accepting, lets connections finish their in-flight statement or transaction until `gracefulDeadline`
    /// (each closes when the server reports it idle), then ends the rest with a FATAL 57P01 admin_shutdown error.
    public func shutdown(gracefulDeadline: NIODeadline) async {
        let server = state.withLockedValue { $0.serverChannel }
        // Connections are asked to drain from the server channel's event loop as soon as it stopped accepting, not
        // when this task resumes: a Swift concurrency pool kept busy elsewhere would delay every idle connection's
        // close by as long.
        if let server {
            try? await server.close().always { _ in self.askConnectionsToDrain(by: gracefulDeadline) }.get()
        } else {
            askConnectionsToDrain(by: gracefulDeadline)
        }
        while connectionCount > 0 && NIODeadline.now() < gracefulDeadline {
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        let remaining = state.withLockedValue { Array($0.connections.values) }
        for channel in remaining {
            channel.pipeline.fireUserInboundEventTriggered(PostgresShutdownDeadlineEvent())
        }
        // The handlers close after writing the error; make sure nothing outlives shutdown.
        let closeBy = NIODeadline.now() + .seconds(1)
        while connectionCount > 0 && NIODeadline.now() < closeBy {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        for channel in state.withLockedValue({ Array($0.connections.values) }) {
            try? await channel.close()
        }
    }
}

extension PostgresListener {
    /// Asks every connection to close once the server reports it idle, and to close anyway at `deadline`.
    fileprivate func askConnectionsToDrain(by deadline: NIODeadline) {
        for channel in state.withLockedValue({ Array($0.connections.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(PostgresDrainEvent())
            // The deadline fires on the channel's own event loop, so it holds even when the Swift concurrency pool
            // that runs ``shutdown(gracefulDeadline:)`` is busy.
            channel.eventLoop.scheduleTask(deadline: deadline) {
                if channel.isActive { channel.pipeline.fireUserInboundEventTriggered(PostgresShutdownDeadlineEvent()) }
            }
        }
    }
}
