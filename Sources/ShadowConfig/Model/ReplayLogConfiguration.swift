/// Where the durable log of dual-write statements lives and how hard each append is pushed to disk.
public struct ReplayLogConfiguration: Sendable, Hashable {
    /// When an acknowledged write is considered safe.
    public enum Durability: String, Sendable, Hashable, CaseIterable {
        /// The client is acknowledged only after the record is appended and fsynced (group commit).
        case sync
        /// The client is acknowledged after the append; fsync happens in the background. A crash can lose
        /// the last moments of writes on the mirror (never on the primary).
        case async
    }

    /// Which segments may be deleted.
    public struct Retention: Sendable, Hashable {
        /// Fully applied segments beyond this total size are deleted, oldest first. Default 1 GiB.
        public var maximumBytes: Int
        /// Fully applied segments older than this are deleted. Default 7 days.
        public var maximumAgeSeconds: Double
        /// Above this size even unapplied segments go and the mirror needs a resync. Default 16 GiB.
        public var hardLimitBytes: Int

        public init(maximumBytes: Int = 1 << 30, maximumAgeSeconds: Double = 7 * 24 * 3600, hardLimitBytes: Int = 16 << 30) {
            self.maximumBytes = maximumBytes
            self.maximumAgeSeconds = maximumAgeSeconds
            self.hardLimitBytes = hardLimitBytes
        }
    }

    /// The directory holding segment files. Relative paths are resolved against the configuration file's folder.
    public var directory: String
    /// Default: `sync` when any dual-write stream is `sync`, else `async`.
    public var durability: Durability
    /// A new segment starts once the current one reaches this size. Default 64 MiB.
    public var segmentSize: Int
    /// How many fdatasyncs of the log may run at once (sync durability): a record written while one runs gets its own
    /// sync at once instead of waiting for it. 1 is classic group commit. Default 2.
    public var concurrentSyncs: Int
    /// Most bytes of bulk data one captured statement may carry into the log — PostgreSQL `COPY … FROM STDIN` rows,
    /// MySQL `LOAD DATA LOCAL INFILE` files — held in memory until the server confirms the statement; a larger one
    /// in a mirrored lane fails on the primary. Default 16 MiB.
    public var maxCopyBytes: Int = Self.defaultMaxCopyBytes
    public static let defaultMaxCopyBytes = 16 << 20
    public var retention: Retention

    public init(
        directory: String, durability: Durability = .sync, segmentSize: Int = 64 << 20, concurrentSyncs: Int = 2,
        retention: Retention = Retention()
    ) {
        self.directory = directory
        self.durability = durability
        self.segmentSize = segmentSize
        self.concurrentSyncs = concurrentSyncs
        self.retention = retention
    }
}
