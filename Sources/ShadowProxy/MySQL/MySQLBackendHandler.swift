import MySQLWire
import NIOCore

/// The server side of one proxied connection: decodes frames and hands them to the frontend handler, which owns
/// the session state. Same event loop as the frontend, so calls are direct.
final class MySQLBackendHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let frontend: MySQLFrontendHandler
    private var inbound = ByteBuffer()
    private var decoder = MySQLFrameDecoder()

    init(frontend: MySQLFrontendHandler) {
        self.frontend = frontend
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inbound.appendKeepingSlices(unwrapInboundIn(data))
        let channel = context.channel
        do {
            while true {
                frontend.backendAnswerRun(&inbound, from: channel)
                guard let frame = try decoder.decode(buffer: &inbound) else { break }
                frontend.backendFrame(frame, from: channel)
            }
            inbound.compactAfterDecoding()
        } catch {
            frontend.backendProtocolError(error)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        frontend.backendReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        frontend.backendWritabilityChanged(context.channel)
    }

    func channelInactive(context: ChannelHandlerContext) {
        frontend.backendClosed(context.channel)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
