import Foundation
import Logging

/// The durable, group-committed writer of the replay log. One per log directory, shared by all connections.
///
/// All file I/O runs on the writer's own threads (never on an event loop): `concurrentSyncs` threads that each write
/// and sync, coordinated by ``GroupCommitStateMachine``. `append` completes after an
/// `fdatasync` that covers the record (sync) or once buffered (async). On a write error or a full disk the writer
/// stops mirroring instead of blocking the primary: appends then fail fast with
/// `ReplayLogError.Code.mirroringStopped`, which the proxy treats as "let the client's OK through", and `status` says
/// a resync is needed.
public final class ReplayLogWriter: @unchecked Sendable {
    /// Configuration of a writer.
    public struct Configuration: Sendable {
        /// When an append is acknowledged.
        public enum Durability: Sendable, Hashable {
            /// After fdatasync (group commit).
            case sync
            /// Once buffered; written and fdatasynced every `flushInterval`.
            case async(flushInterval: Duration)
        }

        public var directory: String
        public var durability: Durability
        /// A new segment starts once the current one reaches this size.
        public var segmentSize: Int
        public var retention: RetentionPolicy
        /// The active segment is zero-filled this far ahead of its records, so a sync flushes data only (see
        /// ``ActiveSegment``); 0 appends to the end of the file instead (every sync then also commits the new size).
        public var preallocationChunk: Int
        /// How many fdatasyncs may run at once: a record written while one runs gets its own sync at once instead of
        /// waiting for it to end. 1 is classic group commit.
        public var concurrentSyncs: Int

        public init(
            directory: String, durability: Durability = .sync, segmentSize: Int = 64 << 20,
            retention: RetentionPolicy = RetentionPolicy(), preallocationChunk: Int = 1 << 20, concurrentSyncs: Int = 2
        ) {
            self.directory = directory
            self.durability = durability
            self.segmentSize = segmentSize
            self.retention = retention
            self.preallocationChunk = preallocationChunk
            self.concurrentSyncs = concurrentSyncs
        }
    }

    /// A snapshot of the writer's state.
    public struct Status: Sendable, Hashable {
        /// The last LSN handed out.
        public var lastLSN: LSN
        /// Why mirroring stopped, when it did: the mirror needs a resync.
        public var mirroringStoppedReason: String?
        /// fdatasyncs started since open (records per sync = group-commit batch size).
        public var syncCount: UInt64 = 0
    }

    /// Marker file written when mirroring stops, so status tools and restarts see that a resync is needed.
    public static let resyncMarkerName = "RESYNC_NEEDED"

    public typealias Completion = @Sendable (Result<LSN, ReplayLogError>) -> Void
    typealias Machine = GroupCommitStateMachine<Completion>

    public let configuration: Configuration
    private let logger: Logger
    private let monitor = WriterMonitor()
    // Guarded by `monitor`.
    private var machine: Machine
    private var threadsRunning = 0
    /// Async mode's flush interval in seconds (nil in sync mode).
    private let flushInterval: Double?
    /// The async flush timer's next deadline (monotonic seconds).
    private var nextFlush: Double = 0
    private var segmentClosed = false
    /// Replaced by the thread at the write stage only, under the lock; syncing threads read it under the lock.
    private var segment: ActiveSegment
    /// The write stage only (one thread at a time, ordered by the lock).
    private var encodeBuffer: [UInt8] = []

    /// Opens (or creates) the log in `configuration.directory`, recovering its last segment: a torn tail is cut and
    /// logged; a corrupt record followed by valid ones makes `open` fail.
    public init(configuration: Configuration, logger: Logger) throws(ReplayLogError) {
        self.configuration = configuration
        self.logger = logger
        if case .async(let interval) = configuration.durability {
            let (seconds, attoseconds) = interval.components
            flushInterval = Double(seconds) + Double(attoseconds) / 1e18
        } else {
            flushInterval = nil
        }
        let directory = configuration.directory
        if mkdir(directory, 0o755) != 0 && errno != EEXIST { throw .io("mkdir", path: directory, errno: errno) }
        let (active, nextLSN) = try Self.recover(
            directory: directory, chunkSize: Self.chunkSize(configuration), logger: logger)
        segment = active
        let durability: Machine.Durability = configuration.durability == .sync ? .sync : .async
        let marker = directory + "/" + Self.resyncMarkerName
        if access(marker, F_OK) == 0 {
            let reason = (try? String(contentsOfFile: marker, encoding: .utf8)) ?? "resync marker present"
            machine = Machine(stoppedBecause: reason, nextLSN: nextLSN, durability: durability)
            logger.warning("replay log starts with mirroring stopped", metadata: ["reason": "\(reason)"])
        } else {
            machine = Machine(
                nextLSN: nextLSN, durability: durability, maximumConcurrentSyncs: configuration.concurrentSyncs)
        }
        let workers = max(1, configuration.concurrentSyncs)
        threadsRunning = workers
        nextFlush = WriterMonitor.monotonicSeconds() + (flushInterval ?? 0)
        for _ in 0..<workers { start("shadowgate-replay-writer") { $0.runWorker() } }
    }

    private func start(_ name: String, _ body: @escaping (ReplayLogWriter) -> Void) {
        let thread = Thread { [self] in body(self) }
        thread.name = name
        thread.start()
    }

    /// Zero-fill chunks never exceed a (small, test-sized) segment by much.
    private static func chunkSize(_ configuration: Configuration) -> Int {
        guard configuration.preallocationChunk > 0 else { return 0 }
        let page = 4096
        return min(configuration.preallocationChunk, (configuration.segmentSize + page - 1) / page * page)
    }

    /// Opens the newest segment for appending after cutting a torn tail and any zero-filled space; creates the
    /// first segment if none.
    private static func recover(
        directory: String, chunkSize: Int, logger: Logger
    ) throws(ReplayLogError) -> (ActiveSegment, LSN) {
        let segments = try SegmentFile.list(in: directory)
        guard let last = segments.last else {
            return (try ActiveSegment.create(directory: directory, firstLSN: 1, chunkSize: chunkSize), 1)
        }
        if last.size < SegmentFile.headerSize {
            // Crash while creating the segment: rewrite its header.
            logger.warning("replay log: rewriting incomplete segment header", metadata: ["file": "\(last.path)"])
            unlink(last.path)
            let active = try ActiveSegment.create(directory: directory, firstLSN: last.firstLSN, chunkSize: chunkSize)
            return (active, last.firstLSN)
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
        }
        let file = try PosixFile.open(last.path, flags: O_WRONLY)
        if try file.size() > scan.validEnd {
            // A torn tail, or zeros allocated ahead by the previous run: start again from the last record.
            try file.truncate(to: scan.validEnd)
            try file.sync()
        }
        let active = ActiveSegment(file: file, end: scan.validEnd, allocated: scan.validEnd, chunkSize: chunkSize)
        return (active, scan.lastLSN + 1)
    }

    // MARK: Appending

    /// Appends `record` (its `lsn` is assigned here). `completion` runs on a writer thread in sync mode and on the
    /// caller's thread in async mode: an event-loop caller hops back with `eventLoop.execute`. It never blocks the
    /// caller.
    public func append(_ record: ReplayRecord, completion: @escaping Completion) {
        monitor.lock()
        let decision = machine.appendRequested(record, waiter: completion)
        switch decision {
        case .queued(let wake), .acknowledged(_, let wake):
            if wake { monitor.signal(.writable) }
        case .rejected:
            break
        }
        monitor.unlock()
        switch decision {
        case .queued:
            break
        case .acknowledged(let lsn, _):
            completion(.success(lsn))
        case .rejected(let error, let stoppedNow):
            // The async buffer overflowed: the records it dropped leave a gap in the mirror.
            if stoppedNow { writeResyncMarker(error.message) }
            completion(.failure(error))
        }
    }

    /// Appends `record` and returns its LSN once durable (sync) or buffered (async).
    public func append(_ record: ReplayRecord) async throws(ReplayLogError) -> LSN {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<LSN, ReplayLogError>, Never>) in
            append(record) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    public var status: Status {
        monitor.lock()
        defer { monitor.unlock() }
        return Status(
            lastLSN: machine.lastAssignedLSN, mirroringStoppedReason: machine.stoppedReason, syncCount: machine.syncCount)
    }

    /// Stops mirroring on purpose (the proxy saw a write it cannot capture faithfully): appends fail fast with
    /// `mirroringStopped` from now on and `RESYNC_NEEDED` tells operators and later restarts why.
    public func stopMirroring(reason: String) {
        writeResyncMarker(reason)
        fail(reason: reason)
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
        monitor.lock()
        machine.closeRequested()
        monitor.broadcast(.writable)
        while threadsRunning > 0 { monitor.wait(.finished) }
        monitor.unlock()
    }

    /// Stops mirroring and fails every waiting append (callbacks run after the lock is released).
    private func fail(reason: String) {
        monitor.lock()
        let (waiters, error) = machine.failed(reason: reason)
        monitor.broadcast(.writable)
        monitor.unlock()
        for waiter in waiters { waiter(.failure(error)) }
    }

    private static func acknowledge(_ done: [(Completion, LSN)]) {
        for (waiter, lsn) in done { waiter(.success(lsn)) }
    }

    // MARK: The worker threads

    /// Batches one thread writes in a row before it syncs what it wrote.
    static let maximumWritesBeforeSync = 8

    /// One of the writer's `concurrentSyncs` threads. Each one writes whatever is pending (one `pwrite` per batch)
    /// and then syncs it itself, so a record costs one wake-up of one thread, not a hand-off from a write thread to a
    /// sync thread. Only one thread writes at a time (the machine's write stage); while one thread is in
    /// `fdatasync`, another takes the records that arrive meanwhile, writes them and starts its own sync. Before its
    /// sync a thread first writes what else has arrived (one sync then covers more records), but at most
    /// `maximumWritesBeforeSync` batches in a row, so a steady stream of appends cannot keep a lone thread writing
    /// without ever syncing. A thread that has written can always start its sync: each thread runs at most one and
    /// there are as many sync slots as threads.
    private func runWorker() {
        var writtenSinceSync = 0
        monitor.lock()
        while true {
            if writtenSinceSync < Self.maximumWritesBeforeSync, let batch = machine.takeBatch() {
                monitor.unlock()
                let result = Result { () throws(ReplayLogError) in try write(batch.records) }
                monitor.lock()
                switch result {
                case .success:
                    _ = machine.batchWritten(batch)
                case .failure(let error):
                    _ = machine.batchWritten(batch)
                    monitor.unlock()
                    writeResyncMarker("replay log write failed: \(error.message)")
                    logger.error("replay log write failed; mirroring stopped", metadata: ["error": "\(error)"])
                    fail(reason: error.message)
                    monitor.lock()
                }
                writtenSinceSync += 1
                continue
            }
            if let covering = machine.startSync() {
                let target = segment
                monitor.unlock()
                let result = Result { () throws(ReplayLogError) in try target.sync() }
                monitor.lock()
                let done = machine.syncCompleted(covering: covering)
                monitor.unlock()
                switch result {
                case .success:
                    Self.acknowledge(done)
                case .failure(let error):
                    writeResyncMarker("replay log fsync failed: \(error.message)")
                    logger.error("replay log fsync failed; mirroring stopped", metadata: ["error": "\(error)"])
                    for (waiter, _) in done { waiter(.failure(error)) }
                    fail(reason: error.message)
                }
                monitor.lock()
                writtenSinceSync = 0
                continue
            }
            if writtenSinceSync > 0 {
                // What this thread wrote is covered by another thread's sync: it may write again.
                writtenSinceSync = 0
                continue
            }
            if machine.isDrained { break }
            if let interval = flushInterval {
                let now = WriterMonitor.monotonicSeconds()
                if now >= nextFlush {
                    machine.flushTimerFired()
                    nextFlush = now + interval
                    continue
                }
                monitor.wait(.writable, seconds: nextFlush - now)
            } else {
                monitor.wait(.writable)
            }
        }
        // The first thread to find the log drained closes the files; the others find them closed.
        if !segmentClosed {
            segmentClosed = true
            do {
                try segment.finish()
            } catch {
                logger.warning("replay log: could not cut the zero-filled tail at close", metadata: ["error": "\(error)"])
            }
            segment.file.close()
        }
        threadsRunning -= 1
        monitor.broadcast(.writable)
        monitor.broadcast(.finished)
        monitor.unlock()
    }

    /// Writes one batch with one write, rolling to a new segment first when the current one is full.
    private func write(_ records: [ReplayRecord]) throws(ReplayLogError) {
        guard let first = records.first else { return }
        if segment.end >= configuration.segmentSize && segment.end > SegmentFile.headerSize {
            try roll(firstLSN: first.lsn)
        }
        encodeBuffer.removeAll(keepingCapacity: true)
        for record in records { try ReplayRecordCodec.encode(record, into: &encodeBuffer) }
        try segment.append(encodeBuffer)
    }

    /// Finishes the full segment (which makes every batch written so far durable: acknowledged here) and starts the
    /// next one.
    private func roll(firstLSN: LSN) throws(ReplayLogError) {
        try segment.finish()
        let next = try ActiveSegment.create(
            directory: configuration.directory, firstLSN: firstLSN, chunkSize: Self.chunkSize(configuration))
        monitor.lock()
        let done = machine.writtenBatchesDurable()
        segment = next
        monitor.unlock()
        Self.acknowledge(done)
        try applyRetention()
    }

    private func applyRetention() throws(ReplayLogError) {
        let directory = configuration.directory
        var segments = try SegmentFile.list(in: directory)
        // The active segment counts by its records, not by the zeros allocated ahead of them.
        if !segments.isEmpty { segments[segments.count - 1].size = segment.end }
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
