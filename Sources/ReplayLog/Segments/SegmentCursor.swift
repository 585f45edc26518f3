/// Reads the frames of one segment file in order, a chunk at a time (memory bounded by the chunk and the largest
/// record, never the segment).
final class SegmentCursor {
    /// The result of one step.
    enum Step {
        /// A valid record starting at `offset`.
        case record(ReplayRecord, offset: Int)
        /// End of the data exactly on a frame boundary: end of file, or the zero-filled space a writer allocates ahead
        /// of its records (no frame starts with zero bytes: a frame's length is never 0).
        case end
        /// The frame at `offset` is unreadable.
        case problem(offset: Int, ReplayRecordCodec.FrameProblem)
    }

    let file: PosixFile
    let firstLSN: LSN
    /// Offset of the next frame.
    private(set) var offset: Int
    /// The LSN the next record must carry.
    private(set) var expectedLSN: LSN
    private var chunk: [UInt8] = []
    private var chunkStart = 0
    private static let chunkSize = 1 << 20
    /// After the end of the data: a writer may be appending, so read again, and only a little (a caught-up reader
    /// polls here).
    private static let tailChunkSize = 64 << 10
    private var atTail = false

    init(path: String) throws(ReplayLogError) {
        file = try PosixFile.open(path, flags: O_RDONLY)
        let header = try file.read(at: 0, count: SegmentFile.headerSize)
        firstLSN = try SegmentFile.validateHeader(header, path: path)
        offset = SegmentFile.headerSize
        expectedLSN = firstLSN
    }

    /// The bytes available from `offset` on, reading more of the file when fewer than `needed` are buffered.
    private func ensure(_ needed: Int) throws(ReplayLogError) {
        let buffered = chunkStart + chunk.count - offset
        if offset >= chunkStart, buffered >= needed { return }
        chunk = try file.read(at: offset, count: max(needed, atTail ? Self.tailChunkSize : Self.chunkSize))
        chunkStart = offset
    }

    func next() throws(ReplayLogError) -> Step {
        let step = try step()
        switch step {
        case .record:
            atTail = false
        case .end, .problem:
            // What is buffered past here may be zeros or a half-written frame that a writer completes later.
            chunk = []
            atTail = true
        }
        return step
    }

    private func step() throws(ReplayLogError) -> Step {
        try ensure(ReplayRecordCodec.frameHeaderSize)
        let available = chunkStart + chunk.count - offset
        if available == 0 { return .end }
        let headerIsZero = chunk.withUnsafeBytes { raw in
            raw[(offset - chunkStart)..<(offset - chunkStart + min(available, ReplayRecordCodec.frameHeaderSize))]
                .allSatisfy { $0 == 0 }
        }
        if headerIsZero { return .end }
        let lengthResult = chunk.withUnsafeBytes {
            ReplayRecordCodec.payloadLength(ofFrameAt: UnsafeRawBufferPointer(rebasing: $0[(offset - chunkStart)...]))
        }
        if case .success(let payload) = lengthResult { try ensure(ReplayRecordCodec.frameHeaderSize + payload) }
        let decoded = chunk.withUnsafeBytes {
            ReplayRecordCodec.decodeFrame(UnsafeRawBufferPointer(rebasing: $0[(offset - chunkStart)...]))
        }
        switch decoded {
        case .failure(let problem):
            return .problem(offset: offset, problem)
        case .success(let (record, size)):
            guard record.lsn == expectedLSN else {
                return .problem(offset: offset, .malformed("LSN \(record.lsn) where \(expectedLSN) was expected"))
            }
            let start = offset
            offset += size
            expectedLSN += 1
            return .record(record, offset: start)
        }
    }

    /// Whether every byte from `offset` to the end of the file is zero: the space after `.end` is unwritten
    /// preallocation, not data that a zero frame header hides. Reads a chunk at a time.
    func onlyZerosFollow(from offset: Int) throws(ReplayLogError) -> Bool {
        let size = try file.size()
        var position = offset
        while position < size {
            let bytes = try file.read(at: position, count: min(Self.chunkSize, size - position))
            if bytes.isEmpty { return true }
            if bytes.contains(where: { $0 != 0 }) { return false }
            position += bytes.count
        }
        return true
    }

    /// Whether any decodable frame with an LSN of at least `minimumLSN` starts after `offset`: tells a corrupt
    /// record in the middle (valid data follows, so do not cut) from a torn tail (only garbage follows).
    func validFrameExists(after offset: Int, minimumLSN: LSN) throws(ReplayLogError) -> Int? {
        let size = try file.size()
        guard size > offset + 1 else { return nil }
        let rest = try file.read(at: offset + 1, count: size - offset - 1)
        return rest.withUnsafeBytes { raw -> Int? in
            var position = 0
            while raw.count - position >= ReplayRecordCodec.frameHeaderSize + ReplayRecordCodec.minimumPayloadSize {
                let slice = UnsafeRawBufferPointer(rebasing: raw[position...])
                if case .success(let length) = ReplayRecordCodec.payloadLength(ofFrameAt: slice),
                    length + ReplayRecordCodec.frameHeaderSize <= slice.count,
                    case .success(let (record, _)) = ReplayRecordCodec.decodeFrame(slice),
                    record.lsn >= minimumLSN
                {
                    return offset + 1 + position
                }
                position += 1
            }
            return nil
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
