/// Decides, chunk by chunk, whether a chunk is checksummed whole or already cut into parts (one grouped query per
/// side returning a checksum per part). Cut up front, a differing chunk's first bisection level costs nothing
/// extra; whole, an identical chunk skips the grouping (about a fifth more server time per row) and the cut points.
/// So cutting starts after a chunk differs and stops after a run of identical chunks: an identical table never
/// pays for it, and scattered differences that touch most chunks pay only the grouping instead of re-reading every
/// differing chunk (docs/diff.md).
public struct ChunkSplitting: Sendable, Hashable {
    /// Whether the next chunk is cut up front.
    public private(set) var cutsUpFront = false
    /// Identical chunks in a row after which cutting stops; 0 never cuts up front.
    public let identicalRunToStop: Int
    private var identicalRun = 0

    public init(identicalRunToStop: Int) {
        self.identicalRunToStop = max(0, identicalRunToStop)
    }

    /// Records whether the chunk just compared differed.
    public mutating func record(differed: Bool) {
        guard identicalRunToStop > 0 else { return }
        if differed {
            cutsUpFront = true
            identicalRun = 0
        } else if cutsUpFront {
            identicalRun += 1
            if identicalRun >= identicalRunToStop {
                cutsUpFront = false
                identicalRun = 0
            }
        }
    }
}

/// Cut points computed from the bounds alone, for a range of a single integer key whose keys are dense enough:
/// `parts` equal slices of the value range `(lower, upper]`. Any cut points are correct for bisection (the parts
/// only need to cover the range); equal slices of the values are close to equal slices of the rows when the keys
/// are dense, and cost no query. Sparse ranges (more than `maximumSpread` key values per row) get nil: their cut
/// points are read from the rows, so a cluster of keys in a wide range is not cut into mostly empty parts.
public enum IntegerCuts {
    public static func cuts(lower: KeyValue?, upper: KeyValue?, rows: Int, parts: Int, maximumSpread: Int = 4) -> [KeyValue]? {
        guard let lower, let upper, lower.count == 1, upper.count == 1, let low = Int(lower[0]), let high = Int(upper[0]),
            rows > 0, parts > 1
        else { return nil }
        let (width, overflow) = high.subtractingReportingOverflow(low)
        let (limit, limitOverflow) = rows.multipliedReportingOverflow(by: max(1, maximumSpread))
        guard !overflow, !limitOverflow, width > 0, width <= limit else { return nil }
        let step = max(1, (width + parts - 1) / parts)
        return stride(from: low + step, to: high, by: step).map { [String($0)] }
    }
}

/// How many parts a differing range is cut into. A level costs a round trip per batch of ranges and returns a row
/// (count, checksum: ~45 bytes) per part; a leaf costs its rows fetched whole on both sides (~250 bytes a row, twice
/// with the re-check). So a range is cut into `fanout` parts, and a small one into parts of about half a leaf, so
/// scattered differences end in leaves of a few rows; a chunk cut up front gets parts of about `partRows` rows (a
/// scattered difference then costs one re-read of about `partRows` rows, not of a sixteenth of the chunk), at most
/// ``maximumParts`` of them so the rows returned per chunk stay bounded.
public enum SplitFanout {
    public static let maximumParts = 256

    /// Parts for a differing range of `rows` rows (on its fuller side).
    public static func parts(rows: Int, leafRows: Int, fanout: Int) -> Int {
        let halfLeaf = max(1, leafRows / 2)
        return min(max(2, fanout), max(2, (rows + halfLeaf - 1) / halfLeaf))
    }

    /// Parts for a chunk of `rows` rows cut up front.
    public static func upFront(rows: Int, partRows: Int, fanout: Int) -> Int {
        let wanted = (max(0, rows) + max(1, partRows) - 1) / max(1, partRows)
        return min(maximumParts, max(max(2, fanout), wanted))
    }
}
