/// The pure core of the replay-log writer: assigns LSNs, batches appends that arrive while a write or fsync is in
/// flight (group commit: many connections share one fsync), and decides when waiters are acknowledged.
///
/// No I/O, no clock, no threads: the writer feeds events and performs the returned actions in order. Modelled on
/// swift-nio-examples' `FileIOCoordinatorState`.
struct GroupCommitStateMachine<Waiter> {
    /// When a waiter is acknowledged.
    enum Durability: Equatable {
        /// After the fsync covering its record.
        case sync
        /// As soon as the record is buffered; buffered records are written when `flushTimerFired` or when
        /// `flushThreshold` records are waiting.
        case async
    }

    /// What the writer must do next.
    enum Action {
        /// Encode and write these records (LSNs assigned, consecutive) to the current segment.
        case write([ReplayRecord])
        /// fsync the current segment.
        case fsync
        /// Complete these waiters successfully with their LSNs.
        case acknowledge([(Waiter, LSN)])
        /// Complete these waiters with an error (mirroring stopped or writer closed).
        case fail([Waiter], ReplayLogError)
        /// Everything is durable and nothing is pending: close the files.
        case close
    }

    private struct Entry {
        var record: ReplayRecord
        /// nil in async mode, where the waiter was acknowledged at append time.
        var waiter: Waiter?
    }

    /// Where the I/O side is.
    private enum Phase {
        /// No write or fsync in flight.
        case idle
        /// A `.write` was issued and has not completed.
        case writing
        /// A `.fsync` was issued and has not completed.
        case syncing
        /// An I/O error or the hard size limit stopped mirroring; appends fail fast with `mirroringStopped`.
        case stopped(reason: String)
        /// Closed; appends fail with `closed`.
        case closed
    }

    let durability: Durability
    /// Async mode writes early once this many records are buffered, so a burst does not wait for the timer.
    let flushThreshold: Int
    /// Async mode stops mirroring rather than buffer more than this (promise 5: bounded memory).
    let maximumBuffered: Int

    private var phase: Phase = .idle
    private var nextLSN: LSN
    private var inFlight: [Entry] = []
    private var pending: [Entry] = []
    private var closing = false

    init(nextLSN: LSN, durability: Durability, flushThreshold: Int = 4096, maximumBuffered: Int = 1 << 20) {
        self.nextLSN = nextLSN
        self.durability = durability
        self.flushThreshold = flushThreshold
        self.maximumBuffered = maximumBuffered
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

    mutating func appendRequested(_ record: ReplayRecord, waiter: Waiter) -> [Action] {
        switch phase {
        case .stopped(let reason):
            return [.fail([waiter], Self.stoppedError(reason))]
        case .closed:
            return [.fail([waiter], ReplayLogError(.closed, "the replay log is closed"))]
        case .idle, .writing, .syncing:
            break
        }
        if closing { return [.fail([waiter], ReplayLogError(.closed, "the replay log is closing"))] }
        var record = record
        record.lsn = nextLSN
        nextLSN += 1
        switch durability {
        case .sync:
            pending.append(Entry(record: record, waiter: waiter))
            return startWriteIfIdle()
        case .async:
            guard pending.count < maximumBuffered else {
                let reason = "more than \(maximumBuffered) records buffered: the disk cannot keep up"
                return stop(reason: reason) + [.fail([waiter], Self.stoppedError(reason))]
            }
            pending.append(Entry(record: record, waiter: nil))
            var actions: [Action] = [.acknowledge([(waiter, record.lsn)])]
            if pending.count >= flushThreshold { actions += startWriteIfIdle() }
            return actions
        }
    }

    /// Async mode's periodic flush.
    mutating func flushTimerFired() -> [Action] {
        startWriteIfIdle()
    }

    mutating func writeCompleted() -> [Action] {
        guard case .writing = phase else { return [] }
        phase = .syncing
        return [.fsync]
    }

    mutating func fsyncCompleted() -> [Action] {
        guard case .syncing = phase else { return [] }
        phase = .idle
        let done = inFlight.compactMap { entry in entry.waiter.map { ($0, entry.record.lsn) } }
        inFlight.removeAll(keepingCapacity: true)
        var actions: [Action] = done.isEmpty ? [] : [.acknowledge(done)]
        if durability == .sync || pending.count >= flushThreshold || closing {
            actions += startWriteIfIdle()
        }
        return actions
    }

    /// A write or fsync failed, or retention hit the hard limit: stop mirroring, never block the primary.
    mutating func failed(reason: String) -> [Action] {
        stop(reason: reason)
    }

    mutating func closeRequested() -> [Action] {
        closing = true
        switch phase {
        case .idle:
            let actions = startWriteIfIdle()
            return actions.isEmpty ? [.close] : actions
        case .stopped:
            phase = .closed
            return [.close]
        case .writing, .syncing, .closed:
            return []
        }
    }

    private mutating func stop(reason: String) -> [Action] {
        let waiters = (inFlight + pending).compactMap(\.waiter)
        inFlight = []
        pending = []
        phase = .stopped(reason: reason)
        if closing {
            phase = .closed
            return waiters.isEmpty ? [.close] : [.fail(waiters, Self.stoppedError(reason)), .close]
        }
        return waiters.isEmpty ? [] : [.fail(waiters, Self.stoppedError(reason))]
    }

    private mutating func startWriteIfIdle() -> [Action] {
        guard case .idle = phase else { return [] }
        guard !pending.isEmpty else {
            if closing {
                phase = .closed
                return [.close]
            }
            return []
        }
        swap(&inFlight, &pending)
        phase = .writing
        return [.write(inFlight.map(\.record))]
    }
}
