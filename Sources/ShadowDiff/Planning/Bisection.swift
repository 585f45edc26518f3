/// A range's row count and checksum on one side.
public struct ChunkChecksum: Sendable, Hashable {
    public var rows: Int
    /// Sum of the row hashes modulo 2^64, as decimal text.
    public var sum: String

    public init(rows: Int, sum: String) {
        self.rows = rows
        self.sum = sum
    }
}

/// Which side of a table pair.
public enum Side: String, Sendable, Hashable, Codable {
    case base, shadow
}

/// What to do with a key range once both sides' checksums are known: nothing, look at its rows, or cut it in two
/// at the key found `offset` rows into the fuller side (data-diff's bisection: only small ranges are ever fetched).
public enum RangeStep: Sendable, Hashable {
    case identical
    case compareRows
    case split(side: Side, offset: Int)

    /// Decides the step for a range. `leafRows` is the largest range whose rows are fetched and compared directly.
    public static func decide(base: ChunkChecksum, shadow: ChunkChecksum, leafRows: Int) -> RangeStep {
        if base == shadow { return .identical }
        let fuller: Side = base.rows >= shadow.rows ? .base : .shadow
        let rows = max(base.rows, shadow.rows)
        if rows <= max(1, leafRows) { return .compareRows }
        // The key at offset rows/2 - 1 leaves rows/2 rows at or below it and the rest above: both halves are
        // non-empty on the fuller side and strictly smaller, so bisection always terminates.
        return .split(side: fuller, offset: rows / 2 - 1)
    }
}
