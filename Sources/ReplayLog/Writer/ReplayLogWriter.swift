import Foundation
import Logging

/// The durable, group-committed writer of the replay log. One per log directory, shared by all connections.
///
/// All file I/O runs on the writer's own thread (never on an event loop). `append` completes after the fsync that
/// covers the record (sync) or once buffered (async). On a write error or a full disk the writer stops mirroring
/// instead of blocking the primary: appends then fail fast with `ReplayLogError.Code.mirroringStopped`, which the
/// proxy treats as "let the client's OK through", and `status` says a resync is needed.
public final class ReplayLogWriter: @unchecked Sendable {
    /// Configuration of a writer.
    public struct Configuration: Sendable {
        /// When an append is acknowledged.
        public enum Durability: Sendable, Hashable {
            /// After fsync (group commit).
            case sync
            /// Once buffered; written and fsynced every `flushInterval`.
            case async(flushInterval: Duration)
        }

        public var directory: String
        public var durability: Durability
        /// A new segment starts once the current one reaches this size.
        public var segmentSize: Int
        public var retention: RetentionPolicy

        public init(
            directory: String, durability: Durability = .sync, segmentSize: Int = 64 << 20,
            retention: RetentionPolicy = RetentionPolicy()
        ) {
            self.directory = directory
            self.durability = durability
            self.segmentSize = segmentSize
            self.retention = retention
        }
    }

    /// A snapshot of the writer's state.
    public struct Status: Sendable, Hashable {
        /// The last LSN handed out.
        public var lastLSN: LSN
        /// Why mirroring stopped, when it did: the mirror needs a resync.
        public var mirroringStoppedReason: String?
    }

    /// Marker file written when mirroring stops, so status tools and restarts see that a resync is needed.
    public static let resyncMarkerName = "RESYNC_NEEDED"

    public typealias Completion = @Sendable (Result<LSN, ReplayLogError>) -> Void
    typealias Machine = GroupCommitStateMachine<Completion>

    public let configuration: Configuration
    private let logger: Logger
    private let condition = NSCondition()
    private var machine: Machine
    private var ioQueue: [Machine.Action] = []
    private var segment: PosixFile
    private var segmentSize: Int
    private var encodeBuffer: [UInt8] = []
    private var thread: Thread?
    private let finished = NSCondition()
    private var isFinished = false

    /// Opens (or creates) the log in `configuration.directory`, recovering its last segment: a torn tail is cut and
    /// logged; a corrupt record followed by valid ones makes `open` fail.
    public init(configuration: Configuration, logger: Logger) throws(ReplayLogError) {
        self.configuration = configuration
        self.logger = logger
        let directory = configuration.directory
        if mkdir(directory, 0o755) != 0 && errno != EEXIST { throw .io("mkdir", path: directory, errno: errno) }
        let (file, size, nextLSN) = try Self.recover(directory: directory, logger: logger)
        segment = file
        segmentSize = size
        let durability: Machine.Durability = configuration.durability == .sync ? .sync : .async
        let marker = directory + "/" + Self.resyncMarkerName
        if access(marker, F_OK) == 0 {
            let reason = (try? String(contentsOfFile: marker, encoding: .utf8)) ?? "resync marker present"
            machine = Machine(stoppedBecause: reason, nextLSN: nextLSN, durability: durability)
            logger.warning("replay log starts with mirroring stopped", metadata: ["reason": "\(reason)"])
        } else {
            machine = Machine(nextLSN: nextLSN, durability: durability)
        }
        let thread = Thread { [self] in self.runIOLoop() }
        thread.name = "shadowgate-replay-writer"
        self.thread = thread
        thread.start()
    }

    /// Opens the newest segment for appending after cutting a torn tail; creates the first segment if none.
    private static func recover(directory: String, logger: Logger) throws(ReplayLogError) -> (PosixFile, Int, LSN) {
        let segments = try SegmentFile.list(in: directory)
        guard let last = segments.last else {
            let file = try createSegment(directory: directory, firstLSN: 1)
            return (file, SegmentFile.headerSize, 1)
        }
        if last.size < SegmentFile.headerSize {
            // Crash while creating the segment: rewrite its header.
            logger.warning("replay log: rewriting incomplete segment header", metadata: ["file": "\(last.path)"])
            unlink(last.path)
            let file = try createSegment(directory: directory, firstLSN: last.firstLSN)
            return (file, SegmentFile.headerSize, last.firstLSN)
        }
        let scan = try SegmentScan.scan(path: last.path)
        switch scan.damage {
        case nil:
            break
        case .corruptMiddle(let offset, let problem, let next):
            throw ReplayLogError(
                .corruptMiddle,
                "\(last.path): corrupt record at offset \(offset) (LSN \(scan.lastLSN + 1)): \(problem), yet valid "
                    + "records follow at offset \(next); refusing to open. Run 'shadowgate replay verify', move the "
                    + "log aside and resync the mirror")
        case .tornTail(let offset, let problem):
            logger.warning(
                "replay log: cutting torn tail",
                metadata: [
                    "file": "\(last.path)", "offset": "\(offset)", "lsn": "\(scan.lastLSN + 1)",
                    "problem": "\(problem)",
                ])
            let file = try PosixFile.open(last.path, flags: O_WRONLY)
            try file.truncate(to: offset)
            try file.sync()
        }
        let file = try PosixFile.open(last.path, flags: O_WRONLY | O_APPEND)
        return (file, scan.validEnd, scan.lastLSN + 1)
    }

    private static func createSegment(directory: String, firstLSN: LSN) throws(ReplayLogError) -> PosixFile {
        let path = directory + "/" + SegmentFile.name(firstLSN: firstLSN)
        let file = try PosixFile.open(path, flags: O_WRONLY | O_CREAT | O_APPEND | O_EXCL)
        try file.writeAll(SegmentFile.header(firstLSN: firstLSN))
        try file.sync()
        try PosixFile.syncDirectory(directory)
        return file
    }

    // MARK: Appending

    /// Appends `record` (its `lsn` is assigned here). `completion` runs on the writer thread: an event-loop caller
    /// hops back with `eventLoop.execute`. It never blocks the caller.
    public func append(_ record: ReplayRecord, completion: @escaping Completion) {
        condition.lock()
        let wasStopped = machine.stoppedReason != nil
        let actions = machine.appendRequested(record, waiter: completion)
        let stoppedNow = wasStopped ? nil : machine.stoppedReason
        let callbacks = schedule(actions)
        condition.unlock()
        // The async buffer overflowed: the records it dropped leave a gap in the mirror.
        if let stoppedNow { writeResyncMarker(stoppedNow) }
        callbacks()
    }

    /// Appends `record` and returns its LSN once durable (sync) or buffered (async).
    public func append(_ record: ReplayRecord) async throws(ReplayLogError) -> LSN {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<LSN, ReplayLogError>, Never>) in
            append(record) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    public var status: Status {
        condition.lock()
        defer { condition.unlock() }
        return Status(lastLSN: machine.lastAssignedLSN, mirroringStoppedReason: machine.stoppedReason)
    }

    /// Stops mirroring on purpose (the proxy saw a write it cannot capture faithfully): appends fail fast with
    /// `mirroringStopped` from now on and `RESYNC_NEEDED` tells operators and later restarts why.
    public func stopMirroring(reason: String) {
        writeResyncMarker(reason)
        condition.lock()
        let callbacks = schedule(machine.failed(reason: reason))
        condition.unlock()
        callbacks()
        logger.error("replay log: mirroring stopped", metadata: ["reason": "\(reason)"])
    }

    /// Best effort (the disk may be the problem): a restart must not resume mirroring over a gap.
    private func writeResyncMarker(_ reason: String) {
        let path = configuration.directory + "/" + Self.resyncMarkerName
        if access(path, F_OK) == 0 { return }
        try? Data(reason.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// Flushes what is buffered, waits for it to be durable and closes the files. Appends after this fail.
    public func close() {
        condition.lock()
        let callbacks = schedule(machine.closeRequested())
        condition.unlock()
        callbacks()
        finished.lock()
        while !isFinished { finished.wait() }
        finished.unlock()
    }

    /// Queues I/O actions for the writer thread (caller holds `condition`) and returns the completions to run once
    /// the lock is released, so user callbacks never run under our lock.
    private func schedule(_ actions: [Machine.Action]) -> () -> Void {
        var acknowledgements: [(Completion, LSN)] = []
        var failures: [([Completion], ReplayLogError)] = []
        for action in actions {
            switch action {
            case .write, .fsync, .close:
                ioQueue.append(action)
                condition.signal()
            case .acknowledge(let done):
                acknowledgements += done
            case .fail(let waiters, let error):
                failures.append((waiters, error))
            }
        }
        if acknowledgements.isEmpty && failures.isEmpty { return {} }
        return {
            for (waiter, lsn) in acknowledgements { waiter(.success(lsn)) }
            for (waiters, error) in failures { for waiter in waiters { waiter(.failure(error)) } }
        }
    }

    // MARK: The I/O thread

    private func runIOLoop() {
        var flushInterval: Double?
        if case .async(let interval) = configuration.durability {
            let (seconds, attoseconds) = interval.components
            flushInterval = Double(seconds) + Double(attoseconds) / 1e18
        }
        var nextFlush = Date().addingTimeInterval(flushInterval ?? 0)
        loop: while true {
            condition.lock()
            while ioQueue.isEmpty {
                if let interval = flushInterval {
                    if !condition.wait(until: nextFlush) || Date() >= nextFlush {
                        nextFlush = Date().addingTimeInterval(interval)
                        let actions = machine.flushTimerFired()
                        let callbacks = schedule(actions)
                        if !ioQueue.isEmpty || actions.isEmpty {
                            condition.unlock()
                            callbacks()
                            condition.lock()
                        }
                    }
                } else {
                    condition.wait()
                }
            }
            let action = ioQueue.removeFirst()
            condition.unlock()

            let event: (inout Machine) -> [Machine.Action]
            switch action {
            case .write(let records):
                do {
                    try write(records)
                    event = { $0.writeCompleted() }
                } catch {
                    writeResyncMarker("replay log write failed: \(error.message)")
                    event = { [logger] machine in
                        logger.error("replay log write failed; mirroring stopped", metadata: ["error": "\(error)"])
                        return machine.failed(reason: error.message)
                    }
                }
            case .fsync:
                do {
                    try segment.sync()
                    event = { $0.fsyncCompleted() }
                } catch {
                    writeResyncMarker("replay log fsync failed: \(error.message)")
                    event = { [logger] machine in
                        logger.error("replay log fsync failed; mirroring stopped", metadata: ["error": "\(error)"])
                        return machine.failed(reason: error.message)
                    }
                }
            case .close:
                segment.close()
                finished.lock()
                isFinished = true
                finished.broadcast()
                finished.unlock()
                break loop
            case .acknowledge, .fail:
                continue loop
            }
            condition.lock()
            let callbacks = schedule(event(&machine))
            condition.unlock()
            callbacks()
        }
    }

    /// Writes one batch, rolling to a new segment first when the current one is full.
    private func write(_ records: [ReplayRecord]) throws(ReplayLogError) {
        guard let first = records.first else { return }
        if segmentSize >= configuration.segmentSize && segmentSize > SegmentFile.headerSize {
            try roll(firstLSN: first.lsn)
        }
        encodeBuffer.removeAll(keepingCapacity: true)
        for record in records { try ReplayRecordCodec.encode(record, into: &encodeBuffer) }
        do {
            try segment.writeAll(encodeBuffer)
            segmentSize += encodeBuffer.count
        } catch {
            // A partial write leaves a torn tail; cut it so a later open does not have to.
            try? segment.truncate(to: segmentSize)
            throw error
        }
    }

    private func roll(firstLSN: LSN) throws(ReplayLogError) {
        let directory = configuration.directory
        let next = try Self.createSegment(directory: directory, firstLSN: firstLSN)
        segment.close()
        segment = next
        segmentSize = SegmentFile.headerSize
        try applyRetention()
    }

    private func applyRetention() throws(ReplayLogError) {
        let directory = configuration.directory
        let segments = try SegmentFile.list(in: directory)
        let checkpoint = (try? Checkpoint.read(directory: directory)) ?? 0
        let decision = configuration.retention.decide(
            segments: segments, checkpoint: checkpoint, now: Int64(Date().timeIntervalSince1970))
        for segment in decision.delete {
            unlink(segment.path)
            logger.info("replay log: deleted segment", metadata: ["file": "\(segment.path)"])
        }
        if decision.resyncNeeded {
            let reason = "log exceeded its hard limit of \(configuration.retention.hardLimitBytes) bytes; "
                + "unapplied segments were deleted"
            try? Data(reason.utf8).write(to: URL(fileURLWithPath: directory + "/" + Self.resyncMarkerName))
            throw ReplayLogError(.mirroringStopped, reason)
        }
    }
}
