/// One dual-write stream: which writes are copied, into which mirror database, and whether the client waits for
/// the copy to be durable in the replay log.
///
/// A stream mirrors the writes *one lane executed on the primary* — for `base_dual_write` the base lane's own
/// statements (the "new version needs a new database" case), for `lanes.<lane>.dual_write` the lane's statements as
/// rewritten (they name the lane's shadow tables). Table names in the captured SQL are then renamed with ``tables``
/// so the mirror receives its own names. Only the statements of ``listener`` are mirrored, because a mirror speaks
/// one dialect.
public struct DualWriteConfiguration: Sendable, Hashable {
    /// When the client's OK is released.
    public enum Durability: String, Sendable, Hashable, CaseIterable {
        /// The OK is held until the record is fsynced in the replay log: nothing acknowledged is lost.
        case sync
        /// The OK goes through at once; the log is flushed every ``DualWriteConfiguration/flushIntervalSeconds``.
        case async
    }

    /// The lane whose writes are mirrored (the base lane's name for `base_dual_write`); also the record's target name.
    public var lane: String
    /// The listener whose traffic is mirrored; its protocol is the mirror's dialect.
    public var listener: String
    public var mirror: MirrorConfiguration
    /// Table names as the primary executed them → the mirror's names. Tables not listed keep their names.
    public var tables: [String: String]
    /// Table (as the primary executed it, before ``tables`` renames it) → (column → mirror column). Captured statements
    /// get these columns renamed; a statement whose columns cannot be attributed with certainty stops the stream.
    public var columns: [String: [String: String]]
    public var durability: Durability
    /// How often buffered records reach the disk in `async` mode, in seconds. Default 10 ms.
    public var flushIntervalSeconds: Double

    public init(
        lane: String, listener: String, mirror: MirrorConfiguration, tables: [String: String] = [:],
        columns: [String: [String: String]] = [:], durability: Durability = .sync, flushIntervalSeconds: Double = 0.01
    ) {
        self.lane = lane
        self.listener = listener
        self.mirror = mirror
        self.tables = tables
        self.columns = columns
        self.durability = durability
        self.flushIntervalSeconds = flushIntervalSeconds
    }

    /// ``flushIntervalSeconds`` as a `Duration`.
    public var flushInterval: Duration { .microseconds(Int64((flushIntervalSeconds * 1_000_000).rounded())) }
}

/// The server a dual-write stream copies into, and the login the applier uses there.
public struct MirrorConfiguration: Sendable, Hashable {
    public var backend: Endpoint
    /// The database the applier connects to (MySQL default database; PostgreSQL database).
    public var database: String
    public var user: String
    /// Already resolved from `password` or `password_env`.
    public var password: String

    public init(backend: Endpoint, database: String, user: String, password: String = "") {
        self.backend = backend
        self.database = database
        self.user = user
        self.password = password
    }
}
