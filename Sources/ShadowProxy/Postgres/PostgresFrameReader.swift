import NIOCore
import PostgresWire

/// Decodes the PostgreSQL messages of one direction of a connection from the buffers the socket delivers.
///
/// It keeps what it received the way the MySQL handlers do (`appendKeepingSlices`): a read that arrives with nothing
/// pending is adopted as is, so decoded messages are slices of it, and once everything is decoded the reader lets go
/// of it — an idle connection holds no receive buffer after a large result, and relaying a message copies nothing.
/// Owning the buffer also lets the backend side take a run of messages at the start of what is buffered and forward
/// it as one slice (``process(_:run:_:)``).
final class PostgresFrameReader {
    private var inbound = ByteBuffer()
    private var decoder: PostgresFrameDecoder

    init(maximumMessageSize: Int) {
        self.decoder = PostgresFrameDecoder(maximumMessageSize: maximumMessageSize)
    }

    /// Feeds `buffer` and hands every complete message to `body`, in order.
    func process(_ buffer: ByteBuffer, _ body: (PostgresFrame) throws -> Void) throws {
        try process(buffer, run: { _ in }, body)
    }

    /// Feeds `buffer` and hands every complete message to `body`, in order. Before each message, `run` may take
    /// bytes off the front of what is buffered (whole messages it forwards itself); everything it leaves is decoded.
    func process(_ buffer: ByteBuffer, run: (inout ByteBuffer) -> Void, _ body: (PostgresFrame) throws -> Void) throws {
        inbound.appendKeepingSlices(buffer)
        while true {
            run(&inbound)
            guard let frame = try decoder.decode(buffer: &inbound) else { break }
            try body(frame)
        }
        inbound.compactAfterDecoding()
    }
}
