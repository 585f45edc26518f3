import Foundation
import Testing
@testable import ReplayLog

private func readAll(_ directory: String, from lsn: LSN = 1) throws -> [ReplayRecord] {
    let reader = ReplayLogReader(directory: directory, from: lsn)
    var records: [ReplayRecord] = []
    while let record = try reader.next() { records.append(record) }
    return records
}

@Suite struct ReplayLogWriterTests {
    @Test("appended records get consecutive LSNs and read back unchanged after reopening")
    func appendAndReadBack() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let writer = try ReplayLogWriter(configuration: .init(directory: dir.path), logger: testLogger)
        var lsns: [LSN] = []
        for n in 0..<20 { lsns.append(try await writer.append(sampleRecord(n, sql: "INSERT \(n)"))) }
        writer.close()
        #expect(lsns == Array(1...20))
        let records = try readAll(dir.path)
        #expect(records.map(\.lsn) == Array(1...20))
        #expect(records[7].statements[0].sql == "INSERT 7")
        let reopened = try ReplayLogWriter(configuration: .init(directory: dir.path), logger: testLogger)
        #expect(try await reopened.append(sampleRecord()) == 21)
        reopened.close()
    }

    @Test("the writer rolls to a new segment named by its first LSN once the size limit is reached")
    func segmentRoll() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let writer = try ReplayLogWriter(configuration: .init(directory: dir.path, segmentSize: 400), logger: testLogger)
        for n in 0..<30 { _ = try await writer.append(sampleRecord(n)) }
        writer.close()
        let segments = try SegmentFile.list(in: dir.path)
        #expect(segments.count > 3)
        #expect(segments.first?.firstLSN == 1)
        #expect(segments.allSatisfy { $0.path.hasSuffix(SegmentFile.name(firstLSN: $0.firstLSN)) })
        #expect(try readAll(dir.path).map(\.lsn) == Array(1...30))
        #expect(try readAll(dir.path, from: 17).map(\.lsn) == Array(17...30))
        #expect(try ReplayLogVerifier.verify(directory: dir.path).isSound)
    }

    @Test("retention deletes applied segments beyond the size budget but keeps unapplied ones")
    func retentionOnRoll() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        try Checkpoint.write(10, directory: dir.path)
        let retention = RetentionPolicy(maximumBytes: 0, maximumAgeSeconds: 3600, hardLimitBytes: 1 << 30)
        let writer = try ReplayLogWriter(
            configuration: .init(directory: dir.path, segmentSize: 400, retention: retention), logger: testLogger)
        for n in 0..<30 { _ = try await writer.append(sampleRecord(n)) }
        writer.close()
        let segments = try SegmentFile.list(in: dir.path)
        let first = try #require(segments.first)
        #expect(first.firstLSN > 1 && first.firstLSN <= 11, "applied segments are gone, LSN 11 is still there")
        #expect(try readAll(dir.path, from: 11).first?.lsn == 11)
    }

    @Test("past the hard limit unapplied segments are deleted, mirroring stops and a resync marker is written")
    func hardLimit() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let retention = RetentionPolicy(maximumBytes: 0, maximumAgeSeconds: 3600, hardLimitBytes: 500)
        let writer = try ReplayLogWriter(
            configuration: .init(directory: dir.path, segmentSize: 300, retention: retention), logger: testLogger)
        var stopped: ReplayLogError?
        for n in 0..<40 {
            do { _ = try await writer.append(sampleRecord(n)) } catch { stopped = error; break }
        }
        #expect(stopped?.code == .mirroringStopped)
        #expect(writer.status.mirroringStoppedReason != nil)
        await #expect(throws: ReplayLogError.self) { try await writer.append(sampleRecord()) }
        writer.close()
        #expect(FileManager.default.fileExists(atPath: dir.path + "/" + ReplayLogWriter.resyncMarkerName))
        let reopened = try ReplayLogWriter(configuration: .init(directory: dir.path), logger: testLogger)
        #expect(reopened.status.mirroringStoppedReason != nil, "the marker survives a restart")
        reopened.close()
    }

    @Test("a torn tail (a record cut short by a crash) is truncated at reopen and appending resumes after it")
    func tornTailCut() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let writer = try ReplayLogWriter(configuration: .init(directory: dir.path), logger: testLogger)
        for n in 0..<5 { _ = try await writer.append(sampleRecord(n)) }
        writer.close()
        let path = try #require(try SegmentFile.list(in: dir.path).last).path
        let goodSize = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        var torn = try ReplayRecordCodec.encode({ var r = sampleRecord(9); r.lsn = 6; return r }())
        torn.removeLast(10)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(torn))
        handle.closeFile()
        #expect(try !ReplayLogVerifier.verify(directory: dir.path).isSound)

        let reopened = try ReplayLogWriter(configuration: .init(directory: dir.path), logger: testLogger)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == goodSize)
        #expect(try await reopened.append(sampleRecord()) == 6)
        reopened.close()
        #expect(try readAll(dir.path).map(\.lsn) == Array(1...6))
        #expect(try ReplayLogVerifier.verify(directory: dir.path).isSound)
    }

    @Test("a corrupt record followed by valid ones fails open with the segment and offset, and verify reports it")
    func corruptMiddle() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let writer = try ReplayLogWriter(configuration: .init(directory: dir.path), logger: testLogger)
        for n in 0..<5 { _ = try await writer.append(sampleRecord(n)) }
        writer.close()
        let path = try #require(try SegmentFile.list(in: dir.path).last).path
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let frameSize = try ReplayRecordCodec.encode(sampleRecord(0)).count
        let secondRecord = SegmentFile.headerSize + frameSize
        bytes[secondRecord + 20] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        #expect {
            _ = try ReplayLogWriter(configuration: .init(directory: dir.path), logger: testLogger)
        } throws: { error in
            let error = error as? ReplayLogError
            return error?.code == .corruptMiddle && error!.message.contains(path)
                && error!.message.contains("offset \(secondRecord)")
        }
        let report = try ReplayLogVerifier.verify(directory: dir.path)
        #expect(!report.isSound)
        #expect(report.problems.first?.contains("offset \(secondRecord)") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == bytes.count, "nothing was cut")
    }

    @Test("32 concurrent tasks appending 10,000 records in sync mode get unique LSNs that all survive a reopen")
    func concurrentSyncAppends() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let writer = try ReplayLogWriter(
            configuration: .init(directory: dir.path, segmentSize: 256 << 10), logger: testLogger)
        let lsns = try await withThrowingTaskGroup(of: [LSN].self) { group in
            for task in 0..<32 {
                group.addTask {
                    var mine: [LSN] = []
                    for n in 0..<(10_000 / 32 + (task < 10_000 % 32 ? 1 : 0)) {
                        mine.append(try await writer.append(sampleRecord(task * 1000 + n)))
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        writer.close()
        #expect(lsns.count == 10_000)
        #expect(Set(lsns).count == 10_000)
        #expect(lsns.max() == 10_000)
        let records = try readAll(dir.path)
        #expect(records.count == 10_000)
        #expect(records.map(\.lsn) == Array(1...10_000))
    }

    @Test("async mode acknowledges before the flush and the interval flush makes the records durable")
    func asyncFlush() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let writer = try ReplayLogWriter(
            configuration: .init(directory: dir.path, durability: .async(flushInterval: .milliseconds(20))),
            logger: testLogger)
        for n in 0..<10 { _ = try await writer.append(sampleRecord(n)) }
        try await Task.sleep(for: .milliseconds(200))
        #expect(try readAll(dir.path).count == 10)
        writer.close()
    }

    @Test("the callback variant completes with the LSN")
    func callbackAppend() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let writer = try ReplayLogWriter(configuration: .init(directory: dir.path), logger: testLogger)
        let result = await withCheckedContinuation { continuation in
            writer.append(sampleRecord()) { continuation.resume(returning: $0) }
        }
        #expect(try result.get() == 1)
        writer.close()
    }
}

@Suite struct CheckpointAndRetentionTests {
    @Test("a checkpoint reads back after writing, reads 0 when absent, and a damaged one is an error")
    func checkpoint() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        #expect(try Checkpoint.read(directory: dir.path) == 0)
        try Checkpoint.write(12345, directory: dir.path)
        #expect(try Checkpoint.read(directory: dir.path) == 12345)
        try Checkpoint.write(12346, directory: dir.path)
        #expect(try Checkpoint.read(directory: dir.path) == 12346)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/checkpoint.tmp"))
        let path = dir.path + "/" + Checkpoint.fileName
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[6] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: ReplayLogError.self) { try Checkpoint.read(directory: dir.path) }
    }

    private func segments(_ firsts: [LSN], size: Int = 100, modifiedAt: Int64 = 1000) -> [SegmentInfo] {
        firsts.map { SegmentInfo(firstLSN: $0, path: "\($0)", size: size, modifiedAt: modifiedAt) }
    }

    @Test("retention never deletes the active segment nor an unapplied one under the hard limit")
    func keepsUnapplied() {
        let policy = RetentionPolicy(maximumBytes: 0, maximumAgeSeconds: 10, hardLimitBytes: 10_000)
        let decision = policy.decide(segments: segments([1, 11, 21]), checkpoint: 5, now: 1000)
        #expect(decision.delete.isEmpty)
        #expect(!decision.resyncNeeded)
    }

    @Test("retention deletes fully applied segments over the size budget or older than the age limit")
    func deletesApplied() {
        let bySize = RetentionPolicy(maximumBytes: 150, maximumAgeSeconds: 1 << 40, hardLimitBytes: 10_000)
        #expect(bySize.decide(segments: segments([1, 11, 21]), checkpoint: 25, now: 1000).delete.map(\.firstLSN) == [1, 11])
        let byAge = RetentionPolicy(maximumBytes: 1 << 40, maximumAgeSeconds: 10, hardLimitBytes: 10_000)
        #expect(byAge.decide(segments: segments([1, 11, 21]), checkpoint: 15, now: 1000).delete.isEmpty)
        #expect(byAge.decide(segments: segments([1, 11, 21]), checkpoint: 15, now: 2000).delete.map(\.firstLSN) == [1])
    }

    @Test("over the hard limit retention deletes unapplied segments and says a resync is needed")
    func hardLimit() {
        let policy = RetentionPolicy(maximumBytes: 0, maximumAgeSeconds: 1 << 40, hardLimitBytes: 150)
        let decision = policy.decide(segments: segments([1, 11, 21]), checkpoint: 0, now: 1000)
        #expect(decision.delete.map(\.firstLSN) == [1, 11])
        #expect(decision.resyncNeeded)
    }
}
