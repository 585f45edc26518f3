import NIOCore

/// One physical packet on the wire: a 3-byte little-endian payload length, a sequence id and the payload.
/// A payload of exactly 0xFFFFFF bytes means the logical packet continues in the next frame
/// (https://mariadb.com/kb/en/0-packet/).
public struct MySQLFrame: Sendable, Hashable {
    /// The largest payload one frame carries; a frame of this length is followed by a continuation frame.
    public static let maxPayloadLength = 0xFF_FFFF

    public var sequenceID: UInt8
    public var payload: ByteBuffer
    /// The frame exactly as received (header and payload), when it came from the decoder: relaying it is one
    /// write of a slice, with no header to allocate.
    public var wire: ByteBuffer?

    public init(sequenceID: UInt8, payload: ByteBuffer) {
        self.sequenceID = sequenceID
        self.payload = payload
        self.wire = nil
    }

    init(sequenceID: UInt8, payload: ByteBuffer, wire: ByteBuffer) {
        self.sequenceID = sequenceID
        self.payload = payload
        self.wire = wire
    }

    /// Whether the next frame continues this frame's logical packet.
    public var continues: Bool { payload.readableBytes == Self.maxPayloadLength }

    /// The 4-byte header of this frame.
    public var header: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(4)
        Self.writeHeader(length: payload.readableBytes, sequenceID: sequenceID, into: &buffer)
        return buffer
    }

    /// Writes a frame header.
    public static func writeHeader(length: Int, sequenceID: UInt8, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(truncatingIfNeeded: length))
        buffer.writeInteger(UInt8(truncatingIfNeeded: length >> 8))
        buffer.writeInteger(UInt8(truncatingIfNeeded: length >> 16))
        buffer.writeInteger(sequenceID)
    }
}

/// Decodes physical frames; a frame is never larger than 16 MiB + 4, so the buffer it needs is bounded.
public struct MySQLFrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = MySQLFrame

    public init() {}

    public mutating func decode(buffer: inout ByteBuffer) throws -> MySQLFrame? {
        guard buffer.readableBytes >= 4,
              let b0 = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
              let b1 = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self),
              let b2 = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt8.self),
              let sequenceID = buffer.getInteger(at: buffer.readerIndex + 3, as: UInt8.self)
        else { return nil }
        let length = Int(b0) | Int(b1) << 8 | Int(b2) << 16
        guard buffer.readableBytes >= 4 + length, let wire = buffer.readSlice(length: 4 + length),
              let payload = wire.getSlice(at: wire.readerIndex + 4, length: length)
        else { return nil }
        return MySQLFrame(sequenceID: sequenceID, payload: payload, wire: wire)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> MySQLFrame? {
        try decode(buffer: &buffer)
    }
}

/// A logical packet: the payload after joining continuation frames, and the sequence ids it occupied.
public struct MySQLPacket: Sendable, Hashable {
    /// Sequence id of the first frame.
    public var sequenceID: UInt8
    /// Sequence id of the last frame (equal to ``sequenceID`` unless the packet was ≥ 16 MiB).
    public var lastSequenceID: UInt8
    public var payload: ByteBuffer
    /// The single frame this packet arrived in, as received (nil for packets made or joined by the proxy): a
    /// packet forwarded unchanged is written as this one slice.
    public var wire: ByteBuffer?

    public init(sequenceID: UInt8, payload: ByteBuffer) {
        self.sequenceID = sequenceID
        self.payload = payload
        self.lastSequenceID = sequenceID &+ UInt8(truncatingIfNeeded: payload.readableBytes / MySQLFrame.maxPayloadLength)
        self.wire = nil
    }

    init(sequenceID: UInt8, lastSequenceID: UInt8, payload: ByteBuffer, wire: ByteBuffer? = nil) {
        self.sequenceID = sequenceID
        self.lastSequenceID = lastSequenceID
        self.payload = payload
        self.wire = wire
    }

    /// The first payload byte (the packet's type for most packets), or nil for an empty packet.
    public var firstByte: UInt8? { payload.getInteger(at: payload.readerIndex) }

    /// Splits the packet back into frames: 0xFFFFFF-byte chunks then a shorter (possibly empty) final one,
    /// with consecutive sequence ids starting at `sequenceID`.
    public func frames(startingAt sequenceID: UInt8? = nil) -> [MySQLFrame] {
        var seq = sequenceID ?? self.sequenceID
        var rest = payload
        var frames: [MySQLFrame] = []
        while true {
            let length = min(rest.readableBytes, MySQLFrame.maxPayloadLength)
            let chunk = rest.readSlice(length: length) ?? ByteBuffer()
            frames.append(MySQLFrame(sequenceID: seq, payload: chunk))
            seq &+= 1
            if length < MySQLFrame.maxPayloadLength { break }
        }
        return frames
    }

    /// Encodes the packet (header + payload per frame) into `buffer`.
    public func write(into buffer: inout ByteBuffer, startingAt sequenceID: UInt8? = nil) {
        for frame in frames(startingAt: sequenceID) {
            MySQLFrame.writeHeader(length: frame.payload.readableBytes, sequenceID: frame.sequenceID, into: &buffer)
            buffer.writeImmutableBuffer(frame.payload)
        }
    }
}

/// Joins continuation frames into logical packets, refusing any logical packet over `maxSize` bytes so a
/// peer cannot make the proxy buffer without bound.
public struct MySQLPacketAssembler: Sendable {
    public let maxSize: Int
    private var pending: ByteBuffer?
    private var firstSequenceID: UInt8 = 0

    public init(maxSize: Int) {
        self.maxSize = maxSize
    }

    /// Whether a logical packet is partly received.
    public var isAssembling: Bool { pending != nil }

    /// Feeds one frame; returns the logical packet when this frame completes it.
    public mutating func push(_ frame: MySQLFrame) throws -> MySQLPacket? {
        if var buffer = pending {
            pending = nil
            guard buffer.readableBytes + frame.payload.readableBytes <= maxSize else {
                throw MySQLWireError(.packetTooLarge, "logical packet exceeds \(maxSize) bytes")
            }
            var chunk = frame.payload
            buffer.writeBuffer(&chunk)
            if frame.continues {
                pending = buffer
                return nil
            }
            return MySQLPacket(sequenceID: firstSequenceID, lastSequenceID: frame.sequenceID, payload: buffer)
        }
        guard frame.payload.readableBytes <= maxSize else {
            throw MySQLWireError(.packetTooLarge, "packet exceeds \(maxSize) bytes")
        }
        if frame.continues {
            var buffer = ByteBuffer()
            buffer.reserveCapacity(MySQLFrame.maxPayloadLength * 2)
            var chunk = frame.payload
            buffer.writeBuffer(&chunk)
            pending = buffer
            firstSequenceID = frame.sequenceID
            return nil
        }
        return MySQLPacket(sequenceID: frame.sequenceID, lastSequenceID: frame.sequenceID, payload: frame.payload, wire: frame.wire)
    }
}
