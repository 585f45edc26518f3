/// Adapts the number of rows per chunk so each checksum query takes about a target time (pt-table-checksum's
/// approach): the next size is the observed rows-per-second times the target, smoothed against the previous
/// rate so one slow query does not collapse the size, and clamped to a range and to doubling per step.
public struct ChunkSizer: Sendable, Hashable {
    /// Rows to put in the next chunk.
    public private(set) var rows: Int
    /// Target time per chunk in seconds; zero keeps the size fixed.
    public let targetSeconds: Double
    public let minimumRows: Int
    public let maximumRows: Int
    private var rowsPerSecond: Double?

    public init(initialRows: Int, targetSeconds: Double, minimumRows: Int = 100, maximumRows: Int = 1_000_000) {
        self.minimumRows = max(1, min(minimumRows, initialRows))
        self.maximumRows = max(maximumRows, initialRows)
        self.rows = max(1, initialRows)
        self.targetSeconds = targetSeconds
    }

    /// Records that a chunk of `rows` rows took `seconds`, and picks the next size.
    public mutating func record(rows chunkRows: Int, seconds: Double) {
        guard targetSeconds > 0, chunkRows > 0 else { return }
        let observed = Double(chunkRows) / max(seconds, 0.000_1)
        let rate = rowsPerSecond.map { 0.75 * $0 + 0.25 * observed } ?? observed
        rowsPerSecond = rate
        let wanted = Int((rate * targetSeconds).rounded())
        rows = min(max(wanted, minimumRows), maximumRows, rows * 2)
        rows = max(rows, 1)
    }
}
