/// The result of reading a whole segment: how many valid records, up to where, and what is wrong after that.
public struct SegmentScan: Sendable, Hashable {
    /// What follows the last valid record, if not a clean end of file.
    public enum Damage: Sendable, Hashable {
        /// Only garbage follows `offset`: a write cut by a crash. Safe to truncate at `offset` in the last segment.
        case tornTail(offset: Int, problem: ReplayRecordCodec.FrameProblem)
        /// A bad record at `offset` is followed by a valid one at `nextValidOffset`: real corruption.
        case corruptMiddle(offset: Int, problem: ReplayRecordCodec.FrameProblem, nextValidOffset: Int)
    }

    public var path: String
    public var firstLSN: LSN
    /// LSN of the last valid record; `firstLSN - 1` when there is none.
    public var lastLSN: LSN
    public var recordCount: Int
    /// Offset just past the last valid record.
    public var validEnd: Int
    public var damage: Damage?

    /// Reads every frame of the segment at `path`, checking CRCs and LSN continuity. Zeros after the last record
    /// (space a writer allocated ahead) are a clean end; zeros with data after them are judged like a bad frame.
    public static func scan(path: String) throws(ReplayLogError) -> SegmentScan {
        let cursor = try SegmentCursor(path: path)
        var count = 0
        while true {
            let offset: Int
            let problem: ReplayRecordCodec.FrameProblem
            switch try cursor.next() {
            case .record:
                count += 1
                continue
            case .end:
                offset = cursor.offset
                if try cursor.onlyZerosFollow(from: offset) {
                    return SegmentScan(cursor: cursor, path: path, recordCount: count, validEnd: offset, damage: nil)
                }
                problem = .malformed("zero bytes where a record should start, with data after them")
            case .problem(let at, let what):
                offset = at
                problem = what
            }
            let damage: Damage
            if let next = try cursor.validFrameExists(after: offset, minimumLSN: cursor.expectedLSN) {
                damage = .corruptMiddle(offset: offset, problem: problem, nextValidOffset: next)
            } else {
                damage = .tornTail(offset: offset, problem: problem)
            }
            return SegmentScan(cursor: cursor, path: path, recordCount: count, validEnd: offset, damage: damage)
        }
    }

    private init(cursor: SegmentCursor, path: String, recordCount: Int, validEnd: Int, damage: Damage?) {
        self.path = path
        self.firstLSN = cursor.firstLSN
        self.lastLSN = cursor.expectedLSN - 1
        self.recordCount = recordCount
        self.validEnd = validEnd
        self.damage = damage
    }
}

/// The result of `ReplayLogVerifier.verify`: every segment's scan and every problem found, in log order.
public struct VerifyReport: Sendable {
    public var segments: [SegmentScan]
    /// Human-readable problems naming segment, offset and LSN; empty when the log is sound.
    public var problems: [String]
    public var isSound: Bool { problems.isEmpty }
}

/// Checks a whole log directory without changing it (the `replay verify` command).
public enum ReplayLogVerifier {
    public static func verify(directory: String) throws(ReplayLogError) -> VerifyReport {
        let segments = try SegmentFile.list(in: directory)
        var scans: [SegmentScan] = []
        var problems: [String] = []
        for (index, segment) in segments.enumerated() {
            let scan: SegmentScan
            do {
                scan = try SegmentScan.scan(path: segment.path)
            } catch {
                problems.append(error.message)
                continue
            }
            if scan.firstLSN != segment.firstLSN {
                problems.append("\(segment.path): header names first LSN \(scan.firstLSN), file name \(segment.firstLSN)")
            }
            if let previous = scans.last, previous.lastLSN + 1 != scan.firstLSN {
                problems.append(
                    "\(segment.path): starts at LSN \(scan.firstLSN) but the previous segment ends at \(previous.lastLSN)")
            }
            switch scan.damage {
            case nil: break
            case .corruptMiddle(let offset, let problem, let next):
                problems.append(
                    "\(segment.path): corrupt record at offset \(offset) (expected LSN \(scan.lastLSN + 1)): \(problem); "
                        + "valid records follow at offset \(next)")
            case .tornTail(let offset, let problem):
                let isLast = index == segments.count - 1
                problems.append(
                    "\(segment.path): \(isLast ? "torn tail" : "truncated segment") at offset \(offset) "
                        + "(expected LSN \(scan.lastLSN + 1)): \(problem)"
                        + (isLast ? "; it is cut when the writer next opens the log" : ""))
            }
            scans.append(scan)
        }
        return VerifyReport(segments: scans, problems: problems)
    }
}
