import NIOCore

/// Dual-write bookkeeping inside ``PostgresSessionStateMachine``: the SQL and parameters of each statement sent to
/// the server and how it answered, handed over as one ``Batch`` at every ReadyForQuery (the point where the
/// transaction status is known and where a sync dual-write holds the client). Only present when the connection's
/// listener dual-writes, so other connections keep no copies of SQL.
public struct PostgresStatementCapture: Sendable {
    /// One parameter value as the client bound it.
    public enum Parameter: Sendable, Hashable {
        case null
        case text(String)
        case binary([UInt8])
    }

    /// A simple Query text or one Execute of a prepared statement, and its answer.
    public struct Statement: Sendable, Hashable {
        /// The SQL as sent to the server (rewritten for a lane).
        public var sql: String
        /// The lane it ran in.
        public var lane: String
        /// Bound parameters of an Execute; nil for a simple Query.
        public var parameters: [Parameter]?
        /// Command tags in order (a simple Query with several statements has several).
        public var tags: [String] = []
        /// The server answered with an ErrorResponse.
        public var failed = false
        /// Every answer arrived (CommandComplete of an Execute, or the ReadyForQuery of a Query).
        public var finished = false
        /// The rows of a `COPY … FROM STDIN` in a mirrored lane, as the client sent them (its CopyData, in order).
        public var copyData: [UInt8]?

        public init(
            sql: String, lane: String, parameters: [Parameter]?, tags: [String] = [], failed: Bool = false, finished: Bool = false
        ) {
            self.sql = sql
            self.lane = lane
            self.parameters = parameters
            self.tags = tags
            self.failed = failed
            self.finished = finished
        }
    }

    /// Everything between two ReadyForQuery messages.
    public struct Batch: Sendable, Hashable {
        public var statements: [Statement]
        /// The status before the batch (`I`, `T`, `E`).
        public var statusBefore: UInt8
        /// The status in the ReadyForQuery that ended it.
        public var status: UInt8
        public var errorSeen: Bool

        public init(statements: [Statement], statusBefore: UInt8, status: UInt8, errorSeen: Bool) {
            self.statements = statements
            self.statusBefore = statusBefore
            self.status = status
            self.errorSeen = errorSeen
        }
    }

    /// What happened to one CopyData message of the running COPY.
    public enum CopyCapture: Sendable, Hashable {
        /// Kept (or not needed: the COPY's lane is not mirrored).
        case kept
        /// The COPY's data would exceed ``copyLimit`` bytes: the COPY must fail.
        case overLimit(Int)
    }

    /// Most bytes of `COPY … FROM STDIN` data one statement may carry into the replay log (held in memory until the
    /// server confirms the COPY). Default 16 MiB.
    public var copyLimit = 16 << 20

    /// The error a COPY over ``copyLimit`` fails with, as the client sees it.
    public static func copyLimitMessage(_ limit: Int) -> String {
        "shadowgate: this lane's writes are mirrored (dual_write), and COPY FROM STDIN data is captured up to "
            + "\(limit) bytes per statement (replay_log.max_copy_bytes); split the load into smaller COPY statements, "
            + "or raise the limit"
    }

    var preparedSQL: [String: (sql: String, lane: String)] = [:]
    var portals: [String: (sql: String, lane: String, parameters: [Parameter])] = [:]
    var statements: [Statement] = []
    /// The first statement still waiting for its answer.
    var cursor = 0
    var completed: Batch?

    public init() {}

    mutating func parsed(name: String, sql: [UInt8], lane: String) {
        preparedSQL[name] = (String(decoding: sql, as: UTF8.self), lane)
    }

    mutating func bound(portal: String, statement: String, frame: PostgresFrame) {
        guard let prepared = preparedSQL[statement] else {
            portals[portal] = nil
            return
        }
        portals[portal] = (prepared.sql, prepared.lane, Self.parameters(ofBind: frame.body) ?? [])
    }

    mutating func closed(kind: UInt8, name: String) {
        if kind == UInt8(ascii: "S") { preparedSQL[name] = nil } else { portals[name] = nil }
    }

    mutating func queried(sql: [UInt8], lane: String) {
        statements.append(Statement(sql: String(decoding: sql, as: UTF8.self), lane: lane, parameters: nil))
    }

    mutating func executed(portal: String) {
        guard let bound = portals[portal] else {
            // A portal the proxy did not see bound (or refused): it fails on the server; keep the order.
            statements.append(Statement(sql: "", lane: "", parameters: nil, finished: true))
            return
        }
        statements.append(Statement(sql: bound.sql, lane: bound.lane, parameters: bound.parameters))
    }

    /// Keeps one CopyData payload of the COPY now running when its lane is mirrored.
    mutating func copyData(_ body: ByteBuffer, mirroredLanes: Set<String>) -> CopyCapture {
        guard cursor < statements.count, mirroredLanes.contains(statements[cursor].lane) else { return .kept }
        let size = (statements[cursor].copyData?.count ?? 0) + body.readableBytes
        guard size <= copyLimit else {
            statements[cursor].copyData = nil
            return .overLimit(copyLimit)
        }
        if statements[cursor].copyData == nil { statements[cursor].copyData = [] }
        statements[cursor].copyData?.append(contentsOf: body.readableBytesView)
        return .kept
    }

    mutating func commandCompleted(tag: String, isExecute: Bool) {
        guard cursor < statements.count else { return }
        statements[cursor].tags.append(tag)
        if isExecute {
            statements[cursor].finished = true
            cursor += 1
        }
    }

    mutating func failed() {
        guard cursor < statements.count else { return }
        statements[cursor].failed = true
        statements[cursor].finished = true
        cursor += 1
    }

    mutating func ready(statusBefore: UInt8, status: UInt8, errorSeen: Bool) {
        // A simple Query finishes at its ReadyForQuery.
        if cursor < statements.count, statements[cursor].parameters == nil, !statements[cursor].failed {
            statements[cursor].finished = true
        }
        if !statements.isEmpty {
            completed = Batch(statements: statements, statusBefore: statusBefore, status: status, errorSeen: errorSeen)
        }
        statements.removeAll(keepingCapacity: true)
        cursor = 0
    }

    /// Bind: portal, statement, format codes, parameter values (the result formats after them are not needed).
    static func parameters(ofBind body: ByteBuffer) -> [Parameter]? {
        var buffer = body
        guard buffer.readPostgresCString() != nil, buffer.readPostgresCString() != nil,
            let formatCount = buffer.readInteger(as: Int16.self), formatCount >= 0
        else { return nil }
        var formats: [Int16] = []
        for _ in 0..<formatCount {
            guard let format = buffer.readInteger(as: Int16.self) else { return nil }
            formats.append(format)
        }
        guard let count = buffer.readInteger(as: Int16.self), count >= 0 else { return nil }
        var values: [Parameter] = []
        values.reserveCapacity(Int(count))
        for index in 0..<Int(count) {
            guard let length = buffer.readInteger(as: Int32.self) else { return nil }
            if length < 0 {
                values.append(.null)
                continue
            }
            guard let bytes = buffer.readBytes(length: Int(length)) else { return nil }
            let format = formats.count == 1 ? formats[0] : (index < formats.count ? formats[index] : 0)
            values.append(format == 1 ? .binary(bytes) : .text(String(decoding: bytes, as: UTF8.self)))
        }
        return values
    }
}
