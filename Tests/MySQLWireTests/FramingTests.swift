import MySQLWire
import NIOCore
import Testing

@Suite struct FramingTests {
    @Test("the frame decoder waits for a whole frame and reads length and sequence id")
    func decodesFrames() throws {
        var decoder = MySQLFrameDecoder()
        var buffer = ByteBuffer(bytes: [3, 0, 0, 7, 0x03, 0x41])
        #expect(try decoder.decode(buffer: &buffer) == nil)
        buffer.writeBytes([0x42, 1, 0, 0, 8])
        let frame = try #require(try decoder.decode(buffer: &buffer))
        #expect(frame.sequenceID == 7)
        #expect(Array(frame.payload.readableBytesView) == [0x03, 0x41, 0x42])
        #expect(try decoder.decode(buffer: &buffer) == nil)
    }

    @Test("a payload of 0xFFFFFF bytes continues in the next frame and the assembler joins them")
    func joinsContinuations() throws {
        var assembler = MySQLPacketAssembler(maxSize: 64 << 20)
        let big = ByteBuffer(repeating: 0xAB, count: 0xFF_FFFF)
        let first = MySQLFrame(sequenceID: 0, payload: big)
        #expect(first.continues)
        #expect(try assembler.push(first) == nil)
        let packet = try #require(try assembler.push(MySQLFrame(sequenceID: 1, payload: ByteBuffer(bytes: [1, 2, 3]))))
        #expect(packet.payload.readableBytes == 0xFF_FFFF + 3)
        #expect(packet.sequenceID == 0)
        #expect(packet.lastSequenceID == 1)
    }

    @Test("a logical packet of exactly 0xFFFFFF bytes ends with an empty frame, both when joining and splitting")
    func emptyFinalFrame() throws {
        var assembler = MySQLPacketAssembler(maxSize: 64 << 20)
        #expect(try assembler.push(MySQLFrame(sequenceID: 3, payload: ByteBuffer(repeating: 1, count: 0xFF_FFFF))) == nil)
        let packet = try #require(try assembler.push(MySQLFrame(sequenceID: 4, payload: ByteBuffer())))
        #expect(packet.payload.readableBytes == 0xFF_FFFF)
        let frames = packet.frames()
        #expect(frames.map(\.payload.readableBytes) == [0xFF_FFFF, 0])
        #expect(frames.map(\.sequenceID) == [3, 4])
    }

    @Test("re-splitting a rewritten 33 MiB packet yields two full frames and the remainder with consecutive ids")
    func resplits() {
        let packet = MySQLPacket(sequenceID: 0, payload: ByteBuffer(repeating: 9, count: 2 * 0xFF_FFFF + 10))
        #expect(packet.lastSequenceID == 2)
        let frames = packet.frames()
        #expect(frames.map(\.payload.readableBytes) == [0xFF_FFFF, 0xFF_FFFF, 10])
        #expect(frames.map(\.sequenceID) == [0, 1, 2])
        var out = ByteBuffer()
        packet.write(into: &out)
        #expect(out.readableBytes == 2 * 0xFF_FFFF + 10 + 12)
        #expect(out.getBytes(at: 0, length: 4) == [0xFF, 0xFF, 0xFF, 0])
    }

    @Test("a logical packet over the configured maximum is refused, not buffered")
    func refusesOversize() throws {
        var assembler = MySQLPacketAssembler(maxSize: 0xFF_FFFF + 10)
        #expect(try assembler.push(MySQLFrame(sequenceID: 0, payload: ByteBuffer(repeating: 0, count: 0xFF_FFFF))) == nil)
        #expect(throws: MySQLWireError.self) {
            try assembler.push(MySQLFrame(sequenceID: 1, payload: ByteBuffer(repeating: 0, count: 11)))
        }
    }

    @Test("length-encoded integers round-trip at every width")
    func lenencRoundTrip() throws {
        for value: UInt64 in [0, 250, 251, 0xFFFF, 0x1_0000, 0xFF_FFFF, 0x100_0000, .max] {
            var buffer = ByteBuffer()
            buffer.writeLengthEncodedInteger(value)
            #expect(try buffer.readLengthEncodedInteger() == value)
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test("a truncated or 0xFF-prefixed length-encoded value throws instead of crashing")
    func lenencErrors() throws {
        var truncated = ByteBuffer(bytes: [0xFD, 1, 2])
        #expect(throws: MySQLWireError.self) { try truncated.readLengthEncodedInteger() }
        var invalid = ByteBuffer(bytes: [0xFF, 0, 0])
        #expect(throws: MySQLWireError.self) { try invalid.readLengthEncodedInteger() }
        var shortString = ByteBuffer(bytes: [5, 0x41])
        #expect(throws: MySQLWireError.self) { try shortString.readLengthEncodedSlice() }
        var empty = ByteBuffer()
        #expect(throws: MySQLWireError.self) { try empty.readLengthEncodedInteger() }
        var null = ByteBuffer(bytes: [0xFB])
        #expect(try null.readLengthEncodedIntegerOrNull() == nil)
    }
}

@Suite struct FrameWireTests {
    @Test("a decoded frame keeps its exact received bytes so relaying needs no new header")
    func keepsWireBytes() throws {
        var decoder = MySQLFrameDecoder()
        var buffer = ByteBuffer(bytes: [2, 0, 0, 5, 0xFE, 0x01, 9, 9])
        let frame = try #require(try decoder.decode(buffer: &buffer))
        #expect(frame.wire.map { Array($0.readableBytesView) } == [2, 0, 0, 5, 0xFE, 0x01])
        var assembler = MySQLPacketAssembler(maxSize: 100)
        let packet = try #require(try assembler.push(frame))
        #expect(packet.wire == frame.wire)
        #expect(MySQLPacket(sequenceID: 5, payload: packet.payload).wire == nil)
    }
}
