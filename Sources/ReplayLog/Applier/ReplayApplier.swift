import Foundation
import Logging

/// Replays the log into a mirror in LSN order, one mirror transaction per record, advancing the checkpoint.
///
/// Runs on its own thread (`start`) or on the caller's (`runUntilCaughtUp`, for the CLI); never on an event loop.
/// While the mirror is unreachable it retries the same record with exponential backoff. A record the mirror
/// rejects stops the applier with a status naming the LSN and the error, unless `deadLetter` is configured: then the
/// record is appended to `dead-letter.log` (same frame format) and the applier carries on.
public final class ReplayApplier: @unchecked Sendable {
    /// What to do with a record the mirror rejects.
    public enum RejectionPolicy: Sendable, Hashable {
        /// Stop and wait for an operator (the default: the mirror must not silently diverge).
        case stop
        /// Append it to `<dir>/dead-letter.log` and continue.
        case deadLetter
    }

    public struct Configuration: Sendable {
        public var directory: String
        public var mirror: MirrorConnectionParameters
        public var onRejected: RejectionPolicy
        /// First retry delay while the mirror is down; doubles up to `maximumBackoff`.
        public var initialBackoff: Duration
        public var maximumBackoff: Duration
        /// How often to look for new records once caught up.
        public var pollInterval: Duration
        /// Checkpoint at least every this many records (and whenever caught up).
        public var checkpointEvery: Int

        public init(
            directory: String, mirror: MirrorConnectionParameters, onRejected: RejectionPolicy = .stop,
            initialBackoff: Duration = .milliseconds(100), maximumBackoff: Duration = .seconds(10),
            pollInterval: Duration = .milliseconds(50), checkpointEvery: Int = 256
        ) {
            self.directory = directory
            self.mirror = mirror
            self.onRejected = onRejected
            self.initialBackoff = initialBackoff
            self.maximumBackoff = maximumBackoff
            self.pollInterval = pollInterval
            self.checkpointEvery = checkpointEvery
        }
    }

    /// The applier's lifecycle state.
    public enum State: String, Sendable, Hashable {
        case idle = "idle"
        case running = "running"
        case waitingForMirror = "waiting-for-mirror"
        case stoppedOnError = "stopped-on-error"
        case resyncNeeded = "resync-needed"
        case stopped = "stopped"
    }

    /// A snapshot for status pages and the CLI.
    public struct Status: Sendable, Hashable {
        public var state: State
        /// The last LSN durably applied.
        public var checkpointLSN: LSN
        /// The highest LSN seen in the log.
        public var lastLSN: LSN
        public var lagRecords: UInt64 { lastLSN > checkpointLSN ? lastLSN - checkpointLSN : 0 }
        /// Age of the oldest unapplied record, 0 when caught up.
        public var lagSeconds: Double
        /// Records applied so far that carry `nonDeterministic` (the mirror may differ for them).
        public var flaggedRecords: Int
        /// Records written to the dead-letter file.
        public var deadLettered: Int
        /// The last error, naming the LSN.
        public var lastError: String?
    }

    /// File the applier writes when it stops on an error, so `replay status` can show it; removed once it applies.
    public static let errorFileName = "APPLIER_ERROR"
    public static let deadLetterFileName = "dead-letter.log"

    public let configuration: Configuration
    private let logger: Logger
    private let connect: @Sendable (MirrorConnectionParameters) throws(MirrorFailure) -> any MirrorSession
    private let lock = NSCondition()
    private var current: Status
    private var stopRequested = false
    private var thread: Thread?
    private var finished = false

    public init(
        configuration: Configuration, logger: Logger,
        connect: @escaping @Sendable (MirrorConnectionParameters) throws(MirrorFailure) -> any MirrorSession = {
            (p) throws(MirrorFailure) in try MirrorSessions.connect(p)
        }
    ) throws(ReplayLogError) {
        self.configuration = configuration
        self.logger = logger
        self.connect = connect
        let checkpoint = try Checkpoint.read(directory: configuration.directory)
        current = Status(
            state: .idle, checkpointLSN: checkpoint, lastLSN: checkpoint, lagSeconds: 0, flaggedRecords: 0,
            deadLettered: 0, lastError: nil)
    }

    public var status: Status {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    private func update(_ change: (inout Status) -> Void) {
        lock.lock()
        change(&current)
        lock.unlock()
    }

    /// Starts applying on a dedicated thread until `stop()` or an error stops it.
    public func start() {
        let thread = Thread { [self] in
            _ = self.run(untilCaughtUp: false)
            self.lock.lock()
            self.finished = true
            self.lock.broadcast()
            self.lock.unlock()
        }
        thread.name = "shadowgate-replay-applier"
        self.thread = thread
        thread.start()
    }

    /// Asks the thread to stop after the current record and waits for it.
    public func stop() {
        lock.lock()
        stopRequested = true
        lock.broadcast()
        while thread != nil && !finished { lock.wait() }
        lock.unlock()
    }

    /// Applies on the calling thread until the log is caught up (or forever with `untilCaughtUp: false`), an error
    /// stops it, or `stop()` is called. Returns the final status.
    @discardableResult
    public func run(untilCaughtUp: Bool) -> Status {
        let directory = configuration.directory
        let reader = ReplayLogReader(directory: directory, from: status.checkpointLSN + 1)
        var session: (any MirrorSession)?
        var backoff = configuration.initialBackoff
        var appliedSinceCheckpoint = 0
        var applied = status.checkpointLSN
        /// What the mirror's progress table says it already has (0 without one); read at each (re)connect.
        var mirrorApplied: LSN = 0
        update { $0.state = .running }
        /// Records what was applied before stopping, so a restart does not replay it again.
        func flushCheckpoint() {
            if appliedSinceCheckpoint > 0, (try? saveCheckpoint(applied)) != nil { appliedSinceCheckpoint = 0 }
        }
        func stopOnErrorFlushing(_ message: String) -> Status {
            flushCheckpoint()
            return stopOnError(message)
        }
        defer {
            session?.close()
            flushCheckpoint()
        }
        while !isStopRequested {
            if FileManager.default.fileExists(atPath: directory + "/" + ReplayLogWriter.resyncMarkerName) {
                update {
                    $0.state = .resyncNeeded
                    $0.lastError = "the writer stopped mirroring (\(ReplayLogWriter.resyncMarkerName) present)"
                }
                return status
            }
            let record: ReplayRecord
            do {
                guard let next = try reader.next() else {
                    if appliedSinceCheckpoint > 0 {
                        try saveCheckpoint(applied)
                        appliedSinceCheckpoint = 0
                    }
                    update { $0.lagSeconds = 0 }
                    if untilCaughtUp { break }
                    sleep(configuration.pollInterval)
                    continue
                }
                record = next
            } catch {
                return stopOnErrorFlushing("reading the log at LSN \(reader.nextLSN): \(error.message)")
            }
            update {
                $0.lastLSN = max($0.lastLSN, record.lsn)
                $0.lagSeconds = max(0, Date().timeIntervalSince1970 - Double(record.timestampMicros) / 1e6)
            }
            // Retry this record until it applies, is rejected, or we are told to stop.
            while true {
                if isStopRequested { return finish() }
                do {
                    if session == nil {
                        let opened = try connect(configuration.mirror)
                        session = opened
                        mirrorApplied = try opened.appliedLSN(target: record.target)
                    }
                    // The mirror committed this record before a crash kept the checkpoint from saying so.
                    if record.lsn > mirrorApplied { try session?.apply(record) }
                    backoff = configuration.initialBackoff
                    break
                } catch {
                    switch error {
                    case .unavailable(let message):
                        session?.close()
                        session = nil
                        update {
                            $0.state = .waitingForMirror
                            $0.lastError = "LSN \(record.lsn): \(message)"
                        }
                        logger.warning(
                            "mirror unavailable; retrying",
                            metadata: ["lsn": "\(record.lsn)", "error": "\(message)", "backoff": "\(backoff)"])
                        sleep(backoff)
                        backoff = min(backoff * 2, configuration.maximumBackoff)
                    case .rejected:
                        let description = "LSN \(record.lsn) (connection \(record.connectionID)): \(error)"
                        guard configuration.onRejected == .deadLetter else { return stopOnErrorFlushing(description) }
                        do {
                            try deadLetter(record)
                        } catch {
                            return stopOnErrorFlushing("\(description); dead-letter write failed: \(error.message)")
                        }
                        logger.error("record dead-lettered", metadata: ["lsn": "\(record.lsn)", "error": "\(error)"])
                        update {
                            $0.deadLettered += 1
                            $0.lastError = description
                        }
                    }
                    if case .rejected = error { break }
                }
            }
            applied = record.lsn
            appliedSinceCheckpoint += 1
            update {
                $0.state = .running
                if record.flags.contains(.nonDeterministic) { $0.flaggedRecords += 1 }
            }
            if appliedSinceCheckpoint >= configuration.checkpointEvery {
                do {
                    try saveCheckpoint(applied)
                    appliedSinceCheckpoint = 0
                } catch {
                    return stopOnErrorFlushing("writing the checkpoint at LSN \(applied): \(error.message)")
                }
            }
        }
        return finish()
    }

    private var isStopRequested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopRequested
    }

    private func finish() -> Status {
        update { if $0.state == .running || $0.state == .waitingForMirror { $0.state = .stopped } }
        return status
    }

    private func saveCheckpoint(_ lsn: LSN) throws(ReplayLogError) {
        try Checkpoint.write(lsn, directory: configuration.directory)
        update { $0.checkpointLSN = lsn }
        let errorFile = configuration.directory + "/" + Self.errorFileName
        if FileManager.default.fileExists(atPath: errorFile) { try? FileManager.default.removeItem(atPath: errorFile) }
    }

    private func stopOnError(_ message: String) -> Status {
        logger.error("applier stopped", metadata: ["error": "\(message)"])
        try? Data(message.utf8).write(to: URL(fileURLWithPath: configuration.directory + "/" + Self.errorFileName))
        update {
            $0.state = .stoppedOnError
            $0.lastError = message
        }
        return status
    }

    private func deadLetter(_ record: ReplayRecord) throws(ReplayLogError) {
        let path = configuration.directory + "/" + Self.deadLetterFileName
        let file = try PosixFile.open(path, flags: O_WRONLY | O_CREAT | O_APPEND)
        try file.writeAll(try ReplayRecordCodec.encode(record))
        try file.sync()
    }

    /// Sleeps up to `duration`, waking early on `stop()`.
    private func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let deadline = Date().addingTimeInterval(Double(seconds) + Double(attoseconds) / 1e18)
        lock.lock()
        while !stopRequested && lock.wait(until: deadline) {}
        lock.unlock()
    }
}
