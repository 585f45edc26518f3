import ShadowSQL

/// A message the proxy sent to the server whose response it still expects, in send order. The queue lets the proxy
/// tell which ErrorResponse belongs to a refused statement's stand-in, follow the discard-until-Sync rule, and apply
/// session-switch effects when their statement completes.
enum PendingResponse: Sendable, Hashable {
    /// A simple Query (or FunctionCall): ends with ReadyForQuery. `effects` are matched to SET/RESET/DISCARD tags.
    case query(refusal: Refusal?, effects: [SessionEffect])
    case parse(refusal: Refusal?)
    case bind(refusal: Refusal?)
    case describe
    case execute(effects: [SessionEffect])
    case close
    /// Ends with ReadyForQuery.
    case sync

    var refusal: Refusal? {
        switch self {
        case .query(let r, _), .parse(let r), .bind(let r): r
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
