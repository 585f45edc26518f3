import Foundation
import Testing
@testable import ReplayLog

private func readAll(_ directory: String) throws -> [ReplayRecord] {
    let reader = ReplayLogReader(directory: directory, from: 1)
    var records: [ReplayRecord] = []
    while let record = try reader.next() { records.append(record) }
    return records
}

/// Writes a segment as a writer that crashed would leave it: header, the frames of LSNs `1...count`, then `tail`.
private func writeSegment(_ directory: String, count: Int, tail: [UInt8]) throws -> (path: String, dataEnd: Int) {
    var bytes = SegmentFile.header(firstLSN: 1)
    for n in 1...count {
        var record = sampleRecord(n, sql: "INSERT \(n)")
        record.lsn = LSN(n)
        try ReplayRecordCodec.encode(record, into: &bytes)
    }
    let dataEnd = bytes.count
    let path = directory + "/" + SegmentFile.name(firstLSN: 1)
    try Data(bytes + tail).write(to: URL(fileURLWithPath: path))
    return (path, dataEnd)
}

private func fileSize(_ path: String) throws -> Int {
    try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
}

@Suite struct PreallocatedSegmentTests {
    @Test("zero-filled space after the last record is the end of the log for the reader, the scan and verify")
    func zeroTailIsEnd() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let (path, dataEnd) = try writeSegment(dir.path, count: 5, tail: [UInt8](repeating: 0, count: 70_000))
        #expect(try readAll(dir.path).map(\.lsn) == Array(1...5))
        let scan = try SegmentScan.scan(path: path)
        #expect(scan.damage == nil && scan.validEnd == dataEnd && scan.lastLSN == 5)
        #expect(try ReplayLogVerifier.verify(directory: dir.path).isSound)
    }

    @Test("reopening after a crash cuts the zero-filled tail and appends right after the last record")
    func reopenAfterZeroTail() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let (path, dataEnd) = try writeSegment(dir.path, count: 3, tail: [UInt8](repeating: 0, count: 5000))
        let writer = try ReplayLogWriter(configuration: .init(directory: dir.path), logger: testLogger)
        #expect(try fileSize(path) == dataEnd)
        #expect(try await writer.append(sampleRecord(4)) == 4)
        writer.close()
        #expect(try readAll(dir.path).map(\.lsn) == Array(1...4))
        #expect(try ReplayLogVerifier.verify(directory: dir.path).isSound)
    }

    @Test("a record cut short inside the zero-filled space is a torn tail, cut at reopen")
    func tornRecordBeforeZeros() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        var torn = try ReplayRecordCodec.encode({ var r = sampleRecord(9); r.lsn = 4; return r }())
        torn.removeLast(10)
        let (path, dataEnd) = try writeSegment(dir.path, count: 3, tail: torn + [UInt8](repeating: 0, count: 4096))
        guard case .tornTail(let offset, _) = try SegmentScan.scan(path: path).damage else {
            Issue.record("expected a torn tail")
            return
        }
        #expect(offset == dataEnd)
        let writer = try ReplayLogWriter(configuration: .init(directory: dir.path), logger: testLogger)
        #expect(try await writer.append(sampleRecord(4)) == 4)
        writer.close()
        #expect(try readAll(dir.path).map(\.lsn) == Array(1...4))
    }

    @Test("zeros with a valid record after them are not an end: open refuses, as for any corrupt middle")
    func zerosThenRecordIsCorruption() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        var later = sampleRecord(7)
        later.lsn = 4
        let tail = [UInt8](repeating: 0, count: 300) + (try ReplayRecordCodec.encode(later))
        let (path, dataEnd) = try writeSegment(dir.path, count: 3, tail: tail)
        guard case .corruptMiddle(let offset, _, _) = try SegmentScan.scan(path: path).damage else {
            Issue.record("expected corruption in the middle")
            return
        }
        #expect(offset == dataEnd)
        #expect(throws: ReplayLogError.self) {
            _ = try ReplayLogWriter(configuration: .init(directory: dir.path), logger: testLogger)
        }
        #expect(try fileSize(path) == dataEnd + tail.count, "nothing was cut")
    }

    @Test("while open the segment is zero-filled ahead of its records; readers see exactly the records; close cuts it")
    func liveSegmentIsPreallocated() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let writer = try ReplayLogWriter(
            configuration: .init(directory: dir.path, preallocationChunk: 64 << 10), logger: testLogger)
        for n in 0..<10 { _ = try await writer.append(sampleRecord(n)) }
        let path = try #require(try SegmentFile.list(in: dir.path).last).path
        #expect(try fileSize(path) == 64 << 10)
        #expect(try readAll(dir.path).map(\.lsn) == Array(1...10))
        writer.close()
        let frame = try ReplayRecordCodec.encode(sampleRecord(0)).count
        #expect(try fileSize(path) == SegmentFile.headerSize + 10 * frame)
    }

    @Test("a reader that caught up with the live, zero-filled segment sees the records appended afterwards")
    func readerFollowsLiveSegment() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let writer = try ReplayLogWriter(configuration: .init(directory: dir.path), logger: testLogger)
        defer { writer.close() }
        let reader = ReplayLogReader(directory: dir.path, from: 1)
        _ = try await writer.append(sampleRecord(1))
        #expect(try reader.next()?.lsn == 1)
        #expect(try reader.next() == nil, "caught up: zeros follow")
        for n in 2...4 { _ = try await writer.append(sampleRecord(n)) }
        var seen: [LSN] = []
        while let record = try reader.next() { seen.append(record.lsn) }
        #expect(seen == [2, 3, 4])
    }

    @Test(
        "concurrent appenders get unique LSNs that all read back, with and without preallocation and overlapping syncs",
        arguments: [(0, 1), (0, 2), (1 << 20, 1), (1 << 20, 3)])
    func concurrentAppendsEveryConfiguration(chunk: Int, syncs: Int) async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let writer = try ReplayLogWriter(
            configuration: .init(
                directory: dir.path, segmentSize: 64 << 10, preallocationChunk: chunk, concurrentSyncs: syncs),
            logger: testLogger)
        let lsns = try await withThrowingTaskGroup(of: [LSN].self) { group in
            for task in 0..<8 {
                group.addTask {
                    var mine: [LSN] = []
                    for n in 0..<250 { mine.append(try await writer.append(sampleRecord(task * 1000 + n))) }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let syncs = writer.status.syncCount
        writer.close()
        #expect(Set(lsns) == Set(1...2000))
        #expect(syncs >= 1 && syncs <= 2000)
        #expect(try readAll(dir.path).map(\.lsn) == Array(1...2000))
        #expect(try ReplayLogVerifier.verify(directory: dir.path).isSound)
    }
}
