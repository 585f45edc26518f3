/// How a diff run behaves; the CLI fills it from its flags.
public struct DiffOptions: Sendable, Hashable {
    /// Rows in the first chunk (later chunks adapt to ``targetChunkSeconds``).
    public var chunkRows: Int = 1000
    /// Target time per chunk checksum, in seconds; 0 keeps ``chunkRows`` fixed.
    public var targetChunkSeconds: Double = 0.2
    /// Wait before re-checking differing rows, in seconds (data may still be moving).
    public var recheckDelaySeconds: Double = 2
    /// Pause between chunks, in seconds, to spare the servers.
    public var pauseSeconds: Double = 0
    /// Read both sides inside a consistent snapshot (no re-check needed then).
    public var consistentSnapshot: Bool = false
    /// Largest range whose rows are fetched and compared directly during bisection. Small: a leaf's rows travel
    /// whole (twice, with the re-check), while cutting it once more costs a row of count and checksum per part.
    public var leafRows: Int = 8
    /// Rows (by the checksums' counts) of the differing leaf ranges fetched together in one query per side: the
    /// leaves of a chunk cost one round trip per batch, not one per leaf, and memory stays bounded by the batch.
    public var leafBatchRows: Int = 512
    /// Parts a differing range is cut into at each level of the bisection.
    public var splitFanout: Int = 16
    /// Once a chunk differs, the following chunks are cut into ``splitFanout`` parts up front (their checksum is a
    /// checksum per part) until this many chunks in a row are identical; 0 always checksums chunks whole.
    public var cutUpFrontUntilIdentical: Int = 4
    /// Rows per part of a chunk cut up front (at least ``splitFanout`` parts, at most 256).
    public var upFrontPartRows: Int = 512
    /// Differing ranges gathered across chunks and cut together, in one query per side per bisection level.
    public var splitBatchRanges: Int = 64
    /// Differences kept as examples in the report, per table.
    public var maxExamples: Int = 10
    /// Differences kept for repair per table; past this the report counts but repair stops with an error.
    public var maxDifferences: Int = 100_000

    public init() {}
}
