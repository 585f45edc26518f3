import ShadowConfig
import ShadowSQL

/// Rewrites single statements for a named lane and dialect against one routing table: the engine behind
/// `rewrite`. Keeps one ``SQLRewriter`` per dialect and caches each lane's mapping, so streaming thousands of
/// statements costs no per-line setup.
struct LaneStatementRewriter {
    /// What became of one statement.
    enum Result: Equatable {
        /// The statement to run: rewritten, or the input itself when nothing needed renaming (and on base).
        case statement(String)
        /// The lane refuses the statement.
        case refused(Refusal)
        /// The lane name is neither the base lane nor a configured lane.
        case unknownLane(String)
    }

    let routing: RoutingTable
    private var rewriters: [SQLDialect: SQLRewriter] = [:]
    private var mappings: [String: LaneMapping] = [:]

    init(routing: RoutingTable) {
        self.routing = routing
    }

    mutating func rewrite(_ sql: String, lane: String, dialect: SQLDialect) -> Result {
        if routing.isBase(lane) { return .statement(sql) }
        let cacheKey = "\(dialect.rawValue)\u{0}\(lane)"
        let mapping: LaneMapping
        if let cached = mappings[cacheKey] {
            mapping = cached
        } else if let configured = routing.lane(named: lane) {
            mapping = routing.mapping(for: configured, dialect: dialect)
            mappings[cacheKey] = mapping
        } else {
            let known = [routing.label.baseLane] + routing.configuration.lanes.map(\.name)
            return .unknownLane("unknown lane '\(lane)'; configured lanes: \(known.joined(separator: ", "))")
        }
        var rewriter = rewriters[dialect] ?? SQLRewriter(dialect: dialect)
        let outcome = rewriter.rewrite(sql, lane: mapping)
        rewriters[dialect] = rewriter
        switch outcome {
        case .unchanged: return .statement(sql)
        case .rewritten(let bytes, _): return .statement(String(decoding: bytes, as: UTF8.self))
        case .refused(let refusal): return .refused(refusal)
        }
    }
}
