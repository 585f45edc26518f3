/// Where the next chunk of a single integer key ends, computed from the density of keys in the chunk before instead
/// of read with `ORDER BY key LIMIT 1 OFFSET n`. That query scans the chunk's rows once more, on one side, before
/// both sides' checksums can start: on MariaDB about an eighth of the diff's time on an identical table, with one
/// core idle while it runs (docs/diff.md, "Chunk bounds").
///
/// A computed bound is only ever a guess at the row count, never a correctness question: chunks are consecutive
/// ranges `(lower, upper]` and the last one is open, so every row is in exactly one chunk whatever the bounds.
/// The guess is bounded: keys are unique, so a range of `w` key values holds at most `w` rows, and a bound is
/// computed only after a chunk with at most `maximumSpread` key values per row, so the next chunk holds at most
/// `maximumSpread` times the rows planned for it, however the keys are distributed beyond.
public enum IntegerChunkBound: Sendable, Hashable {
    /// The chunk ends at this key.
    case upper(KeyValue)
    /// The chunk is the last one: it covers everything above its lower bound.
    case open

    /// The bound of the chunk starting after `lower`, or nil when it must be read from the rows: no finished chunk
    /// with both bounds yet, a sparse or empty one, a composite or non-integer key, or arithmetic that overflows.
    ///
    /// - Parameters:
    ///   - previous: the chunk just compared, its bounds and the rows counted in it (the fuller side).
    ///   - plannedRows: the rows wanted in the next chunk.
    ///   - lastKey: the largest key on either side when the comparison started; at or beyond it the chunk is open.
    public static func next(
        after lower: KeyValue?, previous: (lower: KeyValue?, upper: KeyValue?, rows: Int)?, plannedRows: Int,
        lastKey: Int?, maximumSpread: Int = 4
    ) -> IntegerChunkBound? {
        guard let previous, let lastKey, plannedRows > 0, previous.rows > 0,
            let low = single(lower), let previousLow = single(previous.lower), let previousHigh = single(previous.upper),
            low == previousHigh
        else { return nil }
        let (width, overflow) = previousHigh.subtractingReportingOverflow(previousLow)
        let (limit, limitOverflow) = previous.rows.multipliedReportingOverflow(by: max(1, maximumSpread))
        guard !overflow, !limitOverflow, width > 0, width <= limit else { return nil }
        // plannedRows × width / rows, rounded up, without overflowing on the way.
        let (product, productOverflow) = plannedRows.multipliedReportingOverflow(by: width)
        guard !productOverflow else { return nil }
        let nextWidth = max(1, (product + previous.rows - 1) / previous.rows)
        let (upper, upperOverflow) = low.addingReportingOverflow(nextWidth)
        if upperOverflow || upper >= lastKey { return .open }
        return .upper([String(upper)])
    }

    private static func single(_ key: KeyValue?) -> Int? {
        guard let key, key.count == 1 else { return nil }
        return Int(key[0])
    }
}
