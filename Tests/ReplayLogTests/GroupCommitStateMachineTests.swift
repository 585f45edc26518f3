import Testing
@testable import ReplayLog

/// Shorthand for the shape of an action, since actions carry closures in production and are not Equatable.
private enum Shape: Equatable {
    case write([LSN]), fsync, acknowledge([String: LSN]), fail([String], ReplayLogError.Code), close
}

private typealias Machine = GroupCommitStateMachine<String>

private func shapes(_ actions: [Machine.Action]) -> [Shape] {
    actions.map {
        switch $0 {
        case .write(let records): .write(records.map(\.lsn))
        case .fsync: .fsync
        case .acknowledge(let done): .acknowledge(Dictionary(uniqueKeysWithValues: done.map { ($0.0, $0.1) }))
        case .fail(let waiters, let error): .fail(waiters, error.code)
        case .close: .close
        }
    }
}

@Suite struct GroupCommitStateMachineTests {
    @Test("sync: the first append is written and fsynced before it is acknowledged")
    func singleAppend() {
        var m = Machine(nextLSN: 1, durability: .sync)
        #expect(shapes(m.appendRequested(sampleRecord(), waiter: "a")) == [.write([1])])
        #expect(shapes(m.writeCompleted()) == [.fsync])
        #expect(shapes(m.fsyncCompleted()) == [.acknowledge(["a": 1])])
    }

    @Test("sync: appends arriving during a write or fsync share the next single write and fsync")
    func groupCommit() {
        var m = Machine(nextLSN: 10, durability: .sync)
        #expect(shapes(m.appendRequested(sampleRecord(), waiter: "a")) == [.write([10])])
        #expect(shapes(m.appendRequested(sampleRecord(), waiter: "b")) == [])
        #expect(shapes(m.writeCompleted()) == [.fsync])
        #expect(shapes(m.appendRequested(sampleRecord(), waiter: "c")) == [])
        #expect(shapes(m.fsyncCompleted()) == [.acknowledge(["a": 10]), .write([11, 12])])
        #expect(shapes(m.writeCompleted()) == [.fsync])
        #expect(shapes(m.fsyncCompleted()) == [.acknowledge(["b": 11, "c": 12])])
        #expect(m.lastAssignedLSN == 12)
    }

    @Test("a failed write stops mirroring: in-flight and queued waiters fail, later appends fail at once")
    func failureStopsMirroring() {
        var m = Machine(nextLSN: 1, durability: .sync)
        _ = m.appendRequested(sampleRecord(), waiter: "a")
        _ = m.appendRequested(sampleRecord(), waiter: "b")
        #expect(shapes(m.failed(reason: "disk full")) == [.fail(["a", "b"], .mirroringStopped)])
        #expect(shapes(m.appendRequested(sampleRecord(), waiter: "c")) == [.fail(["c"], .mirroringStopped)])
        #expect(m.stoppedReason == "disk full")
        #expect(shapes(m.writeCompleted()) == [])
    }

    @Test("async: appends are acknowledged when buffered and written on the flush timer")
    func asyncMode() {
        var m = Machine(nextLSN: 1, durability: .async, flushThreshold: 3)
        #expect(shapes(m.appendRequested(sampleRecord(), waiter: "a")) == [.acknowledge(["a": 1])])
        #expect(shapes(m.flushTimerFired()) == [.write([1])])
        #expect(shapes(m.appendRequested(sampleRecord(), waiter: "b")) == [.acknowledge(["b": 2])])
        #expect(shapes(m.writeCompleted()) == [.fsync])
        #expect(shapes(m.fsyncCompleted()) == [])
        #expect(shapes(m.flushTimerFired()) == [.write([2])])
    }

    @Test("async: reaching the flush threshold writes without waiting for the timer")
    func asyncThreshold() {
        var m = Machine(nextLSN: 1, durability: .async, flushThreshold: 2)
        _ = m.appendRequested(sampleRecord(), waiter: "a")
        #expect(shapes(m.appendRequested(sampleRecord(), waiter: "b")) == [.acknowledge(["b": 2]), .write([1, 2])])
    }

    @Test("async: overflowing the buffer stops mirroring instead of growing memory")
    func asyncOverflow() {
        var m = Machine(nextLSN: 1, durability: .async, flushThreshold: 100, maximumBuffered: 2)
        _ = m.appendRequested(sampleRecord(), waiter: "a")
        _ = m.appendRequested(sampleRecord(), waiter: "b")
        #expect(shapes(m.appendRequested(sampleRecord(), waiter: "c")) == [.fail(["c"], .mirroringStopped)])
        #expect(m.stoppedReason != nil)
    }

    @Test("close flushes what is pending, then closes; appends after close fail")
    func closeFlushes() {
        var m = Machine(nextLSN: 1, durability: .async, flushThreshold: 100)
        _ = m.appendRequested(sampleRecord(), waiter: "a")
        #expect(shapes(m.closeRequested()) == [.write([1])])
        #expect(shapes(m.appendRequested(sampleRecord(), waiter: "b")) == [.fail(["b"], .closed)])
        #expect(shapes(m.writeCompleted()) == [.fsync])
        #expect(shapes(m.fsyncCompleted()) == [.close])
    }

    @Test("close while idle with nothing pending closes at once")
    func closeIdle() {
        var m = Machine(nextLSN: 1, durability: .sync)
        #expect(shapes(m.closeRequested()) == [.close])
    }
}
