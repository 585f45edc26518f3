#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The segment the writer appends to, zero-filled ahead of the write position so that the group commit's
/// `fdatasync` flushes data pages only.
///
/// Why: on ext4 an `fdatasync` that must also persist a larger file size (an appending write) or convert a
/// fallocated, still-unwritten extent waits for a journal commit, shared with every other metadata change on the
/// file system. Overwriting blocks that are already allocated and written (the zeros) changes no metadata, so the sync
/// is a data write plus a cache flush. The zeros are written, and made durable by the next sync, one chunk at a time,
/// so one sync per chunk pays the journal commit instead of every sync.
///
/// Readers stop at an all-zero frame header (no valid frame starts with one), so the zero-filled tail reads as the end
/// of the log. ``finish()`` cuts the tail when the segment is complete (roll, close); after a crash the writer's
/// recovery cuts it.
final class ActiveSegment {
    let file: PosixFile
    /// Offset just past the last record written.
    private(set) var end: Int
    /// The file's size: bytes up to here exist (records, then zeros).
    private(set) var allocated: Int
    /// How much is zero-filled at a time; 0: none, records extend the file.
    let chunkSize: Int

    /// Zeros for the fill, shared and never written to.
    private static let zeros = [UInt8](repeating: 0, count: 64 << 10)

    /// Takes over an open file whose valid data ends at `end`, and whose size is `allocated`; anything past `end`
    /// must be zeros.
    init(file: PosixFile, end: Int, allocated: Int, chunkSize: Int) {
        self.file = file
        self.end = end
        self.allocated = max(allocated, end)
        self.chunkSize = chunkSize <= 0 ? 0 : max(chunkSize, 4096)
    }

    /// Creates `path` with its header, durable (file and directory entry) before the first record goes in.
    static func create(directory: String, firstLSN: LSN, chunkSize: Int) throws(ReplayLogError) -> ActiveSegment {
        let path = directory + "/" + SegmentFile.name(firstLSN: firstLSN)
        let file = try PosixFile.open(path, flags: O_WRONLY | O_CREAT | O_EXCL)
        let segment = ActiveSegment(file: file, end: 0, allocated: 0, chunkSize: chunkSize)
        try segment.append(SegmentFile.header(firstLSN: firstLSN))
        try file.sync()
        try PosixFile.syncDirectory(directory)
        return segment
    }

    /// Writes `bytes` after the last record (one `pwrite`); zero-fills the next chunk first when they do not fit.
    /// Not durable until ``sync()``. On failure the zeros stay and `end` is unchanged: whatever part of `bytes` was
    /// written reads as a torn tail and is overwritten by the next append.
    func append(_ bytes: [UInt8]) throws(ReplayLogError) {
        if chunkSize > 0 && end + bytes.count > allocated { try extend(toFit: end + bytes.count) }
        try file.writeAll(bytes, at: end)
        end += bytes.count
        allocated = max(allocated, end)
    }

    /// `fdatasync`: the records written so far are durable when it returns.
    func sync() throws(ReplayLogError) {
        try file.sync()
    }

    /// Cuts the zero-filled tail and syncs: the file then ends with its last record (segment roll, close).
    func finish() throws(ReplayLogError) {
        if allocated > end {
            try file.truncate(to: end)
            allocated = end
        }
        try file.sync()
    }

    private func extend(toFit needed: Int) throws(ReplayLogError) {
        let target = (needed / chunkSize + 1) * chunkSize
        var offset = allocated
        while offset < target {
            let count = min(Self.zeros.count, target - offset)
            try file.writeAll(Self.zeros[0..<count], at: offset)
            offset += count
        }
        allocated = target
    }
}
