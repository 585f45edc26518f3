import ShadowSQL

/// Rewrites `sql` and returns the new text, the unchanged text, or "REFUSED: <message>".
func rewritten(_ sql: String, _ mapping: LaneMapping, _ dialect: SQLDialect) -> String {
    var rewriter = SQLRewriter(dialect: dialect)
    switch rewriter.rewrite(sql, lane: mapping) {
    case .unchanged: return sql
    case .rewritten(let bytes, _): return String(decoding: bytes, as: UTF8.self)
    case .refused(let refusal): return "REFUSED: \(refusal.message)"
    }
}

func outcome(_ sql: String, _ mapping: LaneMapping, _ dialect: SQLDialect) -> RewriteOutcome {
    var rewriter = SQLRewriter(dialect: dialect)
    return rewriter.rewrite(sql, lane: mapping)
}

let graySuffix = LaneMapping(lane: "gray", tableSuffix: "_gray")
let grayStrictMap = LaneMapping(lane: "gray", tables: ["mse_demo_table": "mse_demo_table_gray"])
