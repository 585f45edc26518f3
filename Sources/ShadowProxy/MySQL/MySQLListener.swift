import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ShadowConfig

/// The MySQL/MariaDB listener: accepts clients on the listener's address and proxies each to its base server
/// (or its lane's server).
///
/// Connections decide their lane with the routing source's table when they are accepted and follow reloads per
/// statement (a session keeps its lane name; a lane removed by a reload is refused). Every connection is registered
/// in the context's ``ConnectionRegistry`` and counted in ``LaneStatistics`` and ``ProxyMetrics``.
public final class MySQLListener: @unchecked Sendable {
    public let configuration: ListenerConfiguration
    private let context: ListenerContext
    private let threads: MySQLThreadDirectory
    private let lock = NSLock()
    private var serverChannel: (any Channel)?
    private var connections: [ObjectIdentifier: any Channel] = [:]
    /// Sees every accepted channel (on its event loop, after the handler is added); lets tests hold weak
    /// references to per-connection objects and prove they are released after close.
    let acceptedChannelHook = NIOLockedValueBox<(@Sendable (any Channel) -> Void)?>(nil)

    /// - Parameters:
    ///   - context: the process-wide routing source, connection registry, statistics, event loops, logger and
    ///     dual-write service.
    ///   - threads: where server thread ids are kept for `KILL`; share one per process (the default).
    public init(configuration: ListenerConfiguration, context: ListenerContext, threads: MySQLThreadDirectory = .shared) {
        self.configuration = configuration
        self.context = context
        self.threads = threads
    }

    /// Loads the listener's certificate and key into a server TLS context.
    static func makeServerTLS(_ tls: TLSFiles) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(tls.certificatePath).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: tls.privateKeyPath, format: .pem)
        return try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
    }

    /// The bound address (useful with port 0).
    public var localAddress: SocketAddress? {
        lock.withLock { serverChannel?.localAddress }
    }

    /// Open client connections.
    public var connectionCount: Int {
        lock.withLock { connections.count }
    }

    /// Loads TLS material (if configured) and binds the listening socket.
    public func start() async throws {
        let sslContext = try configuration.tls.map(Self.makeServerTLS)
        let backendTLS: NIOSSLContext? = configuration.backendTLS
            ? try NIOSSLContext(configuration: { var c = TLSConfiguration.makeClientConfiguration(); c.certificateVerification = .none; return c }())
            : nil
        let settings = MySQLConnectionSettings(
            listener: configuration, clientTLS: sslContext, backendTLS: backendTLS, logger: context.logger,
            dualWrite: context.dualWrite, routing: context.routing, connections: context.connections,
            statistics: context.statistics, threads: threads
        )
        let loops = context.connectionGroup(for: configuration)
        let channel = try await ServerBootstrap(group: loops, childGroup: loops)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .relayChildOptions()
            .childChannelInitializer { [weak self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = MySQLFrontendHandler(settings: settings)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    self?.track(channel)
                }
            }
            .bind(host: configuration.listen.host, port: configuration.listen.port)
            .get()
        lock.withLock { serverChannel = channel }
        context.logger.info("mysql listener started", metadata: ["listener": "\(configuration.name)", "address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
    }

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        lock.withLock { connections[id] = channel }
        acceptedChannelHook.withLockedValue { $0 }?(channel)
        channel.closeFuture.whenComplete { [weak self] _ in
            guard let self else { return }
            self.lock.withLock { _ = self.connections.removeValue(forKey: id) }
        }
    }

    /// Stops accepting, then closes each connection as soon as it is idle outside a transaction (no command in
    /// flight, the server's SERVER_STATUS_IN_TRANS clear). At `gracefulDeadline` the rest are closed: a connection
    /// waiting between commands first gets ERR 1053 "Server shutdown in progress".
    public func shutdown(gracefulDeadline: NIODeadline) async {
        let server = lock.withLock { () -> (any Channel)? in
            defer { serverChannel = nil }
            return serverChannel
        }
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
        for channel in lock.withLock({ Array(connections.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(MySQLShutdownDeadlineEvent())
        }
        let closeBy = NIODeadline.now() + .seconds(1)
        while connectionCount > 0 && NIODeadline.now() < closeBy {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        for channel in lock.withLock({ Array(connections.values) }) {
            try? await channel.close()
            // The registry callback was registered first, so it has run once this returns.
            try? await channel.closeFuture.get()
        }
    }
}

extension MySQLListener {
    /// Asks every connection to close once it is idle outside a transaction, and to close anyway at `deadline`.
    fileprivate func askConnectionsToDrain(by deadline: NIODeadline) {
        for channel in lock.withLock({ Array(connections.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(MySQLQuiesceEvent())
            // The deadline also fires on the channel's own event loop, so it holds even when the Swift concurrency
            // pool that runs ``shutdown(gracefulDeadline:)`` is busy (a connection closes once, whichever comes first).
            channel.eventLoop.scheduleTask(deadline: deadline) {
                if channel.isActive { channel.pipeline.fireUserInboundEventTriggered(MySQLShutdownDeadlineEvent()) }
            }
        }
    }
}

/// Asks a connection to close as soon as it is idle outside a transaction.
struct MySQLQuiesceEvent: Sendable {}

/// The drain deadline passed: close now (telling an idle client why).
struct MySQLShutdownDeadlineEvent: Sendable {}

/// What every connection of a listener shares.
struct MySQLConnectionSettings: Sendable {
    var listener: ListenerConfiguration
    var clientTLS: NIOSSLContext?
    var backendTLS: NIOSSLContext?
    var logger: Logger
    var dualWrite: DualWriteService?
    var routing: RoutingSource
    var connections: ConnectionRegistry
    var statistics: LaneStatistics
    var threads: MySQLThreadDirectory
}
