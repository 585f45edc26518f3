import ReplayLog
import ShadowSQL

/// A statement the primary executed, as the dual-write capture needs it.
public struct ExecutedStatement: Sendable, Hashable {
    /// The SQL the primary ran (already rewritten for a non-base lane, already renamed for the mirror).
    public var sql: String
    /// Bound values of a prepared statement; nil for text.
    public var parameters: [ReplayValue]?
    /// Session facts for deterministic replay (MySQL insert id and timestamp; current schema).
    public var context: ReplayContext
    public var kind: StatementKind
    /// Whether the statement calls something the mirror would compute differently (``NonDeterminismScanner``);
    /// nil: scan `sql` when it is captured. The proxy passes what it found on the statement as the primary ran it.
    public var nonDeterministic: Bool?
    /// The statement's first bare word, lower-cased, when the proxy already read it.
    public var leadingWord: String?

    public init(
        sql: String, parameters: [ReplayValue]? = nil, context: ReplayContext = ReplayContext(), kind: StatementKind,
        nonDeterministic: Bool? = nil, leadingWord: String? = nil
    ) {
        self.sql = sql
        self.parameters = parameters
        self.context = context
        self.kind = kind
        self.nonDeterministic = nonDeterministic
        self.leadingWord = leadingWord
    }
}

/// Per connection: turns the primary's acknowledged statements into replay records, one per autocommit write and
/// one per committed transaction. Pure: the proxy feeds events when a statement's outcome is known and appends the
/// record it gets back; tested without sockets.
///
/// The server's transaction status after each statement is the truth: a successful statement after which the server
/// is no longer in a transaction committed whatever was pending (MySQL implicit commits: DDL, `LOCK TABLES`,
/// `SET autocommit = 1`); a failed one after which it is not rolled the transaction back (MySQL deadlock).
public struct TransactionCaptureStateMachine: Sendable {
    /// What the proxy observed.
    public enum Event: Sendable, Hashable {
        /// A statement finished. `serverSaysInTransaction` is the server's status after it (MySQL OK status flags,
        /// PostgreSQL ReadyForQuery); nil when the response carries none (MySQL ERR).
        case statementExecuted(ExecutedStatement, succeeded: Bool, serverSaysInTransaction: Bool?)
        /// `BEGIN`/`START TRANSACTION` succeeded.
        case began
        /// `COMMIT` succeeded (PostgreSQL: the command tag was COMMIT, not ROLLBACK).
        case committed
        case rolledBack
        case savepoint(String)
        case rolledBackToSavepoint(String)
        case releasedSavepoint(String)
    }

    public let dialect: ReplayDialect
    /// The mirror's name, copied into every record.
    public let target: String
    public let connectionID: UInt64
    private var pending: [ReplayStatement] = []
    private var pendingFlags: ReplayRecordFlags = []
    /// Savepoint name → how many pending statements existed when it was set. Newest last.
    private var savepoints: [(name: String, count: Int, flags: ReplayRecordFlags)] = []
    private var inTransaction = false
    private var transactionCounter: UInt64 = 0

    public init(dialect: ReplayDialect, target: String, connectionID: UInt64) {
        self.dialect = dialect
        self.target = target
        self.connectionID = connectionID
    }

    /// Statements captured in the open transaction (for tests and status).
    public var pendingStatementCount: Int { pending.count }
    public var isInTransaction: Bool { inTransaction }

    /// Feeds one event; returns the record to append when a write became durable on the primary.
    /// `nowMicros` stamps the record (when the primary acknowledged).
    public mutating func handle(_ event: Event, nowMicros: Int64) -> ReplayRecord? {
        switch event {
        case .statementExecuted(let statement, let succeeded, let serverSaysInTransaction):
            return executed(statement, succeeded: succeeded, inTransaction: serverSaysInTransaction, now: nowMicros)
        case .began:
            // MySQL commits an open transaction on BEGIN; PostgreSQL only warns and stays in it.
            let record = dialect == .mysql ? finishTransaction(now: nowMicros) : nil
            inTransaction = true
            return record
        case .committed:
            return finishTransaction(now: nowMicros)
        case .rolledBack:
            discardTransaction()
            return nil
        case .savepoint(let name):
            // MySQL replaces an older savepoint of the same name; PostgreSQL shadows it. Both roll back to the newest.
            if dialect == .mysql { savepoints.removeAll { $0.name == name } }
            savepoints.append((name, pending.count, pendingFlags))
            inTransaction = true
            return nil
        case .rolledBackToSavepoint(let name):
            guard let index = savepoints.lastIndex(where: { $0.name == name }) else { return nil }
            pending.removeSubrange(savepoints[index].count...)
            pendingFlags = savepoints[index].flags
            savepoints.removeSubrange((index + 1)...)
            return nil
        case .releasedSavepoint(let name):
            if let index = savepoints.lastIndex(where: { $0.name == name }) { savepoints.removeSubrange(index...) }
            return nil
        }
    }

    private mutating func executed(_ statement: ExecutedStatement, succeeded: Bool, inTransaction serverInTransaction: Bool?, now: Int64) -> ReplayRecord? {
        guard succeeded else {
            // A failed statement writes nothing; if it also ended the transaction, the server rolled it back.
            if serverInTransaction == false { discardTransaction() }
            return nil
        }
        if isCaptured(statement) {
            pending.append(ReplayStatement(sql: statement.sql, parameters: statement.parameters, context: statement.context))
            let nonDeterministic =
                statement.nonDeterministic
                ?? NonDeterminismScanner.isNonDeterministic(statement.sql, dialect: dialect == .mysql ? .mysql : .postgres)
            if nonDeterministic {
                pendingFlags.insert(.nonDeterministic)
            }
        }
        let stillOpen = serverInTransaction ?? inTransaction
        if stillOpen {
            inTransaction = true
            return nil
        }
        // Autocommit statement, or an implicit commit of what was pending.
        let explicit = inTransaction
        let record = makeRecord(explicit: explicit, now: now)
        reset()
        return record
    }

    private mutating func finishTransaction(now: Int64) -> ReplayRecord? {
        let record = makeRecord(explicit: true, now: now)
        reset()
        return record
    }

    private mutating func discardTransaction() {
        if inTransaction { transactionCounter += 1 }
        pending.removeAll()
        pendingFlags = []
        savepoints.removeAll()
        inTransaction = false
    }

    private mutating func reset() {
        pending.removeAll()
        pendingFlags = []
        savepoints.removeAll()
        inTransaction = false
    }

    private mutating func makeRecord(explicit: Bool, now: Int64) -> ReplayRecord? {
        guard !pending.isEmpty else {
            if explicit { transactionCounter += 1 }
            return nil
        }
        var flags = pendingFlags
        var transactionID: UInt64 = 0
        if explicit {
            transactionCounter += 1
            transactionID = transactionCounter
            flags.insert(.explicitTransaction)
        }
        return ReplayRecord(
            timestampMicros: now, connectionID: connectionID, transactionID: transactionID, dialect: dialect,
            target: target, flags: flags, statements: pending)
    }

    /// Writes and DDL are mirrored; reads, session and transaction-control statements are not, nor statements of
    /// kind `other` that never change data (locks, maintenance, notifications).
    func isCaptured(_ statement: ExecutedStatement) -> Bool {
        switch statement.kind {
        case .write, .ddl: return true
        case .read, .session, .transactionControl: return false
        case .other:
            let first =
                statement.leadingWord
                ?? StatementWords(statement.sql, dialect: dialect == .mysql ? .mysql : .postgres).leading(1).first ?? ""
            return !Self.notMirroredOther.contains(first)
        }
    }

    static let notMirroredOther: Set<String> = [
        "lock", "unlock", "analyze", "optimize", "check", "checksum", "flush", "kill", "vacuum", "listen", "unlisten",
        "notify", "checkpoint", "cluster", "reindex", "discard", "help", "handler", "xa", "",
    ]
}
