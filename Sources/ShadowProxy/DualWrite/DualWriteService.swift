import Foundation
import Logging
import Metrics
import NIOConcurrencyHelpers
import ReplayLog
import ServiceLifecycle
import ShadowConfig

/// Owns the dual-write machinery of a process: one replay-log writer and one applier per configured stream, each
/// in its own subdirectory `<replay_log.dir>/<lane>@<listener>` (one log per mirror, so each applier has its own
/// checkpoint). Run it in the service group *before* the proxy server: on graceful shutdown the group stops
/// services in reverse order, so the listeners drain first and the writers flush and close last.
public final class DualWriteService: Service, Sendable {
    public let streams: [DualWriteStream]
    /// Most bytes of `COPY … FROM STDIN` data one captured statement may carry (`replay_log.max_copy_bytes`).
    public let maxCopyBytes: Int
    private let logger: Logger
    private let metricsInterval: Duration
    private let started = NIOLockedValueBox(false)

    /// Opens every stream's log (recovering a torn tail) and prepares its applier; does not start applying.
    /// `baseDirectory` resolves a relative `replay_log.dir` (the configuration file's folder).
    public init(
        configuration: ShadowgateConfiguration, baseDirectory: String? = nil, logger: Logger,
        metricsInterval: Duration = .seconds(1),
        connect: (@Sendable (MirrorConnectionParameters) throws(MirrorFailure) -> any MirrorSession)? = nil
    ) throws {
        self.logger = logger
        self.metricsInterval = metricsInterval
        maxCopyBytes = configuration.replayLog?.maxCopyBytes ?? ReplayLogConfiguration.defaultMaxCopyBytes
        guard let log = configuration.replayLog, !configuration.dualWrites.isEmpty else {
            streams = []
            return
        }
        var root = log.directory
        if !root.hasPrefix("/"), let baseDirectory, !baseDirectory.isEmpty { root = baseDirectory + "/" + root }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let flushInterval = configuration.dualWrites.map(\.flushInterval).min() ?? .milliseconds(10)
        var streams: [DualWriteStream] = []
        for stream in configuration.dualWrites {
            guard let listener = configuration.listeners.first(where: { $0.name == stream.listener }) else { continue }
            let dialect: ReplayDialect = listener.wireProtocol == .mysql ? .mysql : .postgres
            let directory = root + "/" + DualWriteStream.target(lane: stream.lane, listener: stream.listener)
            let writer = try ReplayLogWriter(
                configuration: ReplayLogWriter.Configuration(
                    directory: directory,
                    durability: log.durability == .sync ? .sync : .async(flushInterval: flushInterval),
                    segmentSize: log.segmentSize,
                    retention: RetentionPolicy(
                        maximumBytes: log.retention.maximumBytes,
                        maximumAgeSeconds: Int64(log.retention.maximumAgeSeconds),
                        hardLimitBytes: log.retention.hardLimitBytes),
                    concurrentSyncs: log.concurrentSyncs),
                logger: logger)
            let mirror = MirrorConnectionParameters(
                host: stream.mirror.backend.host, port: stream.mirror.backend.port, user: stream.mirror.user,
                password: stream.mirror.password, database: stream.mirror.database, dialect: dialect,
                progressTable: MirrorConnectionParameters.defaultProgressTable)
            let applierConfiguration = ReplayApplier.Configuration(directory: directory, mirror: mirror)
            let applier =
                if let connect {
                    try ReplayApplier(configuration: applierConfiguration, logger: logger, connect: connect)
                } else {
                    try ReplayApplier(configuration: applierConfiguration, logger: logger)
                }
            streams.append(
                DualWriteStream(
                    configuration: stream, dialect: dialect, directory: directory, writer: writer, applier: applier,
                    logger: logger))
        }
        self.streams = streams
    }

    /// The stream mirroring `lane` on `listener`, if that lane dual-writes there.
    public func stream(lane: String, listener: String) -> DualWriteStream? {
        streams.first { $0.configuration.lane == lane && $0.configuration.listener == listener }
    }

    public var statuses: [DualWriteStatus] { streams.map(\.status) }

    /// Starts every applier on its own thread (idempotent). `run()` calls it; callers that do not run the service in
    /// a service group call it directly.
    public func startAppliers() {
        let first = started.withLockedValue { started in
            defer { started = true }
            return !started
        }
        guard first else { return }
        for stream in streams { stream.applier.start() }
        logger.info("dual-write running", metadata: ["streams": "\(streams.map(\.target))"])
    }

    /// Starts the appliers and publishes metrics until graceful shutdown; then stops the appliers and closes the
    /// writers (flushing what is buffered).
    public func run() async throws {
        startAppliers()
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                publishMetrics()
                try? await Task.sleep(for: metricsInterval)
            }
        } onGracefulShutdown: {}
        close()
    }

    /// Stops the appliers and closes the writers. Idempotent enough for tests: closing twice is harmless.
    public func close() {
        for stream in streams { stream.applier.stop() }
        for stream in streams { stream.writer.close() }
        publishMetrics()
    }

    private func publishMetrics() {
        for status in statuses {
            let dimensions = [("target", status.target)]
            Gauge(label: "shadowgate_replay_log_bytes", dimensions: dimensions).record(status.logBytes)
            Gauge(label: "shadowgate_replay_lag_records", dimensions: dimensions).record(Int64(clamping: status.lagRecords))
            Gauge(label: "shadowgate_replay_lag_seconds", dimensions: dimensions).record(status.lagSeconds)
            Gauge(label: "shadowgate_replay_last_lsn", dimensions: dimensions).record(Int64(clamping: status.lastLSN))
            Gauge(label: "shadowgate_replay_syncs", dimensions: dimensions).record(Int64(clamping: status.syncs))
            Gauge(label: "shadowgate_replay_mirroring_stopped", dimensions: dimensions).record(status.mirroringStopped == nil ? 0 : 1)
            for state in ReplayApplier.State.allStates {
                Gauge(label: "shadowgate_replay_applier_state", dimensions: dimensions + [("state", state.rawValue)])
                    .record(status.applierState == state.rawValue ? 1 : 0)
            }
        }
    }
}

extension ReplayApplier.State {
    static let allStates: [ReplayApplier.State] = [.idle, .running, .waitingForMirror, .stoppedOnError, .resyncNeeded, .stopped]
}
