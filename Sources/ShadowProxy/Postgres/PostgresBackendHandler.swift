import NIOCore
import NIOSSL
import PostgresWire

/// The backend side of one proxied connection: frames server messages and hands them to the frontend handler,
/// which owns the state machine. Both channels share an event loop, so the calls are direct.
final class PostgresBackendHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let frontend: PostgresFrontendHandler
    private let reader: PostgresFrameReader
    /// Waiting for the one-byte answer to our SSLRequest.
    var awaitingSSLResponse = false
    private var pendingRead = false
    private var context: ChannelHandlerContext?

    init(frontend: PostgresFrontendHandler, maximumMessageSize: Int) {
        self.frontend = frontend
        self.reader = PostgresFrameReader(maximumMessageSize: maximumMessageSize)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if awaitingSSLResponse {
            guard let byte = buffer.readInteger(as: UInt8.self) else { return }
            awaitingSSLResponse = false
            frontend.backendSSLResponse(byte, extraBytes: buffer.readableBytes)
            return
        }
        do {
            try reader.process(buffer, run: { self.frontend.backendDataRows(&$0) }) { frame in
                frontend.backendFrameReceived(frame)
            }
        } catch {
            frontend.backendFailed(error)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        frontend.flushToClient()
    }

    func channelInactive(context: ChannelHandlerContext) {
        frontend.backendClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        frontend.backendFailed(error)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { frontend.backendBecameWritable() }
        context.fireChannelWritabilityChanged()
    }

    /// Withholds reads from the server while the client cannot take more (backpressure).
    func read(context: ChannelHandlerContext) {
        if frontend.clientIsWritable {
            context.read()
        } else {
            pendingRead = true
        }
    }

    /// The client can take more again.
    func clientBecameWritable() {
        if pendingRead, let context {
            pendingRead = false
            context.read()
        }
    }
}
