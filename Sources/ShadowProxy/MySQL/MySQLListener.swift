import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ShadowConfig

/// The MySQL/MariaDB listener: accepts clients on the listener's address and proxies each to its base server
/// (or its lane's server), following the routing table returned by `routing` when the connection starts.
public final class MySQLListener: @unchecked Sendable {
    public let configuration: ListenerConfiguration
    private let routing: @Sendable () -> RoutingTable
    private let group: any EventLoopGroup
    private let logger: Logger
    private let lock = NSLock()
    private var serverChannel: (any Channel)?
    private var connections: [ObjectIdentifier: any Channel] = [:]
    private let dualWrite: DualWriteService?
    /// Sees every accepted channel (on its event loop, after the handler is added); lets tests hold weak
    /// references to per-connection objects and prove they are released after close.
    let acceptedChannelHook = NIOLockedValueBox<(@Sendable (any Channel) -> Void)?>(nil)

    /// - Parameter routing: returns the current routing table; called once per new connection, so a reload only
    ///   affects connections opened after it.
    public init(
        configuration: ListenerConfiguration,
        routing: @escaping @Sendable () -> RoutingTable,
        group: any EventLoopGroup,
        logger: Logger,
        dualWrite: DualWriteService? = nil
    ) {
        self.dualWrite = dualWrite
        self.configuration = configuration
        self.routing = routing
        self.group = group
        self.logger = logger
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
            listener: configuration, clientTLS: sslContext, backendTLS: backendTLS, logger: logger, dualWrite: dualWrite
        )
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [routing, weak self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = MySQLFrontendHandler(settings: settings, routing: routing())
                    try channel.pipeline.syncOperations.addHandler(handler)
                    self?.track(channel)
                }
            }
            .bind(host: configuration.listen.host, port: configuration.listen.port)
            .get()
        lock.withLock { serverChannel = channel }
        logger.info("mysql listener started", metadata: ["listener": "\(configuration.name)", "address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
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

    /// Stops accepting, lets connections finish the statement in flight until `gracefulDeadline`, then closes
    /// whatever is left.
    public func shutdown(gracefulDeadline: NIODeadline) async {
        let server = lock.withLock { () -> (any Channel)? in
            defer { serverChannel = nil }
            return serverChannel
        }
        try? await server?.close()
        for channel in lock.withLock({ Array(connections.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(MySQLQuiesceEvent())
        }
        while connectionCount > 0 && NIODeadline.now() < gracefulDeadline {
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        for channel in lock.withLock({ Array(connections.values) }) {
            try? await channel.close()
        }
    }
}

/// Asks a connection to close as soon as no statement is in flight.
struct MySQLQuiesceEvent: Sendable {}

/// What every connection of a listener shares.
struct MySQLConnectionSettings: Sendable {
    var listener: ListenerConfiguration
    var clientTLS: NIOSSLContext?
    var backendTLS: NIOSSLContext?
    var logger: Logger
    var dualWrite: DualWriteService?
}
