import NIOCore
import Testing

@testable import ShadowProxy

/// What one side of a relayed connection writes between two flushes.
@Suite struct OutboundCoalescerTests {
    let allocator = ByteBufferAllocator()

    func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    func written(_ body: (inout OutboundCoalescer, (ByteBuffer) -> Void) -> Void) -> [ByteBuffer] {
        var coalescer = OutboundCoalescer()
        var out: [ByteBuffer] = []
        body(&coalescer) { out.append($0) }
        coalescer.drain { out.append($0) }
        #expect(coalescer.isEmpty)
        return out
    }

    @Test("a lone small message is written as the very buffer it arrived in, not copied")
    func loneMessagePassesThrough() {
        let message = bytes("Q\u{0}\u{0}\u{0}\u{d}SELECT 1\u{0}")
        let out = written { c, sink in c.write(message, allocator: allocator, to: sink) }
        #expect(out.count == 1)
        #expect(out.first == message)
        // Same storage: a slice of the original, not a new buffer.
        let samePointer = out[0].withUnsafeReadableBytes { a in message.withUnsafeReadableBytes { b in a.baseAddress == b.baseAddress } }
        #expect(samePointer)
    }

    @Test("several small messages go out as one buffer holding them in order")
    func smallMessagesAreGathered() {
        let out = written { c, sink in
            for text in ["one", "two", "three"] { c.write(bytes(text), allocator: allocator, to: sink) }
        }
        #expect(out == [bytes("onetwothree")])
    }

    @Test("a message built in place after a lone message keeps the order")
    func appendAfterLoneMessage() {
        let out = written { c, sink in
            c.write(bytes("head"), allocator: allocator, to: sink)
            c.append(capacity: 4, allocator: allocator, to: sink) { $0.writeString("tail") }
        }
        #expect(out == [bytes("headtail")])
    }

    @Test("a large message is written as it is, after what was queued before it")
    func largeMessageKeepsOrder() {
        let large = ByteBuffer(repeating: 0x41, count: OutboundCoalescer.copyLimit + 1)
        let out = written { c, sink in
            c.write(bytes("a"), allocator: allocator, to: sink)
            c.write(large, allocator: allocator, to: sink)
            c.write(bytes("b"), allocator: allocator, to: sink)
            c.write(bytes("c"), allocator: allocator, to: sink)
        }
        #expect(out == [bytes("a"), large, bytes("bc")])
    }

    @Test("the gathered buffer is handed on once it reaches the gather limit")
    func gatherLimitHandsOn() {
        let chunk = ByteBuffer(repeating: 0x42, count: 1024)
        var handedOnBeforeDrain = 0
        var coalescer = OutboundCoalescer()
        for _ in 0..<(OutboundCoalescer.gatherLimit / 1024 + 1) {
            coalescer.write(chunk, allocator: allocator) { _ in handedOnBeforeDrain += 1 }
        }
        #expect(handedOnBeforeDrain == 1)
        var rest: [ByteBuffer] = []
        coalescer.drain { rest.append($0) }
        #expect(rest.map(\.readableBytes) == [1024])
    }

    @Test("nothing is written when nothing was queued")
    func emptyDrainWritesNothing() {
        #expect(written { _, _ in }.isEmpty)
    }
}
