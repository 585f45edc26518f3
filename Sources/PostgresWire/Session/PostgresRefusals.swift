import NIOCore
import ShadowConfig
import ShadowSQL

/// The errors the proxy itself answers with, in one place so their SQLSTATEs stay consistent with the docs.
///
/// - `SG001`: a statement refused in a lane (isolation rule, unanalysable, prepared in another lane, lane on another
///   server).
/// - `SG002`: an unknown lane name (hint, session switch or connection label).
/// - `08006`: the backend server cannot be reached.
/// - `08P01`: a protocol violation by the client.
public enum PostgresRefusals {
    public static let refusedSQLState = "SG001"
    public static let unknownLaneSQLState = "SG002"

    /// A refusal for a lane name that does not exist.
    public static func unknownLane(_ name: String, routing: RoutingTable) -> Refusal {
        let known = [routing.label.baseLane] + routing.configuration.lanes.map(\.name)
        return unsupported(
            lane: name,
            "unknown lane \"\(name)\"; configured lanes are: \(known.joined(separator: ", "))")
    }

    /// A refusal for a session or connection lane that a configuration reload removed.
    public static func laneRemoved(_ name: String, routing: RoutingTable) -> Refusal {
        let known = [routing.label.baseLane] + routing.configuration.lanes.map(\.name)
        return unsupported(
            lane: name,
            "unknown lane \"\(name)\" (it is no longer configured; was it removed by a configuration reload?); "
                + "configured lanes are: \(known.joined(separator: ", ")); reconnect or switch lanes")
    }

    /// A refusal for a lane statement the proxy cannot read as the server will, because of a session setting.
    public static func unreadable(_ name: String, reason: String) -> Refusal {
        Refusal(
            lane: name, table: nil, rule: .unanalysable,
            message:
                "statement refused in lane \(name): \(reason), so the proxy cannot read statements the way the server will; "
                + "use client_encoding UTF8 and standard_conforming_strings on for lane traffic")
    }

    /// A refusal for a per-statement lane that lives on another server than the connection's.
    public static func otherServer(_ name: String, setting: String) -> Refusal {
        unsupported(
            lane: name,
            "lane \(name) lives on another server; label the connection (startup parameter or options='-c \(setting)=\(name)') instead"
        )
    }

    /// A refusal for a per-statement lane whose database is not the connection's: the lane's `databases` map
    /// redirects the startup database, and this connection was not redirected (or was redirected elsewhere).
    public static func otherDatabase(
        _ name: String, laneDatabase: String, connectionDatabase: String, setting: String
    ) -> Refusal {
        unsupported(
            lane: name,
            "lane \(name) runs in database \(laneDatabase), but this connection is on database \(connectionDatabase), "
                + "so the statement would run there; label the connection (startup parameter or "
                + "options='-c \(setting)=\(name)') so that it is redirected at startup instead")
    }

    /// A refusal for running a prepared statement (Bind, SQL EXECUTE) or a portal (Execute) in a lane other than
    /// the one it was prepared or bound in.
    public static func preparedInOtherLane(
        portal: Bool = false, name: String, preparedIn: String, now: String, nowIsBase: Bool = false
    ) -> Refusal {
        let shown = describe(portal: portal, name: name)
        let verb = portal ? "bound" : "prepared"
        let why =
            nowIsBase
            ? "it was rewritten for lane \(preparedIn), and the base lane must not write that lane's shadow tables"
            : "its text was routed for lane \(preparedIn), so it could write tables lane \(now) must not write"
        let fix = portal ? "bind it again" : "prepare it again (with a new name, or after DEALLOCATE/Close)"
        return unsupported(
            lane: now,
            "\(shown) was \(verb) in lane \(preparedIn) and cannot run in lane \(now): \(why); \(fix) in lane \(now)")
    }

    /// A refusal for a prepared statement or portal the proxy did not see created, used outside the base lane: the
    /// lane it was prepared in cannot be checked.
    public static func unknownPrepared(portal: Bool, name: String, lane: String) -> Refusal {
        let shown = describe(portal: portal, name: name)
        return unsupported(
            lane: lane,
            "\(shown) is not known to Shadowgate (it was not created through this session, or not by a statement "
                + "Shadowgate follows), so the lane it belongs to cannot be checked; \(portal ? "bind" : "prepare") it in lane \(lane) first")
    }

    /// A refusal for `EXECUTE` of a name the proxy cannot read (a `U&"…"` identifier).
    public static func unreadablePreparedName(lane: String) -> Refusal {
        unsupported(
            lane: lane,
            "EXECUTE names its prepared statement in a form Shadowgate cannot read (U&\"…\"), so its lane cannot be "
                + "checked; use a plain or double-quoted name")
    }

    /// A refusal for `SET` of the lane setting in a query with other statements: the proxy decides one lane per
    /// query, the server switches in the middle of it.
    public static func laneSwitchAmongOtherStatements(setting: String, lane: String) -> Refusal {
        unsupported(
            lane: lane,
            "SET \(setting) in a query with other statements: the proxy decides one lane per query, so the statements "
                + "after the SET would run in lane \(lane) while the server runs them in the new one; send SET \(setting) "
                + "as a query of its own")
    }

    /// A refusal for `set_config` of the lane setting, which the proxy cannot follow.
    public static func laneSetByFunction(setting: String, lane: String) -> Refusal {
        unsupported(
            lane: lane,
            "set_config('\(setting)', …) cannot be followed by Shadowgate (the server would switch lanes while the "
                + "proxy keeps routing in lane \(lane)); use SET \(setting) = … or SET LOCAL \(setting) = … instead")
    }

    /// A refusal while the lane is unknown after ROLLBACK TO SAVEPOINT in a transaction that set the lane.
    public static func laneUnknownAfterRollbackTo(setting: String, lane: String) -> Refusal {
        unsupported(
            lane: lane,
            "the lane of this session is unknown after ROLLBACK TO SAVEPOINT (the transaction set \(setting) and "
                + "Shadowgate could not match the savepoint); end the transaction with COMMIT or ROLLBACK first")
    }

    /// A FATAL refusal for a StartupMessage that carries a parameter more than once.
    public static func duplicateStartupParameter(_ name: String, lane: String) -> Refusal {
        unsupported(
            lane: lane,
            "startup parameter \"\(name)\" is given more than once; the server would use the last copy, so "
                + "Shadowgate cannot route the connection safely; send each startup parameter once")
    }

    /// How a refusal names a prepared statement or portal.
    private static func describe(portal: Bool, name: String) -> String {
        portal
            ? (name.isEmpty ? "the unnamed portal" : "portal \"\(name)\"")
            : (name.isEmpty ? "the unnamed statement" : "prepared statement \"\(name)\"")
    }

    /// A refusal by the `unsupported` rule: what the lane cannot isolate.
    private static func unsupported(lane: String, _ message: String) -> Refusal {
        Refusal(lane: lane, table: nil, rule: .unsupported, message: message)
    }

    /// The ErrorResponse for a refusal.
    public static func errorResponse(for refusal: Refusal, severity: String = "ERROR") -> ByteBuffer {
        let unknown = refusal.message.hasPrefix("unknown lane")
        return PostgresMessageEncoder.errorResponse(
            severity: severity,
            sqlState: unknown ? unknownLaneSQLState : refusedSQLState,
            message: refusal.message,
            detail: "shadowgate refused this statement in lane \(refusal.lane) (rule: \(refusal.rule.rawValue))"
                + (refusal.table.map { ", table \($0)" } ?? ""))
    }
}
