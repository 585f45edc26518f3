/// Iterates records from an LSN across segments, in LSN order. `next()` returns nil when it has caught up with the
/// writer; call it again later to continue from the same place (the applier polls this way).
///
/// A bad frame at the end of the newest segment is taken as a write in progress (nil, try later); anywhere else it
/// is corruption and throws.
public final class ReplayLogReader {
    public let directory: String
    private var cursor: SegmentCursor?
    /// The next LSN to return.
    public private(set) var nextLSN: LSN

    public init(directory: String, from lsn: LSN) {
        self.directory = directory
        self.nextLSN = max(lsn, 1)
    }

    public func next() throws(ReplayLogError) -> ReplayRecord? {
        while true {
            if cursor == nil {
                guard try openSegment() else { return nil }
            }
            guard let current = cursor else { return nil }
            switch try current.next() {
            case .record(let record, _):
                if record.lsn < nextLSN { continue }
                nextLSN = record.lsn + 1
                return record
            case .end:
                guard try laterSegmentExists(after: current.firstLSN) else { return nil }
                // Re-read once: the writer may have finished this segment between our read and the listing.
                if case .record(let record, _) = try current.next() {
                    if record.lsn < nextLSN { continue }
                    nextLSN = record.lsn + 1
                    return record
                }
                cursor = nil
            case .problem(let offset, let problem):
                guard try laterSegmentExists(after: current.firstLSN) else { return nil }
                if case .record(let record, _) = try current.next() {
                    if record.lsn < nextLSN { continue }
                    nextLSN = record.lsn + 1
                    return record
                }
                throw ReplayLogError(
                    .corruptRecord,
                    "\(current.file.path): unreadable record at offset \(offset) (LSN \(nextLSN)): \(problem); "
                        + "run 'shadowgate replay verify' and resync the mirror")
            }
        }
    }

    private func laterSegmentExists(after first: LSN) throws(ReplayLogError) -> Bool {
        try SegmentFile.list(in: directory).contains { $0.firstLSN > first }
    }

    /// Opens the segment holding `nextLSN`; false when no segment has it yet.
    private func openSegment() throws(ReplayLogError) -> Bool {
        let segments = try SegmentFile.list(in: directory)
        guard let segment = segments.last(where: { $0.firstLSN <= nextLSN }) ?? segments.first else { return false }
        if segment.firstLSN > nextLSN {
            throw ReplayLogError(
                .corruptRecord,
                "LSN \(nextLSN) is no longer in '\(directory)' (oldest segment starts at \(segment.firstLSN)); "
                    + "retention deleted it: resync the mirror")
        }
        // A segment whose header is not yet written (just created) reads as not-yet-available.
        do {
            cursor = try SegmentCursor(path: segment.path)
        } catch where segment == segments.last && segment.size < SegmentFile.headerSize {
            return false
        }
        return true
    }
}
