import NIOCore
import PostgresWire

/// Decodes the PostgreSQL messages of one direction of a connection from the buffers the socket delivers.
///
/// NIO's single-step processor keeps the last received buffer even when nothing in it is left to decode, so after a
/// large read an idle connection would go on holding that buffer (up to the largest receive buffer) until its next
/// read. After a read of more than 4 KiB that left nothing undecoded, the reader starts a fresh processor, so the
/// buffer goes with the messages relayed from it; small reads keep theirs.
final class PostgresFrameReader {
    private var processor: NIOSingleStepByteToMessageProcessor<PostgresFrameDecoder>
    private let maximumMessageSize: Int

    init(maximumMessageSize: Int) {
        self.maximumMessageSize = maximumMessageSize
        self.processor = Self.makeProcessor(maximumMessageSize)
    }

    private static func makeProcessor(_ maximumMessageSize: Int) -> NIOSingleStepByteToMessageProcessor<PostgresFrameDecoder> {
        NIOSingleStepByteToMessageProcessor(
            PostgresFrameDecoder(maximumMessageSize: maximumMessageSize), maximumBufferSize: maximumMessageSize)
    }

    /// Feeds `buffer` and hands every complete message to `body`, in order.
    func process(_ buffer: ByteBuffer, _ body: (PostgresFrame) throws -> Void) throws {
        let received = buffer.readableBytes
        try processor.process(buffer: buffer, body)
        if received > 4096 && processor.unprocessedBytes == 0 { processor = Self.makeProcessor(maximumMessageSize) }
    }
}
