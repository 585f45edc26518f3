import Testing
@testable import ReplayLog

@Suite struct ReplayRecordCodecTests {
    @Test("random records survive encode then decode unchanged (500 seeded cases)")
    func roundTrip() throws {
        var g = SeededGenerator(state: 2024)
        for _ in 0..<500 {
            let record = randomRecord(&g)
            let frame = try ReplayRecordCodec.encode(record)
            let decoded = try ReplayRecordCodec.decodeFrame(frame).get()
            #expect(decoded.0 == record)
            #expect(decoded.1 == frame.count)
        }
    }

    @Test("flipping any single bit of a frame is detected, never decoded as a different record")
    func bitFlipsDetected() throws {
        let record = ReplayRecord(
            lsn: 9, timestampMicros: 1, connectionID: 2, transactionID: 3, dialect: .postgres, target: "m",
            flags: .nonDeterministic,
            statements: [ReplayStatement(sql: "INSERT INTO t VALUES ($1)", parameters: [.text("x"), .null])])
        let frame = try ReplayRecordCodec.encode(record)
        for bit in 0..<(frame.count * 8) {
            var damaged = frame
            damaged[bit / 8] ^= 1 << UInt8(bit % 8)
            if case .success(let (decoded, _)) = ReplayRecordCodec.decodeFrame(damaged) {
                #expect(decoded == record && bit / 8 >= frame.count, "bit \(bit) flipped undetected")
            }
        }
    }

    @Test("every truncation of a frame is reported as a short record, never a crash")
    func truncations() throws {
        let frame = try ReplayRecordCodec.encode(sampleRecord())
        for length in 0..<frame.count {
            let result = ReplayRecordCodec.decodeFrame(Array(frame[..<length]))
            guard case .failure(let problem) = result else {
                Issue.record("prefix of \(length) bytes decoded")
                continue
            }
            if length >= 8 { #expect(problem == .truncated(needed: frame.count, available: length)) }
        }
    }

    @Test("random bytes never crash the decoder")
    func randomBytes() {
        var g = SeededGenerator(state: 99)
        for _ in 0..<2000 {
            var bytes = (0..<Int.random(in: 0...128, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }
            if bytes.count >= 4, Bool.random(using: &g) {
                let length = UInt32(bytes.count - 8 > 0 ? bytes.count - 8 : 0)
                bytes.setLE(length, at: 0)
            }
            _ = ReplayRecordCodec.decodeFrame(bytes)
        }
    }

    @Test("a frame announcing a payload beyond the maximum is rejected as an impossible length")
    func hugeLength() {
        var frame = [UInt8](repeating: 0, count: 64)
        frame.setLE(UInt32.max, at: 0)
        #expect(throws: ReplayRecordCodec.FrameProblem.badLength(Int(UInt32.max))) {
            try ReplayRecordCodec.decodeFrame(frame).get()
        }
    }

    @Test("segment file names are 20-digit zero-padded first LSNs and parse back")
    func segmentNames() {
        #expect(SegmentFile.name(firstLSN: 42) == "00000000000000000042.seg")
        #expect(SegmentFile.firstLSN(fromName: "00000000000000000042.seg") == 42)
        #expect(SegmentFile.firstLSN(fromName: "checkpoint") == nil)
        #expect(SegmentFile.firstLSN(fromName: "42.seg") == nil)
    }
}

@Suite struct ApplierBatchingTests {
    private func record(_ sqls: [String]) -> ReplayRecord {
        ReplayRecord(
            timestampMicros: 0, connectionID: 1, transactionID: 1, dialect: .mysql, target: "t", flags: [],
            statements: sqls.map { ReplayStatement(sql: $0) })
    }

    @Test("records whose statements are all INSERT, UPDATE, DELETE or REPLACE (after plain comments) may share a mirror transaction")
    func rowWritesBatch() {
        #expect(ReplayApplier.isBatchable(record(["INSERT INTO t VALUES (1)", "  update t SET a = 1", "\nDELETE FROM t", "Replace INTO t VALUES (2)"])))
        #expect(ReplayApplier.isBatchable(record(["INSERT\tINTO t VALUES (1)"])))
        // A lane hint or a tag before the keyword is a plain comment.
        #expect(ReplayApplier.isBatchable(record(["/* c */ INSERT INTO t VALUES (1)", "-- lane: gray\n# x\nUPDATE t SET a = 1"])))
        #expect(ReplayApplier.isBatchable(record(["/*Migration 12*/ DELETE FROM t"])))
    }

    @Test("DDL, other statements, look-alike words, executable or unclosed leading comments and empty records are applied alone")
    func othersAlone() {
        #expect(!ReplayApplier.isBatchable(record(["INSERT INTO t VALUES (1)", "CREATE TABLE u (a int)"])))
        #expect(!ReplayApplier.isBatchable(record(["ALTER TABLE t ADD COLUMN b int"])))
        #expect(!ReplayApplier.isBatchable(record(["TRUNCATE t"])))
        #expect(!ReplayApplier.isBatchable(record(["inserted_rows"])))
        #expect(!ReplayApplier.isBatchable(record(["INSERT_x"])))
        #expect(!ReplayApplier.isBatchable(record(["/*! INSERT */ INTO t VALUES (1)"])))
        #expect(!ReplayApplier.isBatchable(record(["/*M! INSERT */ INTO t VALUES (1)"])))
        #expect(!ReplayApplier.isBatchable(record(["/* never closed INSERT INTO t VALUES (1)"])))
        #expect(!ReplayApplier.isBatchable(record(["/**/"])))
        #expect(!ReplayApplier.isBatchable(record(["WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x"])))
        #expect(!ReplayApplier.isBatchable(record([])))
    }
}
