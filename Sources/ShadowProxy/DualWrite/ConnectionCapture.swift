import Foundation
import NIOConcurrencyHelpers
import PostgresWire
import ReplayLog
import ShadowSQL

/// The dual-write side of one proxied connection: one ``TransactionCaptureStateMachine`` per stream the
/// connection's statements reach (a statement hint can move single statements between lanes), fed from the
/// protocol handler when a statement's outcome is known. Pure apart from reading the service's stream list.
public struct ConnectionCapture: Sendable {
    /// A record and the stream whose log it goes to.
    public struct Pending: Sendable {
        public var stream: DualWriteStream
        public var record: ReplayRecord
    }

    /// A statement as the primary answered it.
    public struct Outcome: Sendable {
        /// The SQL the server ran (rewritten for a lane).
        public var sql: String
        /// The lane it ran in (the base lane's name for base).
        public var lane: String
        public var succeeded: Bool
        /// The server's transaction status afterwards; nil when the answer has none.
        public var inTransaction: Bool?
        /// PostgreSQL: the command tag (`COMMIT` answered to a failed transaction says `ROLLBACK`).
        public var commandTag: String?
        public var parameters: [ReplayValue]?
        /// MySQL: the OK packet's last insert id (the first auto-increment value the statement generated).
        public var insertID: UInt64?
        /// MySQL: the statement's time, replayed as `SET TIMESTAMP`.
        public var timestampMicros: Int64?
        /// False when the proxy could not decode the statement or its values (then its stream stops mirroring
        /// rather than let the mirror silently miss a write).
        public var capturable = true

        public init(
            sql: String, lane: String, succeeded: Bool, inTransaction: Bool?, commandTag: String? = nil,
            parameters: [ReplayValue]? = nil, insertID: UInt64? = nil, timestampMicros: Int64? = nil
        ) {
            self.sql = sql
            self.lane = lane
            self.succeeded = succeeded
            self.inTransaction = inTransaction
            self.commandTag = commandTag
            self.parameters = parameters
            self.insertID = insertID
            self.timestampMicros = timestampMicros
        }
    }

    private static let nextConnectionID = NIOLockedValueBox<UInt64>(0)

    public let connectionID: UInt64
    /// Most bytes of `COPY … FROM STDIN` data one captured statement may carry.
    public let maxCopyBytes: Int
    private let streams: [DualWriteStream]
    private let dialect: SQLDialect
    private var machines: [String: TransactionCaptureStateMachine] = [:]
    /// MySQL `LAST_INSERT_ID()` as the session sees it: the last non-zero insert id of a successful statement.
    private var lastInsertID: UInt64?

    /// nil when no stream mirrors anything of `listener`: the connection then pays nothing for dual-write.
    public init?(service: DualWriteService?, listener: String, dialect: SQLDialect) {
        guard let service else { return nil }
        let streams = service.streams.filter { $0.configuration.listener == listener }
        guard !streams.isEmpty else { return nil }
        self.streams = streams
        self.dialect = dialect
        self.maxCopyBytes = service.maxCopyBytes
        self.connectionID = Self.nextConnectionID.withLockedValue { value in
            value += 1
            return value
        }
    }

    /// Whether statements of `lane` are mirrored on this connection (other lanes skip the bookkeeping).
    public func mirrors(lane: String) -> Bool { streams.contains { $0.configuration.lane == lane } }

    /// The lanes this connection mirrors (the session refuses what it could not capture in them).
    public var mirroredLanes: Set<String> { Set(streams.map(\.configuration.lane)) }

    /// Feeds one finished statement; returns the records that became complete (to append, in order).
    public mutating func statementFinished(_ outcome: Outcome, nowMicros: Int64) -> [Pending] {
        if dialect == .mysql, outcome.parameters == nil, outcome.capturable, let parts = Self.multiStatementParts(outcome.sql) {
            return multiStatementFinished(outcome, parts: parts, nowMicros: nowMicros)
        }
        return singleStatementFinished(outcome, nowMicros: nowMicros)
    }

    /// The statements of a MySQL multi-statement text, or nil for one statement. Routine, trigger and event
    /// definitions are never split: their bodies contain semicolons only the server can place.
    public static func multiStatementParts(_ sql: String) -> [String]? {
        guard sql.utf8.contains(UInt8(ascii: ";")) else { return nil }
        let parts = split(sql, dialect: .mysql)
        guard parts.count > 1 else { return nil }
        if StatementWords(parts[0], dialect: .mysql).leading(1).first == "create" { return nil }
        return parts
    }

    /// A MySQL multi-statement text (CLIENT_MULTI_STATEMENTS): replayed statement by statement, since the mirror
    /// session runs one statement per call. Only the last statement's OK is known, so earlier statements' insert
    /// ids are left to the mirror; if the text failed, which statements ran is unknown and a write among them stops
    /// the stream.
    private mutating func multiStatementFinished(_ outcome: Outcome, parts: [String], nowMicros: Int64) -> [Pending] {
        guard outcome.succeeded else {
            // The failing statement ended the text; what ran before it is unknown.
            if parts.contains(where: { Self.kind(of: $0, dialect: dialect) != .read }) { stopMirroring(lane: outcome.lane) }
            return singleStatementFinished(outcome, nowMicros: nowMicros)
        }
        var records: [Pending] = []
        for (index, part) in parts.enumerated() {
            var single = outcome
            single.sql = part
            if index < parts.count - 1 {
                single.inTransaction = nil
                single.insertID = nil
            }
            records += singleStatementFinished(single, nowMicros: nowMicros)
        }
        return records
    }

    private mutating func singleStatementFinished(_ outcome: Outcome, nowMicros: Int64) -> [Pending] {
        var records: [Pending] = []
        // Read once, shared by the scanners below (they run for every statement of a mirrored lane).
        let words = StatementWords(outcome.sql, dialect: dialect)
        if let control = TransactionControl.parse(words) {
            guard outcome.succeeded else {
                // A failed COMMIT/ROLLBACK ends the transaction only when the server says so.
                if outcome.inTransaction == false { records += broadcast(.rolledBack, now: nowMicros) }
                return records
            }
            let event: TransactionCaptureStateMachine.Event
            switch control {
            case .begin: event = .began
            case .commit: event = outcome.commandTag?.uppercased() == "ROLLBACK" ? .rolledBack : .committed
            case .rollback: event = .rolledBack
            case .savepoint(let name): event = .savepoint(name)
            case .rollbackToSavepoint(let name): event = .rolledBackToSavepoint(name)
            case .releaseSavepoint(let name): event = .releasedSavepoint(name)
            }
            return broadcast(event, now: nowMicros)
        }
        var context = ReplayContext()
        if dialect == .mysql {
            context.timestampMicros = outcome.timestampMicros
            if outcome.succeeded, let insertID = outcome.insertID, insertID > 0 { context.insertID = insertID }
            context.lastInsertID = lastInsertID
            if outcome.succeeded, let insertID = outcome.insertID, insertID > 0 { lastInsertID = insertID }
        }
        let kind = Self.kind(of: outcome.sql, words: words, dialect: dialect)
        if !outcome.capturable {
            if outcome.succeeded && (outcome.sql.isEmpty || kind != .read) { stopMirroring(lane: outcome.lane) }
            return []
        }
        var nonDeterministic: Bool?
        for stream in streams {
            var machine = machines[stream.target] ?? stream.makeCaptureMachine(connectionID: connectionID)
            let statement: ExecutedStatement
            if stream.configuration.lane == outcome.lane {
                var sql = outcome.sql
                if kind != .read {
                    switch stream.mirrorSQL(outcome.sql) {
                    case .sql(let renamed): sql = renamed
                    case .uncertain(let reason):
                        if outcome.succeeded {
                            stream.stopMirroring(
                                reason: "connection \(connectionID) ran a write the mirror's column map cannot translate "
                                    + "faithfully: \(reason); the mirror must be resynced")
                        }
                    }
                }
                // Renaming tables changes no function call and no leading keyword: what the primary ran tells both.
                nonDeterministic = nonDeterministic ?? NonDeterminismScanner.isNonDeterministic(words, dialect: dialect)
                statement = ExecutedStatement(
                    sql: sql, parameters: outcome.parameters, context: context, kind: kind, nonDeterministic: nonDeterministic,
                    leadingWord: words.words.first?.text ?? "")
            } else {
                // Another lane's statement: not mirrored here, but it still tells this stream about implicit commits.
                statement = ExecutedStatement(sql: "", kind: .read)
            }
            let event = TransactionCaptureStateMachine.Event.statementExecuted(
                statement, succeeded: outcome.succeeded, serverSaysInTransaction: outcome.inTransaction)
            if let record = machine.handle(event, nowMicros: nowMicros) { records.append(Pending(stream: stream, record: record)) }
            machines[stream.target] = machine
        }
        return records
    }

    /// PostgreSQL: feeds everything answered since the previous ReadyForQuery. Statements sent without an explicit
    /// transaction (several in one Query, or several Executes before one Sync) form one implicit transaction: an error
    /// rolls all of them back, so none is mirrored.
    public mutating func batchFinished(_ batch: PostgresStatementCapture.Batch, nowMicros: Int64) -> [Pending] {
        let idle = UInt8(ascii: "I")
        var items: [Outcome] = []
        for statement in batch.statements where statement.finished && !statement.sql.isEmpty {
            var parameters = statement.parameters.map { values in
                values.map { value -> ReplayValue in
                    switch value {
                    case .null: .null
                    case .text(let text): .text(text)
                    case .binary(let bytes): .bytes(bytes)
                    }
                }
            }
            // A COPY … FROM STDIN carries its rows as its one value (a COPY has no placeholders); the applier sends
            // them as copy data.
            if let rows = statement.copyData { parameters = [.bytes(rows)] }
            let parts = parameters == nil ? Self.split(statement.sql, dialect: dialect) : [statement.sql]
            let hasControl = parts.contains { TransactionControl.parse($0, dialect: dialect) != nil }
            if parts.count <= 1 || !hasControl {
                items.append(
                    Outcome(
                        sql: statement.sql, lane: statement.lane, succeeded: !statement.failed, inTransaction: nil,
                        commandTag: statement.tags.last, parameters: parameters))
                continue
            }
            // One Query with transaction control inside: each part in order, as far as the server got.
            for (index, part) in parts.enumerated() {
                if index < statement.tags.count {
                    items.append(Outcome(sql: part, lane: statement.lane, succeeded: true, inTransaction: nil, commandTag: statement.tags[index]))
                } else {
                    if statement.failed { items.append(Outcome(sql: part, lane: statement.lane, succeeded: false, inTransaction: nil)) }
                    break
                }
            }
        }
        guard !items.isEmpty else { return [] }
        let hasControl = items.contains { TransactionControl.parse($0.sql, dialect: dialect) != nil }
        if batch.statusBefore == idle && !hasControl && batch.errorSeen && batch.status == idle {
            return []  // the implicit transaction was rolled back
        }
        items[items.count - 1].inTransaction = batch.status != idle
        var records: [Pending] = []
        for item in items { records += singleStatementFinished(item, nowMicros: nowMicros) }
        return records
    }

    /// Splits a text into its statements at top-level semicolons (strings, comments and dollar quotes respected).
    static func split(_ sql: String, dialect: SQLDialect) -> [String] {
        let bytes = Array(sql.utf8)
        var parts: [String] = []
        var start = 0
        for token in SQLTokenizer.tokenize(sql, dialect: dialect) where token.kind == .semicolon {
            parts.append(String(decoding: bytes[start..<token.start], as: UTF8.self))
            start = token.end
        }
        parts.append(String(decoding: bytes[start...], as: UTF8.self))
        return parts.filter { part in part.utf8.contains { $0 != 0x20 && $0 != 0x0A && $0 != 0x09 && $0 != 0x0D } }
    }

    /// A write of `lane` happened that the proxy cannot capture faithfully: its streams stop rather than diverge.
    private func stopMirroring(lane: String) {
        for stream in streams where stream.configuration.lane == lane {
            stream.stopMirroring(
                reason: "connection \(connectionID) ran a write the proxy could not capture faithfully (a prepared "
                    + "statement it could not decode, or a failed multi-statement text); the mirror must be resynced")
        }
    }

    private mutating func broadcast(_ event: TransactionCaptureStateMachine.Event, now: Int64) -> [Pending] {
        var records: [Pending] = []
        for stream in streams {
            var machine = machines[stream.target] ?? stream.makeCaptureMachine(connectionID: connectionID)
            if let record = machine.handle(event, nowMicros: now) { records.append(Pending(stream: stream, record: record)) }
            machines[stream.target] = machine
        }
        return records
    }

    /// The statement's kind for capture; several statements in one text take the one that matters most.
    /// `kind(of:dialect:)`, answered from the leading word for the plain row writes that make up most of a write
    /// workload (`INSERT`, `UPDATE`, `DELETE`, `REPLACE` are writes whatever follows), without a second lexer pass.
    static func kind(of sql: String, words: StatementWords, dialect: SQLDialect) -> StatementKind {
        if let first = words.words.first, first.isBareWord, Self.rowWriteWords.contains(first.text) { return .write }
        return kind(of: sql, dialect: dialect)
    }

    static let rowWriteWords: Set<String> = ["insert", "update", "delete", "replace"]

    static func kind(of sql: String, dialect: SQLDialect) -> StatementKind {
        let kinds = StatementClassifier.classify(sql, dialect: dialect)
        for candidate in [StatementKind.ddl, .write, .other, .transactionControl, .session] where kinds.contains(candidate) {
            return candidate
        }
        return .read
    }
}

/// Wall-clock microseconds for record and statement timestamps.
enum DualWriteClock {
    static func nowMicros() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000
    }
}
