import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A loopback TCP relay in front of a real server, which a test can cut (close the port and every relayed
/// connection) and restore on the same port: a mirror outage without stopping a shared server.
final class TCPRelay: @unchecked Sendable {
    let target: (host: String, port: Int)
    private(set) var port = 0
    private let group = MultiThreadedEventLoopGroup.singleton
    private let state = NIOLockedValueBox<(server: (any Channel)?, connections: [any Channel])>((nil, []))

    init(targetHost: String, targetPort: Int) {
        target = (targetHost, targetPort)
    }

    /// Binds (on a fresh port the first time, on the same port afterwards).
    func open() async throws {
        let target = self.target
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { [weak self] inbound in
                self?.state.withLockedValue { $0.connections.append(inbound) }
                let inboundHandler = RelayHandler()
                return inbound.pipeline.addHandler(inboundHandler).flatMap {
                    ClientBootstrap(group: inbound.eventLoop)
                        .channelInitializer { outbound in outbound.pipeline.addHandler(RelayHandler(partner: inbound)) }
                        .connect(host: target.host, port: target.port)
                        .map { outbound in
                            self?.state.withLockedValue { $0.connections.append(outbound) }
                            inboundHandler.partner = outbound
                            inbound.setOption(.autoRead, value: true).whenComplete { _ in }
                        }
                        .flatMapErrorThrowing { error in
                            inbound.close(promise: nil)
                            throw error
                        }
                }
            }
            .bind(host: "127.0.0.1", port: port)
            .get()
        port = channel.localAddress?.port ?? 0
        state.withLockedValue { $0.server = channel }
    }

    /// Stops listening and drops every relayed connection (both sides see the connection break).
    func cut() async {
        let (server, connections) = state.withLockedValue { value in
            defer { value = (nil, []) }
            return value
        }
        try? await server?.close()
        for connection in connections { try? await connection.close() }
    }

    /// Relays one direction; closing either side closes the other.
    private final class RelayHandler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        var partner: (any Channel)?

        init(partner: (any Channel)? = nil) { self.partner = partner }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            partner?.writeAndFlush(unwrapInboundIn(data), promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            partner?.close(promise: nil)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
