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
        case .useDatabase:
            break
        }
    }

    /// The transaction committed (COMMIT, or an implicit transaction ended without error).
    public mutating func commit() {
        if let pending = pendingInTransaction { session = pending }
        pendingInTransaction = nil
        local = nil
    }

    /// The transaction rolled back.
    public mutating func rollback() {
        pendingInTransaction = nil
        local = nil
    }

    /// Follows a command tag: COMMIT commits, ROLLBACK (also the tag of COMMIT in an aborted transaction) rolls back.
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
