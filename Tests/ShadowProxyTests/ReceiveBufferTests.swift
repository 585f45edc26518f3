import NIOCore
import Testing

@testable import ShadowProxy

/// The MySQL handlers' receive buffer: decoded frames are slices of it, relayed while the next read arrives.
@Suite struct ReceiveBufferTests {
    /// A 64 KiB read of which all but a 10-byte partial frame was decoded; `frame` is still being relayed.
    static func decodedRead() -> (inbound: ByteBuffer, frame: ByteBuffer) {
        var inbound = ByteBuffer(repeating: 7, count: 64 << 10)
        let frame = inbound.readSlice(length: inbound.readableBytes - 10)!
        return (inbound, frame)
    }

    @Test("appending a read behind a partial frame copies only the pending bytes, not the relayed ones")
    func appendCopiesOnlyPending() {
        var (inbound, frame) = Self.decodedRead()
        inbound.appendKeepingSlices(ByteBuffer(repeating: 9, count: 100))
        #expect(inbound.readableBytes == 110)
        #expect(inbound.readerIndex == 0)
        #expect(inbound.capacity < 4 << 10, "the 64 KiB read was copied along: capacity \(inbound.capacity)")
        #expect(inbound.getBytes(at: 0, length: 10) == Array(repeating: 7, count: 10))
        #expect(inbound.getBytes(at: 10, length: 100) == Array(repeating: 9, count: 100))
        // The frame in flight is untouched.
        #expect(frame.readableBytes == (64 << 10) - 10)
        #expect(frame.getBytes(at: frame.readerIndex, length: 4) == [7, 7, 7, 7])
    }

    @Test("reads appended to a growing partial frame keep one buffer that grows, without copying per read")
    func partialFrameGrowsInPlace() {
        var inbound = ByteBuffer(repeating: 1, count: 1000)
        for _ in 0..<64 { inbound.appendKeepingSlices(ByteBuffer(repeating: 2, count: 1000)) }
        #expect(inbound.readableBytes == 65_000)
        #expect(inbound.readerIndex == 0)
        #expect(inbound.capacity <= 128 << 10)
    }

    @Test("an empty receive buffer adopts the read as is, so frames are slices of it")
    func emptyAdoptsRead() {
        var inbound = ByteBuffer()
        let read = ByteBuffer(repeating: 3, count: 500)
        inbound.appendKeepingSlices(read)
        #expect(inbound == read)
        #expect(inbound.capacity == read.capacity)
    }
}
