import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import ShadowConfig

/// The admin HTTP listener: `/metrics`, `/healthz`, `/readyz`, `/api/status` and the status page at `/`.
/// Loopback by default (see `admin.listen`); read-only; one small response per request, connection kept alive.
public final class AdminServer: Sendable {
    public let router: AdminRouter
    private let listen: Endpoint
    private let group: any EventLoopGroup
    private let logger: Logger
    private let channelBox = NIOLockedValueBoxChannel()

    public init(listen: Endpoint, router: AdminRouter, group: any EventLoopGroup, logger: Logger) {
        self.listen = listen
        self.router = router
        self.group = group
        self.logger = logger
    }

    /// The bound address (useful with port 0).
    public var localAddress: SocketAddress? { channelBox.channel?.localAddress }

    /// Binds the listener.
    public func start() async throws {
        let router = self.router
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMap {
                    channel.pipeline.addHandler(AdminHTTPHandler(router: router))
                }
            }
            .bind(host: listen.host, port: listen.port).get()
        channelBox.channel = channel
        logger.info("admin listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
    }

    /// Stops accepting and closes the listener.
    public func shutdown() async {
        if let channel = channelBox.channel {
            try? await channel.close()
        }
    }
}

/// Holds the bound channel once `start()` has run.
final class NIOLockedValueBoxChannel: Sendable {
    private let box = NIOLockedValueBox<(any Channel)?>(nil)
    var channel: (any Channel)? {
        get { box.withLockedValue { $0 } }
        set { box.withLockedValue { $0 = newValue } }
    }
}

/// Answers one HTTP request at a time with the router's response.
final class AdminHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let router: AdminRouter
    private var head: HTTPRequestHead?

    init(router: AdminRouter) {
        self.router = router
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            let response = router.respond(method: head.method.rawValue, path: head.uri)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: response.contentType)
            headers.add(name: "Cache-Control", value: "no-store")
            var body = context.channel.allocator.buffer(capacity: response.body.utf8.count)
            body.writeString(response.body)
            headers.add(name: "Content-Length", value: "\(body.readableBytes)")
            let keepAlive = head.isKeepAlive
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            let status = HTTPResponseStatus(statusCode: response.status)
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            if head.method != .HEAD {
                context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            }
            let done = context.writeAndFlushPromise()
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
            if !keepAlive {
                done.futureResult.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
            }
        }
    }
}

extension ChannelHandlerContext {
    fileprivate func writeAndFlushPromise() -> EventLoopPromise<Void> { eventLoop.makePromise() }
}
