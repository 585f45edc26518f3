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
        return Refusal(
            lane: name, table: nil, rule: .unsupported,
            message: "unknown lane \"\(name)\"; configured lanes are: \(known.joined(separator: ", "))")
    }

    /// A refusal for a session or connection lane that a configuration reload removed.
    public static func laneRemoved(_ name: String, routing: RoutingTable) -> Refusal {
        let known = [routing.label.baseLane] + routing.configuration.lanes.map(\.name)
        return Refusal(
            lane: name, table: nil, rule: .unsupported,
            message:
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
        Refusal(
            lane: name, table: nil, rule: .unsupported,
            message:
                "lane \(name) lives on another server; label the connection (startup parameter or options='-c \(setting)=\(name)') instead"
        )
    }

    /// A refusal for executing a prepared statement in a lane other than the one it was prepared in.
    public static func preparedInOtherLane(statement: String, preparedIn: String, now: String) -> Refusal {
        let shown = statement.isEmpty ? "the unnamed statement" : "prepared statement \"\(statement)\""
        return Refusal(
            lane: now, table: nil, rule: .unsupported,
            message:
                "\(shown) was prepared in lane \(preparedIn) and cannot run in lane \(now); prepare it again after switching lanes"
        )
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
