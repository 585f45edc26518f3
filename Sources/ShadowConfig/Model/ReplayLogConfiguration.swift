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

    /// The directory holding segment files. Relative paths are resolved against the configuration file's folder.
    public var directory: String
    /// Default `sync`.
    public var durability: Durability

    public init(directory: String, durability: Durability = .sync) {
        self.directory = directory
        self.durability = durability
    }
}
