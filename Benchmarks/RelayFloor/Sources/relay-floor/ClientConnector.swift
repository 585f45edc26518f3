import NIOCore
import NIOPosix

/// The first handler of an accepted connection: once the client is connected, connects to the server on the same
/// event loop, then replaces itself with the relay and starts reading the client (the child channel starts with
/// `autoRead` off, so nothing the client sends is read before the server side exists).
final class ClientConnector: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private let backend: (String, Int)
    private let allocator: AdaptiveRecvByteBufferAllocator

    init(backend: (String, Int), allocator: AdaptiveRecvByteBufferAllocator) {
        self.backend = backend
        self.allocator = allocator
    }

    func channelActive(context: ChannelHandlerContext) {
        let (clientSide, serverSide) = RelayHandler.pair()
        let client = context.channel
        ClientBootstrap(group: context.eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: allocator)
            .channelOption(.maxMessagesPerRead, value: 1)
            .channelInitializer { $0.pipeline.addHandler(serverSide) }
            .connect(host: backend.0, port: backend.1)
            .whenComplete { result in
                switch result {
                case .failure:
                    client.close(promise: nil)
                case .success(let server):
                    // A client that left while the server side was connecting takes the server side with it.
                    client.pipeline.addHandler(clientSide)
                        .flatMap { client.pipeline.removeHandler(self) }
                        .flatMap { client.setOption(.autoRead, value: true) }
                        .whenFailure { _ in
                            client.close(promise: nil)
                            server.close(promise: nil)
                        }
                }
            }
        context.fireChannelActive()
    }
}
