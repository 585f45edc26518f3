import ShadowSQL

/// Follows the session switch (`SET shadow.lane = 'gray'`) with PostgreSQL's transactional semantics:
/// a SET inside a transaction that rolls back is undone, SET LOCAL ends with the transaction, RESET / DISCARD ALL /
/// `SET … TO DEFAULT` go back to the connection's startup value. Changes are applied only when the server reported
/// the statement complete, and committed or dropped when the transaction's outcome is known.
public struct SessionLaneSetting: Sendable, Hashable {
    /// A value of the setting: the startup (reset) value, or an explicit lane name.
    public enum Value: Sendable, Hashable {
        case startup
        case lane(String)
    }

    /// The committed session value.
    public private(set) var session: Value = .startup
    /// A session-level SET made in the still-open transaction.
    public private(set) var pendingInTransaction: Value?
    /// A SET LOCAL in the still-open transaction.
    public private(set) var local: Value?

    /// A savepoint of the open transaction and the setting's values when it was made: ROLLBACK TO it restores
    /// them, RELEASE keeps the values made since.
    public struct Savepoint: Sendable, Hashable {
        /// The name as the server folds it; nil when the proxy could not read it.
        public var name: String?
        public var pendingInTransaction: Value?
        public var local: Value?
    }

    /// The open transaction's savepoints, innermost last.
    public private(set) var savepoints: [Savepoint] = []
    /// A RELEASE named a savepoint the proxy did not know: the stack may be wrong from here on.
    private var savepointsLost = false
    /// ROLLBACK TO could not be matched to a savepoint while the transaction had set the lane: the server's value
    /// is unknown until the transaction ends, and statements are refused until then.
    public private(set) var uncertain = false

    public init() {}

    /// The lane the session switch names now, or nil when it is at its startup value.
    public var effectiveLane: String? {
        switch local ?? pendingInTransaction ?? session {
        case .startup: nil
        case .lane(let name): name
        }
    }

    /// Applies a completed statement's effect; effects on other settings are ignored.
    public mutating func apply(_ effect: SessionEffect, setting: String) {
        switch effect {
        case .setVariable(let name, let value, let scope):
            guard name.lowercased() == setting.lowercased() else { return }
            let v: Value = value.map { .lane($0) } ?? .startup
            switch scope {
            case .session:
                pendingInTransaction = v
                local = nil
            case .local:
                local = v
            }
        case .resetAll:
            pendingInTransaction = .startup
            local = nil
        case .useDatabase, .setCharacterSet, .setSQLMode, .executePrepared:
            break
        }
    }

    /// The transaction committed (COMMIT, or an implicit transaction ended without error).
    public mutating func commit() {
        if let pending = pendingInTransaction { session = pending }
        endTransaction()
    }

    /// The transaction rolled back.
    public mutating func rollback() {
        endTransaction()
    }

    private mutating func endTransaction() {
        pendingInTransaction = nil
        local = nil
        savepoints.removeAll()
        savepointsLost = false
        uncertain = false
    }

    /// `SAVEPOINT name` completed.
    public mutating func savepoint(_ name: String?) {
        savepoints.append(Savepoint(name: name, pendingInTransaction: pendingInTransaction, local: local))
    }

    /// `RELEASE [SAVEPOINT] name` completed: the savepoint and those after it are gone, the values stay.
    public mutating func release(_ name: String?) {
        guard let name, let i = savepoints.lastIndex(where: { $0.name == name }) else {
            savepointsLost = true
            return
        }
        savepoints.removeSubrange(i...)
    }

    /// `ROLLBACK TO [SAVEPOINT] name` completed: the values return to what they were at the savepoint, which
    /// stays; later savepoints are gone. When the savepoint cannot be matched and the transaction set the lane,
    /// the lane becomes ``uncertain``.
    public mutating func rollback(toSavepoint name: String?) {
        guard !savepointsLost, let name, let i = savepoints.lastIndex(where: { $0.name == name }) else {
            if pendingInTransaction != nil || local != nil || savepoints.contains(where: { $0.pendingInTransaction != nil || $0.local != nil }) {
                uncertain = true
            }
            return
        }
        pendingInTransaction = savepoints[i].pendingInTransaction
        local = savepoints[i].local
        savepoints.removeSubrange((i + 1)...)
    }

    /// Follows a command tag: COMMIT commits, ROLLBACK (also the tag of COMMIT in an aborted transaction) rolls back.
    /// The caller tells ROLLBACK TO SAVEPOINT (the same tag) apart and calls ``rollback(toSavepoint:)`` instead.
    public mutating func commandCompleted(tag: String) {
        if tag == "COMMIT" || tag == "PREPARE TRANSACTION" {
            commit()
        } else if tag == "ROLLBACK" {
            rollback()
        }
    }

    /// Follows ReadyForQuery: outside a transaction block, whatever is pending committed unless an error was seen
    /// since the last ReadyForQuery (an implicit transaction that failed is rolled back).
    public mutating func readyForQuery(status: UInt8, errorSeen: Bool) {
        guard status == UInt8(ascii: "I") else { return }
        if errorSeen { rollback() } else { commit() }
    }
}
