/// Which segments may be deleted: pure, so every rule is tested without files.
///
/// Fully applied segments (every record at or below the checkpoint) go once the log is over `maximumBytes` or they
/// are older than `maximumAge`. Unapplied segments are kept, unless the log exceeds `hardLimitBytes`: then the oldest
/// are deleted to get back under it and mirroring stops — the mirror has lost records and needs a resync.
public struct RetentionPolicy: Sendable, Hashable {
    /// Applied segments beyond this total size are deleted, oldest first.
    public var maximumBytes: Int
    /// Applied segments older than this many seconds are deleted.
    public var maximumAgeSeconds: Int64
    /// Above this total size even unapplied segments are deleted (and resync becomes necessary).
    public var hardLimitBytes: Int

    public init(maximumBytes: Int = 1 << 30, maximumAgeSeconds: Int64 = 7 * 24 * 3600, hardLimitBytes: Int = 16 << 30) {
        self.maximumBytes = maximumBytes
        self.maximumAgeSeconds = maximumAgeSeconds
        self.hardLimitBytes = hardLimitBytes
    }

    /// The outcome of one retention pass.
    public struct Decision: Sendable, Hashable {
        /// Segments to delete, oldest first.
        public var delete: [SegmentInfo]
        /// True when an unapplied segment is among them.
        public var resyncNeeded: Bool
    }

    /// Decides over `segments` (oldest first; the last is the active one and is never deleted).
    public func decide(segments: [SegmentInfo], checkpoint: LSN, now: Int64) -> Decision {
        var total = segments.reduce(0) { $0 + $1.size }
        var delete: [SegmentInfo] = []
        var resyncNeeded = false
        for (index, segment) in segments.enumerated().dropLast() {
            let nextFirst = segments[index + 1].firstLSN
            let applied = nextFirst == 0 || nextFirst - 1 <= checkpoint
            let expired = now - segment.modifiedAt > maximumAgeSeconds
            if applied && (total > maximumBytes || expired) {
                delete.append(segment)
                total -= segment.size
            } else if total > hardLimitBytes {
                delete.append(segment)
                total -= segment.size
                if !applied { resyncNeeded = true }
            } else {
                // Segments are in LSN order: once one is kept, deleting a later one would leave a hole.
                break
            }
        }
        return Decision(delete: delete, resyncNeeded: resyncNeeded)
    }
}
