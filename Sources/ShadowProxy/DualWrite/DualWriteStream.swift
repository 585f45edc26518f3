import Logging
import Metrics
import NIOCore
import ReplayLog
import ShadowConfig
import ShadowSQL

/// One live dual-write stream: the configuration, its replay log writer and its applier. Proxies ask the
/// ``DualWriteService`` for the stream of a connection's lane and listener, capture with
/// ``makeCaptureMachine(connectionID:)``, rename with ``mirrorSQL(_:)``, and ``append(_:on:)`` each record.
public final class DualWriteStream: Sendable {
    /// What became of an append, as the proxy needs it to release (or not) the client's OK.
    public enum AppendOutcome: Sendable, Hashable {
        /// The record is in the log (fsynced in sync mode).
        case logged(LSN)
        /// The writer stopped mirroring earlier (disk full, write error, hard limit): let the OK through; the status
        /// says the mirror needs a resync.
        case mirroringStopped(String)
    }

    public let configuration: DualWriteConfiguration
    /// The record target and log subdirectory: `<lane>@<listener>`.
    public let target: String
    public let dialect: ReplayDialect
    /// The folder of this stream's segments and checkpoint.
    public let directory: String
    let writer: ReplayLogWriter
    let applier: ReplayApplier
    private let renamer: MirrorStatementRenamer
    private let flagged: Counter
    private let logger: Logger

    init(
        configuration: DualWriteConfiguration, dialect: ReplayDialect, directory: String, writer: ReplayLogWriter,
        applier: ReplayApplier, logger: Logger
    ) {
        self.configuration = configuration
        self.target = Self.target(lane: configuration.lane, listener: configuration.listener)
        self.dialect = dialect
        self.directory = directory
        self.writer = writer
        self.applier = applier
        self.logger = logger
        self.renamer = MirrorStatementRenamer(configuration: configuration, dialect: dialect == .mysql ? .mysql : .postgres)
        self.flagged = Counter(label: "shadowgate_replay_flagged_records_total", dimensions: [("target", target)])
    }

    /// The record target (and subdirectory name) of a lane on a listener.
    public static func target(lane: String, listener: String) -> String { "\(lane)@\(listener)" }

    /// Whether a proxy connection must hold the client's OK until the record is durable.
    public var isSync: Bool { configuration.durability == .sync }

    /// A fresh per-connection capture machine for this stream.
    public func makeCaptureMachine(connectionID: UInt64) -> TransactionCaptureStateMachine {
        TransactionCaptureStateMachine(dialect: dialect, target: target, connectionID: connectionID)
    }

    /// The statement with column and table names as the mirror spells them (`columns` and `tables` maps), or why
    /// it cannot be translated (then the caller stops this stream rather than mirror it wrongly).
    public func mirrorSQL(_ sql: String) -> MirrorStatementRenamer.Outcome {
        renamer.rename(sql) { reason in
            logger.warning("dual-write: cannot rename tables for the mirror; mirroring as executed", metadata: ["reason": "\(reason)"])
        }
    }

    /// Stops this stream's mirroring (the status then says a resync is needed); the primary path is unaffected.
    public func stopMirroring(reason: String) {
        writer.stopMirroring(reason: reason)
    }

    /// Appends `record`; `completion` runs on a writer thread (sync) or right here (async).
    public func append(_ record: ReplayRecord, completion: @escaping @Sendable (AppendOutcome) -> Void) {
        if record.flags.contains(.nonDeterministic) { flagged.increment() }
        writer.append(record) { completion(Self.outcome($0)) }
    }

    /// Appends `record` and completes on `eventLoop` (the connection's), so handlers resume on their own thread.
    /// One closure and one hop per record: the writer thread that ran the sync succeeds the promise, which runs the
    /// callbacks on the event loop.
    public func append(_ record: ReplayRecord, on eventLoop: any EventLoop) -> EventLoopFuture<AppendOutcome> {
        if record.flags.contains(.nonDeterministic) { flagged.increment() }
        let promise = eventLoop.makePromise(of: AppendOutcome.self)
        writer.append(record) { promise.succeed(Self.outcome($0)) }
        return promise.futureResult
    }

    private static func outcome(_ result: Result<LSN, ReplayLogError>) -> AppendOutcome {
        switch result {
        case .success(let lsn): .logged(lsn)
        case .failure(let error): .mirroringStopped(error.message)
        }
    }

    /// A snapshot for the admin status and metrics.
    public var status: DualWriteStatus {
        let writerStatus = writer.status
        let applierStatus = applier.status
        let lastLSN = max(writerStatus.lastLSN, applierStatus.lastLSN)
        let segments = (try? SegmentFile.list(in: directory)) ?? []
        return DualWriteStatus(
            target: target, lane: configuration.lane, listener: configuration.listener,
            mirror: configuration.mirror.backend.description, durability: configuration.durability.rawValue,
            lastLSN: lastLSN, appliedLSN: applierStatus.checkpointLSN,
            lagRecords: lastLSN > applierStatus.checkpointLSN ? lastLSN - applierStatus.checkpointLSN : 0,
            lagSeconds: applierStatus.lagSeconds, logBytes: segments.reduce(0) { $0 + $1.size },
            applierState: applierStatus.state.rawValue, flaggedRecords: applierStatus.flaggedRecords,
            mirroringStopped: writerStatus.mirroringStoppedReason, lastError: applierStatus.lastError,
            syncs: writerStatus.syncCount)
    }
}

/// One stream's replay-log position and applier state, for `/api/status`, the status page and metrics.
public struct DualWriteStatus: Sendable, Codable, Hashable {
    public var target: String
    public var lane: String
    public var listener: String
    public var mirror: String
    public var durability: String
    /// The last LSN appended.
    public var lastLSN: UInt64
    /// The last LSN the mirror has (the applier's checkpoint).
    public var appliedLSN: UInt64
    public var lagRecords: UInt64
    public var lagSeconds: Double
    public var logBytes: Int
    /// `running`, `waiting-for-mirror`, `stopped-on-error`, `resync-needed`, …
    public var applierState: String
    public var flaggedRecords: Int
    /// Set when the writer stopped mirroring: the mirror needs a resync.
    public var mirroringStopped: String?
    public var lastError: String?
    /// fdatasyncs of the replay log since start: `lastLSN / syncs` is the group-commit batch size.
    public var syncs: UInt64 = 0
}
