import NIOCore

/// Gathers the small messages relayed to one side of a connection between two flushes into a single buffer, so a
/// round trip costs one channel write instead of one per protocol message (a PostgreSQL answer to one Execute is
/// four or more messages, a MySQL result set five or more packets, each its own pipeline write and iovec before).
///
/// A lone small message is not copied: it is held as the slice it arrived in and written as it is unless a second
/// message follows before the flush (a client's command is usually alone; copying it into a new buffer cost an
/// allocation and a copy per command). Large messages are never copied: they go out as the slices they arrived in,
/// after whatever was gathered before them, so the order on the wire never changes. The gathered buffer is handed
/// on once it holds ``gatherLimit`` bytes, and nothing is kept between flushes, so an idle connection holds no
/// buffer here.
struct OutboundCoalescer {
    /// Messages up to this size are copied into the gathered buffer; larger ones are written as they are.
    static let copyLimit = 2048
    /// The gathered buffer goes to the channel once it holds this much, whatever comes next.
    static let gatherLimit = 32 * 1024

    /// What is queued: nothing, one small message as it arrived, or a buffer of gathered copies.
    private enum Pending {
        case none
        case single(ByteBuffer)
        case gathered(ByteBuffer)
    }

    private var pending = Pending.none

    /// Whether anything is queued (for tests and assertions).
    var isEmpty: Bool {
        if case .none = pending { return true }
        return false
    }

    /// Queues `bytes` for the channel behind `sink` (a `write` without flush), copying them if they are small and
    /// not alone.
    mutating func write(_ bytes: ByteBuffer, allocator: @autoclosure () -> ByteBufferAllocator, to sink: (ByteBuffer) -> Void) {
        let count = bytes.readableBytes
        guard count <= Self.copyLimit else {
            drain(to: sink)
            sink(bytes)
            return
        }
        if case .none = pending {
            pending = .single(bytes)
            return
        }
        append(capacity: count, allocator: allocator(), to: sink) { $0.writeImmutableBuffer(bytes) }
    }

    /// Builds a small message in place at the end of the gathered buffer (e.g. a header followed by its payload).
    mutating func append(
        capacity: Int, allocator: @autoclosure () -> ByteBufferAllocator, to sink: (ByteBuffer) -> Void,
        _ body: (inout ByteBuffer) -> Void
    ) {
        // Taken out of `pending` first, so the buffer is uniquely referenced and grows in place.
        var buffer: ByteBuffer
        switch pending {
        case .gathered(let gathered):
            buffer = gathered
        case .single(let single):
            buffer = allocator().buffer(capacity: max(512, single.readableBytes + capacity))
            buffer.writeImmutableBuffer(single)
        case .none:
            buffer = allocator().buffer(capacity: max(512, capacity))
        }
        pending = .none
        body(&buffer)
        if buffer.readableBytes >= Self.gatherLimit {
            sink(buffer)
        } else {
            pending = .gathered(buffer)
        }
    }

    /// Hands what is queued to `sink`; call before every flush of the channel and before any write that does not
    /// go through ``write(_:allocator:to:)``.
    mutating func drain(to sink: (ByteBuffer) -> Void) {
        switch pending {
        case .none:
            return
        case .single(let buffer), .gathered(let buffer):
            pending = .none
            sink(buffer)
        }
    }
}
