import ShadowSQL

/// A message the proxy sent to the server whose response it still expects, in send order. The queue lets the proxy
/// tell which ErrorResponse belongs to a refused statement's stand-in, follow the discard-until-Sync rule, apply
/// session-switch effects when their statement completes, and record prepared statements and portals only once the
/// server created them (ParseComplete, BindComplete, CommandComplete `PREPARE`).
enum PendingResponse: Sendable, Hashable {
    /// A simple Query (or FunctionCall): ends with ReadyForQuery. `effects` are matched to SET/RESET/DISCARD tags,
    /// `operations` to PREPARE/DEALLOCATE/SAVEPOINT/RELEASE/ROLLBACK/COMMIT tags.
    case query(refusal: Refusal?, effects: [SessionEffect], operations: [SessionOperation])
    /// `info` is what the statement is recorded as once ParseComplete arrives (nil when refused).
    case parse(refusal: Refusal?, name: String, info: PostgresSessionStateMachine.PreparedInfo?)
    /// `info` is what the portal is recorded as once BindComplete arrives (nil when refused).
    case bind(refusal: Refusal?, portal: String, info: PostgresSessionStateMachine.PreparedInfo?)
    case describe
    case execute(refusal: Refusal?, effects: [SessionEffect], operations: [SessionOperation])
    case close(kind: UInt8, name: String)
    /// Ends with ReadyForQuery.
    case sync

    var refusal: Refusal? {
        switch self {
        case .query(let r, _, _), .parse(let r, _, _), .bind(let r, _, _), .execute(let r, _, _): r
        default: nil
        }
    }

    var endsWithReadyForQuery: Bool {
        switch self {
        case .query, .sync: true
        default: false
        }
    }
}
