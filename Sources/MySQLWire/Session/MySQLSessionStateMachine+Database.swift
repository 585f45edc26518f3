import NIOCore
import ShadowConfig
import ShadowSQL

/// The current database and database-level lanes.
///
/// A lane's `databases` map (`mse_demo → mse_demo_gray`) is applied where the client selects a database: the
/// handshake, COM_INIT_DB, a `USE` sent on its own and COM_CHANGE_USER. The rewriter renames tables, not the server's
/// current database, so an unqualified table name runs in whatever database the server is in. The proxy therefore
/// remembers which database it put the server in, and which one the client asked for; a statement whose lane would
/// have chosen another database (a hint or `SET @lane` naming a database lane on a connection whose database was
/// selected in base, or the other way round) is refused: database-level lanes are connection-level.
extension MySQLSessionStateMachine {
    /// One database the server's session may be in.
    struct DatabaseSelection: Sendable, Hashable {
        /// The name the client selected (nil: none).
        var requested: String?
        /// The name the server was sent: `requested` through the selecting lane's `databases` map, or unchanged.
        var server: String?
        /// The lane that selected it (nil: base), for messages.
        var lane: String?
    }

    /// A change of database that takes effect when the server accepts the command carrying it.
    struct PendingDatabase: Sendable, Hashable {
        /// The selections in the order the server makes them; the last is the database after success.
        var selections: [DatabaseSelection]
        /// A lone `USE` or COM_INIT_DB: an error means the database did not change. Otherwise (a multi-statement
        /// query, a change of user) an error can come after some selections took effect.
        var errorLeavesUnchanged: Bool
    }

    /// The database `lane` maps `name` to, if any.
    ///
    /// Names compare without regard to case, whatever the listener's `lower_case_table_names` says (the proxy's
    /// lane mappings do not carry the listener's rule, and case-insensitive is the safe reading either way): with
    /// lower_case_table_names=1 or 2, or on a case-insensitive file system, the server takes `USE MSE_DEMO` as
    /// `mse_demo`, and a case-exact lookup would leave the lane in the base database. On a case-sensitive server the
    /// worst a case-insensitive lookup does is send lane traffic for a base database spelled `MSE_DEMO` to the
    /// shadow database: it stays out of base data. An exact key wins over one that differs only in case.
    static func mappedDatabase(_ name: String, in lane: LaneConfiguration?) -> String? {
        guard let databases = lane?.mapping.databases, !databases.isEmpty else { return nil }
        if let exact = databases[name] { return exact }
        let folded = name.lowercased()
        guard let key = databases.keys.filter({ $0.lowercased() == folded }).min() else { return nil }
        return databases[key]
    }

    /// The selection `lane` makes when the client asks for `requested`.
    static func selection(_ requested: String?, lane: LaneConfiguration?) -> DatabaseSelection {
        let mapped = requested.flatMap { mappedDatabase($0, in: lane) }
        return DatabaseSelection(requested: requested, server: mapped ?? requested, lane: lane?.name)
    }

    /// The refusal for a statement in `lane` when the server may be in another database than the one `lane` would
    /// have selected for the client's current database; nil when every database the server may be in is right.
    func databaseLaneConflict(_ lane: LaneConfiguration?) -> ERRPacket? {
        for selection in databases {
            let needed = selection.requested.flatMap { Self.mappedDatabase($0, in: lane) } ?? selection.requested
            guard needed != selection.server else { continue }
            let laneName = lane?.name ?? routing.label.baseLane
            let chosenIn = selection.lane ?? routing.label.baseLane
            let message = "shadowgate: refused in lane '\(laneName)': database-level lanes are connection-level. "
                + "This connection's current database '\(selection.requested ?? "")' was selected in lane '\(chosenIn)', "
                + "so the server is in '\(selection.server ?? "")', but lane '\(laneName)' runs in '\(needed ?? "")'. "
                + "Label the connection with the lane instead of a hint or SET @\(routing.label.key) "
                + "(connection attribute '\(routing.label.key)', or a login user of the lane), "
                + "or select the database again in this lane (USE on its own, or COM_INIT_DB)"
            return .proxyRefusal(message)
        }
        return nil
    }

    /// The server accepted (or refused) the command that carried ``pendingDatabase``.
    mutating func databaseChangeCompleted(error: Bool) {
        guard let pending = pendingDatabase else { return }
        pendingDatabase = nil
        if !error, let last = pending.selections.last {
            databases = [last]
        } else if error && !pending.errorLeavesUnchanged {
            // Some of the selections may have taken effect: any of them may be the server's database now, and a
            // statement is only let through when it is right for all of them.
            for selection in pending.selections where !databases.contains(selection) { databases.append(selection) }
        }
        currentDatabase = databases.last?.requested
    }
}
