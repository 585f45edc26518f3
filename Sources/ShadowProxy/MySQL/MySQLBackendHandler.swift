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
        do {
            while true {
                frontend.backendRows(&inbound, from: context.channel)
                guard let frame = try decoder.decode(buffer: &inbound) else { break }
                frontend.backendFrame(frame, from: context.channel)
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

extension ByteBuffer {
    /// Appends received bytes; when nothing is pending the received buffer is adopted as is, so decoded frames
    /// are slices of it and relaying them copies nothing.
    ///
    /// When a partial frame is pending behind frames already decoded, only its bytes move to a new buffer. The
    /// decoded frames are slices still being relayed, so the storage is shared: writing into it copies all of
    /// it, consumed bytes included. On a streamed result that was every read: the buffer climbed to the
    /// compaction threshold (1 MiB) and stayed there, each read copied it whole, and a slow client's pending
    /// writes held slices of several such copies (+10 MiB RSS per slow reader).
    mutating func appendKeepingSlices(_ received: ByteBuffer) {
        var received = received
        if readableBytes == 0 {
            self = received
        } else if readerIndex > 0 {
            var pending = ByteBufferAllocator().buffer(capacity: readableBytes + received.readableBytes)
            pending.writeBuffer(&self)
            pending.writeBuffer(&received)
            self = pending
        } else {
            writeBuffer(&received)
        }
    }

    /// Drops consumed bytes after a decode pass.
    mutating func compactAfterDecoding() {
        if readableBytes == 0 {
            self = ByteBuffer()
        } else if readerIndex > 1 << 20 {
            discardReadBytes()
        }
    }
}
