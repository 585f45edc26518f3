import Foundation
import Logging

/// Replays the log into a mirror in LSN order, advancing the checkpoint.
///
/// Records that are plain row writes (every statement an `INSERT`, `UPDATE`, `DELETE` or `REPLACE`) and already in the
/// log are applied in batches, one mirror transaction per batch (the progress table stores the batch's last LSN in
/// it): a mirror that commits durably then syncs once per batch instead of once per record, and a lagging applier
/// catches up instead of falling further behind. Any other record (DDL, which MySQL commits implicitly, and whatever
/// cannot be judged) is applied alone. A batch the mirror rejects is rolled back and applied again record by record,
/// so the rejected record is the one stopped on or dead-lettered.
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
        /// Most records applied in one mirror transaction; 1 applies record by record.
        public var batchRecords: Int

        public init(
            directory: String, mirror: MirrorConnectionParameters, onRejected: RejectionPolicy = .stop,
            initialBackoff: Duration = .milliseconds(100), maximumBackoff: Duration = .seconds(10),
            pollInterval: Duration = .milliseconds(50), checkpointEvery: Int = 256, batchRecords: Int = 64
        ) {
            self.directory = directory
            self.mirror = mirror
            self.onRejected = onRejected
            self.initialBackoff = initialBackoff
            self.maximumBackoff = maximumBackoff
            self.pollInterval = pollInterval
            self.checkpointEvery = checkpointEvery
            self.batchRecords = max(1, batchRecords)
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
        /// Applies `records` in one mirror transaction, retrying with backoff while the mirror is unavailable.
        func applyRetrying(_ records: [ReplayRecord]) -> AttemptOutcome {
            while true {
                if isStopRequested { return .stopRequested }
                do {
                    if session == nil {
                        let opened = try connect(configuration.mirror)
                        session = opened
                        mirrorApplied = try opened.appliedLSN(target: records[0].target)
                    }
                    // The mirror committed these records before a crash kept the checkpoint from saying so.
                    let missing = records.filter { $0.lsn > mirrorApplied }
                    if !missing.isEmpty { try session?.apply(missing) }
                    backoff = configuration.initialBackoff
                    return .applied
                } catch {
                    switch error {
                    case .unavailable(let message):
                        session?.close()
                        session = nil
                        update {
                            $0.state = .waitingForMirror
                            $0.lastError = "LSN \(records[0].lsn): \(message)"
                        }
                        logger.warning(
                            "mirror unavailable; retrying",
                            metadata: ["lsn": "\(records[0].lsn)", "error": "\(message)", "backoff": "\(backoff)"])
                        sleep(backoff)
                        backoff = min(backoff * 2, configuration.maximumBackoff)
                    case .rejected:
                        return .rejected(error)
                    }
                }
            }
        }
        /// A record the mirror rejected: dead-lettered when configured (nil), else the message to stop with.
        func reject(_ record: ReplayRecord, _ error: MirrorFailure) -> String? {
            let description = "LSN \(record.lsn) (connection \(record.connectionID)): \(error)"
            guard configuration.onRejected == .deadLetter else { return description }
            do {
                try deadLetter(record)
            } catch {
                return "\(description); dead-letter write failed: \(error.message)"
            }
            logger.error("record dead-lettered", metadata: ["lsn": "\(record.lsn)", "error": "\(error)"])
            update {
                $0.deadLettered += 1
                $0.lastError = description
            }
            return nil
        }
        /// Moves past applied (or dead-lettered) records; nil, or the message to stop with.
        func advance(over records: [ReplayRecord]) -> String? {
            guard let last = records.last else { return nil }
            applied = last.lsn
            appliedSinceCheckpoint += records.count
            let flagged = records.filter { $0.flags.contains(.nonDeterministic) }.count
            update {
                $0.state = .running
                $0.flaggedRecords += flagged
            }
            guard appliedSinceCheckpoint >= configuration.checkpointEvery else { return nil }
            do {
                try saveCheckpoint(applied)
                appliedSinceCheckpoint = 0
                return nil
            } catch {
                return "writing the checkpoint at LSN \(applied): \(error.message)"
            }
        }
        /// A record read while gathering a batch that could not join it: the first of the next batch.
        var carried: ReplayRecord?
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
            // The next batch: records already in the log, up to the limit, while they can share a transaction.
            var batch: [ReplayRecord] = []
            do {
                let next: ReplayRecord? = if let carried { carried } else { try reader.next() }
                guard let first = next else {
                    if appliedSinceCheckpoint > 0 {
                        try saveCheckpoint(applied)
                        appliedSinceCheckpoint = 0
                    }
                    update { $0.lagSeconds = 0 }
                    if untilCaughtUp { break }
                    sleep(configuration.pollInterval)
                    continue
                }
                carried = nil
                batch.append(first)
                if Self.isBatchable(first) {
                    while batch.count < configuration.batchRecords, let next = try reader.next() {
                        guard Self.isBatchable(next) else {
                            carried = next
                            break
                        }
                        batch.append(next)
                    }
                }
            } catch {
                // Apply what was read first; the reader stays at the bad record and reports it again next pass.
                guard !batch.isEmpty else { return stopOnErrorFlushing("reading the log at LSN \(reader.nextLSN): \(error.message)") }
            }
            update {
                $0.lastLSN = max($0.lastLSN, batch[batch.count - 1].lsn)
                $0.lagSeconds = max(0, Date().timeIntervalSince1970 - Double(batch[0].timestampMicros) / 1e6)
            }
            switch applyRetrying(batch) {
            case .applied:
                if let failure = advance(over: batch) { return stopOnErrorFlushing(failure) }
            case .stopRequested:
                return finish()
            case .rejected(let error) where batch.count > 1:
                logger.debug("batch rejected; applying its records one by one", metadata: ["error": "\(error)"])
                for record in batch {
                    switch applyRetrying([record]) {
                    case .applied: break
                    case .stopRequested: return finish()
                    case .rejected(let error):
                        if let failure = reject(record, error) { return stopOnErrorFlushing(failure) }
                    }
                    if let failure = advance(over: [record]) { return stopOnErrorFlushing(failure) }
                }
            case .rejected(let error):
                if let failure = reject(batch[0], error) { return stopOnErrorFlushing(failure) }
                if let failure = advance(over: batch) { return stopOnErrorFlushing(failure) }
            }
        }
        return finish()
    }

    /// How one attempt to apply a batch ended.
    enum AttemptOutcome {
        case applied
        case rejected(MirrorFailure)
        case stopRequested
    }

    /// Whether a record may share a mirror transaction with others: every statement a plain row write. DDL (which
    /// MySQL commits implicitly, so a crash could leave part of a batch applied without its progress row) and
    /// anything not recognised at a glance are applied alone.
    static func isBatchable(_ record: ReplayRecord) -> Bool {
        !record.statements.isEmpty && record.statements.allSatisfy { startsWithRowWrite($0.sql) }
    }

    /// Whether the first keyword, after blanks and plain comments (a lane hint or an sqlcommenter tag may come
    /// first), is `INSERT`, `UPDATE`, `DELETE` or `REPLACE`. An executable comment (`/*! … */`, `/*M! … */`) is
    /// code, so a statement starting with one is not recognised.
    static func startsWithRowWrite(_ sql: String) -> Bool {
        let bytes = Array(sql.utf8)
        var start = 0
        while start < bytes.count {
            let byte = bytes[start]
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                start += 1
            } else if byte == 0x2F, start + 1 < bytes.count, bytes[start + 1] == 0x2A {
                let third = start + 2 < bytes.count ? bytes[start + 2] : 0
                if third == 0x21 || (third == 0x4D && start + 3 < bytes.count && bytes[start + 3] == 0x21) { return false }
                guard let end = (start + 2..<max(start + 2, bytes.count - 1)).first(where: { bytes[$0] == 0x2A && bytes[$0 + 1] == 0x2F })
                else { return false }
                start = end + 2
            } else if byte == 0x23 || (byte == 0x2D && start + 1 < bytes.count && bytes[start + 1] == 0x2D) {
                while start < bytes.count && bytes[start] != 0x0A { start += 1 }
            } else {
                break
            }
        }
        var word: [UInt8] = []
        for byte in bytes[start...] {
            let lower = byte | 0x20
            if (0x61...0x7A).contains(lower) {
                word.append(lower)
                if word.count > 7 { return false }
                continue
            }
            // The keyword must end here: `INSERTED_ROWS` is not `INSERT`.
            if byte == 0x5F || (0x30...0x39).contains(byte) || byte >= 0x80 { return false }
            break
        }
        switch String(decoding: word, as: UTF8.self) {
        case "insert", "update", "delete", "replace": return true
        default: return false
        }
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
