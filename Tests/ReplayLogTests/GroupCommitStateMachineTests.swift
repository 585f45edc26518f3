import Testing
@testable import ReplayLog

private typealias Machine = GroupCommitStateMachine<String>

/// The shape of an append decision, since errors carry messages the tests do not pin down.
private enum Decision: Equatable {
    case queued(wakeWriter: Bool), acknowledged(LSN, wakeWriter: Bool), rejected(ReplayLogError.Code, stoppedNow: Bool)
}

extension Machine {
    fileprivate mutating func append(_ waiter: String) -> Decision {
        switch appendRequested(sampleRecord(), waiter: waiter) {
        case .queued(let wake): .queued(wakeWriter: wake)
        case .acknowledged(let lsn, let wake): .acknowledged(lsn, wakeWriter: wake)
        case .rejected(let error, let stoppedNow): .rejected(error.code, stoppedNow: stoppedNow)
        }
    }

    /// Takes and writes the next batch; returns its LSNs and whether a sync may start.
    fileprivate mutating func writeNext() -> (lsns: [LSN], syncMayStart: Bool)? {
        guard let batch = takeBatch() else { return nil }
        return (batch.records.map(\.lsn), batchWritten(batch))
    }
}

private func names(_ done: [(String, LSN)]) -> [String] { done.map { "\($0.0)@\($0.1)" } }

@Suite struct GroupCommitStateMachineTests {
    @Test("sync: the first append wakes the write stage and is acknowledged only after a sync covering it")
    func singleAppend() throws {
        var m = Machine(nextLSN: 1, durability: .sync)
        #expect(m.append("a") == .queued(wakeWriter: true))
        #expect(m.startSync() == nil, "nothing written yet")
        let writtenValue = m.writeNext()

        let written = try #require(writtenValue)
        #expect(written.lsns == [1] && written.syncMayStart)
        let syncValue = m.startSync()

        let sync = try #require(syncValue)
        #expect(names(m.syncCompleted(covering: sync)) == ["a@1"])
        #expect(m.syncCount == 1)
    }

    @Test("sync: appends arriving while a batch is written share the next write, taken as soon as the write ends")
    func batchesWhileWriting() throws {
        var m = Machine(nextLSN: 10, durability: .sync)
        _ = m.append("a")
        let firstValue = m.takeBatch()

        let first = try #require(firstValue)
        #expect(m.append("b") == .queued(wakeWriter: true))
        #expect(m.append("c") == .queued(wakeWriter: false), "the writer is already awake for b")
        #expect(m.takeBatch() == nil, "one batch at the write stage at a time")
        let result1 = m.batchWritten(first)

        #expect(result1)
        let w1 = m.writeNext()
        #expect(w1?.lsns == [11, 12])
        let syncValue = m.startSync()

        let sync = try #require(syncValue)
        #expect(names(m.syncCompleted(covering: sync)) == ["a@10", "b@11", "c@12"], "one sync covers both batches")
        #expect(m.lastAssignedLSN == 12)
    }

    @Test("pipelined: a record appended during a sync is written at once and gets its own sync in the free slot")
    func pipelinedSyncs() throws {
        var m = Machine(nextLSN: 1, durability: .sync, maximumConcurrentSyncs: 2)
        _ = m.append("a")
        _ = m.writeNext()
        let firstValue = m.startSync()

        let first = try #require(firstValue)
        _ = m.append("b")
        let writtenValue = m.writeNext()

        let written = try #require(writtenValue)
        #expect(written.lsns == [2] && written.syncMayStart, "not held for the sync in flight")
        let secondValue = m.startSync()

        let second = try #require(secondValue)
        #expect(m.startSync() == nil, "both slots busy, nothing uncovered")
        // The later sync covers both batches: fdatasync flushes every dirty page written before it started.
        #expect(names(m.syncCompleted(covering: second)) == ["a@1", "b@2"])
        #expect(names(m.syncCompleted(covering: first)).isEmpty)
    }

    @Test("classic group commit: with one slot a written batch waits for the running sync, then one sync covers all")
    func oneSyncAtATime() throws {
        var m = Machine(nextLSN: 1, durability: .sync, maximumConcurrentSyncs: 1)
        _ = m.append("a")
        _ = m.writeNext()
        let firstValue = m.startSync()

        let first = try #require(firstValue)
        _ = m.append("b")
        let w4 = m.writeNext()
        #expect(w4?.syncMayStart == false)
        _ = m.append("c")
        _ = m.writeNext()
        #expect(m.startSync() == nil)
        #expect(names(m.syncCompleted(covering: first)) == ["a@1"])
        let secondValue = m.startSync()

        let second = try #require(secondValue)
        #expect(names(m.syncCompleted(covering: second)) == ["b@2", "c@3"])
        #expect(m.syncCount == 2)
    }

    @Test("finishing a segment before a roll acknowledges every written batch; a running sync then finds nothing")
    func rollMakesWrittenDurable() throws {
        var m = Machine(nextLSN: 1, durability: .sync)
        _ = m.append("a")
        _ = m.writeNext()
        let syncValue = m.startSync()

        let sync = try #require(syncValue)
        #expect(names(m.writtenBatchesDurable()) == ["a@1"])
        #expect(names(m.syncCompleted(covering: sync)).isEmpty)
    }

    @Test("a failed write stops mirroring: in-flight and queued waiters fail, later appends fail at once")
    func failureStopsMirroring() throws {
        var m = Machine(nextLSN: 1, durability: .sync)
        _ = m.append("a")
        let batchValue = m.takeBatch()

        let batch = try #require(batchValue)
        _ = m.append("b")
        let (failed, error) = m.failed(reason: "disk full")
        #expect(failed == ["a", "b"] && error.code == .mirroringStopped)
        #expect(m.append("c") == .rejected(.mirroringStopped, stoppedNow: false))
        #expect(m.stoppedReason == "disk full")
        let result2 = !m.batchWritten(batch)

        #expect(result2)
        #expect(m.startSync() == nil)
    }

    @Test("async: appends are acknowledged when buffered and written on the flush timer")
    func asyncMode() throws {
        var m = Machine(nextLSN: 1, durability: .async, flushThreshold: 3)
        #expect(m.append("a") == .acknowledged(1, wakeWriter: false))
        #expect(m.takeBatch() == nil, "waits for the timer")
        m.flushTimerFired()
        let w2 = m.writeNext()
        #expect(w2?.lsns == [1])
        let syncValue = m.startSync()

        let sync = try #require(syncValue)
        #expect(m.syncCompleted(covering: sync).isEmpty, "nobody waits in async mode")
        _ = m.append("b")
        #expect(m.takeBatch() == nil, "a timer tick covers one write")
    }

    @Test("async: reaching the flush threshold wakes the writer without waiting for the timer")
    func asyncThreshold() {
        var m = Machine(nextLSN: 1, durability: .async, flushThreshold: 2)
        _ = m.append("a")
        #expect(m.append("b") == .acknowledged(2, wakeWriter: true))
        let w5 = m.writeNext()
        #expect(w5?.lsns == [1, 2])
    }

    @Test("async: overflowing the buffer stops mirroring instead of growing memory")
    func asyncOverflow() {
        var m = Machine(nextLSN: 1, durability: .async, flushThreshold: 100, maximumBuffered: 2)
        _ = m.append("a")
        _ = m.append("b")
        #expect(m.append("c") == .rejected(.mirroringStopped, stoppedNow: true))
        #expect(m.stoppedReason != nil)
    }

    @Test("close writes what is buffered and is drained once it is synced; appends after close fail")
    func closeFlushes() throws {
        var m = Machine(nextLSN: 1, durability: .async, flushThreshold: 100)
        _ = m.append("a")
        m.closeRequested()
        #expect(!m.isDrained)
        #expect(m.append("b") == .rejected(.closed, stoppedNow: false))
        let w3 = m.writeNext()
        #expect(w3?.lsns == [1])
        let syncValue = m.startSync()

        let sync = try #require(syncValue)
        #expect(!m.isDrained, "a sync is running")
        _ = m.syncCompleted(covering: sync)
        #expect(m.isDrained)
    }

    @Test("close while idle with nothing pending is drained at once")
    func closeIdle() {
        var m = Machine(nextLSN: 1, durability: .sync)
        #expect(!m.isDrained)
        m.closeRequested()
        #expect(m.isDrained)
    }
}
