import NIOCore

/// Gathers the small messages relayed to one side of a connection between two flushes into a single buffer, so a
/// round trip costs one channel write instead of one per protocol message (a PostgreSQL answer to one Execute is
/// four or more messages, a MySQL result set five or more packets, each its own pipeline write and iovec before).
///
/// Large messages are not copied: they go out as the slices they arrived in, after whatever was gathered before
/// them, so the order on the wire never changes. The gathered buffer is handed on once it holds ``gatherLimit``
/// bytes and is never kept between flushes, so an idle connection holds no buffer here.
struct OutboundCoalescer {
    /// Messages up to this size are copied into the gathered buffer; larger ones are written as they are.
    static let copyLimit = 2048
    /// The gathered buffer goes to the channel once it holds this much, whatever comes next.
    static let gatherLimit = 32 * 1024

    private var gathered: ByteBuffer?

    /// Queues `bytes` for the channel behind `sink` (a `write` without flush), copying them if they are small.
    mutating func write(_ bytes: ByteBuffer, allocator: @autoclosure () -> ByteBufferAllocator, to sink: (ByteBuffer) -> Void) {
        let count = bytes.readableBytes
        guard count <= Self.copyLimit else {
            drain(to: sink)
            sink(bytes)
            return
        }
        append(capacity: count, allocator: allocator(), to: sink) { $0.writeImmutableBuffer(bytes) }
    }

    /// Builds a small message in place at the end of the gathered buffer (e.g. a header followed by its payload).
    mutating func append(
        capacity: Int, allocator: @autoclosure () -> ByteBufferAllocator, to sink: (ByteBuffer) -> Void,
        _ body: (inout ByteBuffer) -> Void
    ) {
        // Taken out of the optional first, so the buffer is uniquely referenced and grows in place.
        var buffer = gathered ?? allocator().buffer(capacity: max(512, capacity))
        gathered = nil
        body(&buffer)
        if buffer.readableBytes >= Self.gatherLimit {
            sink(buffer)
        } else {
            gathered = buffer
        }
    }

    /// Hands what was gathered to `sink`; call before every flush of the channel and before any write that does
    /// not go through ``write(_:allocator:to:)``.
    mutating func drain(to sink: (ByteBuffer) -> Void) {
        guard let buffer = gathered else { return }
        gathered = nil
        sink(buffer)
    }
}
