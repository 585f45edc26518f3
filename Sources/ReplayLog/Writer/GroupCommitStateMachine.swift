/// The pure core of the replay-log writer: assigns LSNs and runs a two-stage, pipelined group commit.
///
/// The **write stage** takes everything appended since its last write as one batch (one `pwrite`), as soon as it is
/// free — also while syncs are running. The **sync stage** runs up to `maximumConcurrentSyncs` `fdatasync`s; each
/// covers every batch written before it started, so a sync that completes makes all those batches durable (an
/// `fdatasync` flushes every dirty page of the file, and waits for pages another sync is already writing back).
/// Nobody waits for a batch that was closed before they arrived: a record appended while a sync runs is written at
/// once and covered by the next sync, which starts the moment a sync slot is free.
///
/// The stages are roles, not threads: the writer's threads each take a batch when the write stage is free, write it,
/// then start a sync, so a record needs no hand-off between threads.
///
/// No I/O, no clock, no threads: the writer calls these methods under its lock and performs the I/O in between.
/// Modelled on swift-nio-examples' `FileIOCoordinatorState`.
struct GroupCommitStateMachine<Waiter> {
    /// When a waiter is acknowledged.
    enum Durability: Equatable {
        /// After a sync covering its record.
        case sync
        /// As soon as the record is buffered; buffered records are written when `flushTimerFired` or when
        /// `flushThreshold` records are waiting.
        case async
    }

    /// What became of an append.
    enum AppendDecision {
        /// Waiting for its sync (sync mode). Wake the write stage when `wakeWriter`.
        case queued(wakeWriter: Bool)
        /// Acknowledged now with this LSN (async mode). Wake the write stage when `wakeWriter` (threshold reached).
        case acknowledged(LSN, wakeWriter: Bool)
        /// Refused. `stoppedNow` when this very append stopped mirroring (async buffer overflow).
        case rejected(ReplayLogError, stoppedNow: Bool)
    }

    /// Records for the write stage: consecutive LSNs, to be written with one write in this order.
    struct Batch {
        let sequence: UInt64
        let records: [ReplayRecord]
    }

    /// A batch that is written (or being written) and not yet durable.
    private struct InFlight {
        let sequence: UInt64
        var waiters: [(Waiter, LSN)]
    }

    private enum Phase: Equatable {
        case running
        /// An I/O error or the hard size limit stopped mirroring; appends fail fast with `mirroringStopped`.
        case stopped(reason: String)
    }

    let durability: Durability
    /// Async mode writes early once this many records are buffered, so a burst does not wait for the timer.
    let flushThreshold: Int
    /// Async mode stops mirroring rather than buffer more than this (promise 5: bounded memory).
    let maximumBuffered: Int
    /// How many syncs may run at once. 1 is classic group commit (a sync starts when the previous one ends).
    let maximumConcurrentSyncs: Int

    private var phase: Phase = .running
    private var closing = false
    private var nextLSN: LSN
    private var pendingRecords: [ReplayRecord] = []
    private var pendingWaiters: [(Waiter, LSN)] = []
    private var flushDue = false
    private var inFlight: [InFlight] = []
    /// A batch is at the write stage.
    private var writing = false
    private var lastSequence: UInt64 = 0
    /// The highest batch completely written.
    private var writtenSequence: UInt64 = 0
    /// The highest batch a started sync covers.
    private var syncStartedSequence: UInt64 = 0
    /// The highest batch known durable.
    private var durableSequence: UInt64 = 0
    private var syncsRunning = 0
    /// Syncs started so far (for benchmarks: records per sync).
    private(set) var syncCount: UInt64 = 0

    init(
        nextLSN: LSN, durability: Durability, flushThreshold: Int = 4096, maximumBuffered: Int = 1 << 20,
        maximumConcurrentSyncs: Int = 1
    ) {
        self.nextLSN = nextLSN
        self.durability = durability
        self.flushThreshold = flushThreshold
        self.maximumBuffered = maximumBuffered
        self.maximumConcurrentSyncs = max(1, maximumConcurrentSyncs)
    }

    /// Starts stopped, e.g. when the directory carries a resync-needed marker.
    init(stoppedBecause reason: String, nextLSN: LSN, durability: Durability) {
        self.init(nextLSN: nextLSN, durability: durability)
        phase = .stopped(reason: reason)
    }

    /// The last LSN handed out (0 if none).
    var lastAssignedLSN: LSN { nextLSN - 1 }

    /// The reason mirroring stopped, if it did.
    var stoppedReason: String? {
        if case .stopped(let reason) = phase { return reason }
        return nil
    }

    private static func stoppedError(_ reason: String) -> ReplayLogError {
        ReplayLogError(.mirroringStopped, "mirroring stopped: \(reason); the mirror needs a resync")
    }

    // MARK: Appends

    mutating func appendRequested(_ record: ReplayRecord, waiter: Waiter) -> AppendDecision {
        if case .stopped(let reason) = phase { return .rejected(Self.stoppedError(reason), stoppedNow: false) }
        if closing { return .rejected(ReplayLogError(.closed, "the replay log is closed"), stoppedNow: false) }
        let lsn = nextLSN
        switch durability {
        case .sync:
            nextLSN += 1
            var record = record
            record.lsn = lsn
            pendingRecords.append(record)
            pendingWaiters.append((waiter, lsn))
            // The write stage is woken by the first record it has not seen; later ones find it busy or awake.
            return .queued(wakeWriter: pendingRecords.count == 1)
        case .async:
            guard pendingRecords.count < maximumBuffered else {
                let reason = "more than \(maximumBuffered) records buffered: the disk cannot keep up"
                _ = stop(reason: reason)
                return .rejected(Self.stoppedError(reason), stoppedNow: true)
            }
            nextLSN += 1
            var record = record
            record.lsn = lsn
            pendingRecords.append(record)
            return .acknowledged(lsn, wakeWriter: pendingRecords.count == flushThreshold)
        }
    }

    /// Async mode's periodic flush: the next `takeBatch` writes what is buffered.
    mutating func flushTimerFired() {
        flushDue = true
    }

    // MARK: Write stage

    /// The next batch to write, or nil when there is nothing to write now (the write stage then waits).
    mutating func takeBatch() -> Batch? {
        guard phase == .running, !writing, !pendingRecords.isEmpty else { return nil }
        guard durability == .sync || flushDue || closing || pendingRecords.count >= flushThreshold else { return nil }
        flushDue = false
        writing = true
        lastSequence += 1
        inFlight.append(InFlight(sequence: lastSequence, waiters: pendingWaiters))
        pendingWaiters.removeAll(keepingCapacity: true)
        let records = pendingRecords
        pendingRecords.removeAll(keepingCapacity: true)
        return Batch(sequence: lastSequence, records: records)
    }

    /// The batch is in the file (not yet durable). Returns whether a sync can start now.
    mutating func batchWritten(_ batch: Batch) -> Bool {
        writing = false
        guard phase == .running else { return false }
        writtenSequence = batch.sequence
        return syncsRunning < maximumConcurrentSyncs
    }

    /// The write stage made everything written so far durable itself (it finished a segment before rolling):
    /// acknowledges those waiters.
    mutating func writtenBatchesDurable() -> [(Waiter, LSN)] {
        markDurable(upTo: writtenSequence)
    }

    // MARK: Sync stage

    /// Starts a sync when a slot is free and some written batch is not yet covered: returns the highest batch it
    /// covers (pass it to `syncCompleted`), or nil.
    mutating func startSync() -> UInt64? {
        guard phase == .running, syncsRunning < maximumConcurrentSyncs, writtenSequence > syncStartedSequence,
            writtenSequence > durableSequence
        else { return nil }
        syncsRunning += 1
        syncCount += 1
        syncStartedSequence = writtenSequence
        return writtenSequence
    }

    /// A sync started by `startSync` returned: everything it covers is durable. Returns the waiters to acknowledge
    /// (in LSN order); empty when a later sync already acknowledged them.
    mutating func syncCompleted(covering sequence: UInt64) -> [(Waiter, LSN)] {
        syncsRunning -= 1
        guard phase == .running else { return [] }
        return markDurable(upTo: sequence)
    }

    private mutating func markDurable(upTo sequence: UInt64) -> [(Waiter, LSN)] {
        guard sequence > durableSequence else { return [] }
        durableSequence = sequence
        var done: [(Waiter, LSN)] = []
        var count = 0
        for batch in inFlight {
            guard batch.sequence <= sequence else { break }
            done += batch.waiters
            count += 1
        }
        inFlight.removeFirst(count)
        return done
    }

    // MARK: Failure and close

    /// A write or sync failed, or retention hit the hard limit: stop mirroring, never block the primary. Returns
    /// the waiters to fail with `error`.
    mutating func failed(reason: String) -> (waiters: [Waiter], error: ReplayLogError) {
        (stop(reason: reason), Self.stoppedError(reason))
    }

    /// From now on appends fail; the write stage writes what is buffered and the sync stage makes it durable.
    mutating func closeRequested() {
        closing = true
    }

    var isClosing: Bool { closing }

    /// Closing, and nothing is left to write or sync: the write stage may close the files and stop.
    var isDrained: Bool {
        guard closing, !writing, syncsRunning == 0 else { return false }
        if phase != .running { return true }
        return pendingRecords.isEmpty && writtenSequence == durableSequence
    }

    private mutating func stop(reason: String) -> [Waiter] {
        let waiters = inFlight.flatMap { $0.waiters.map(\.0) } + pendingWaiters.map(\.0)
        inFlight = []
        pendingRecords = []
        pendingWaiters = []
        phase = .stopped(reason: reason)
        return waiters
    }
}
