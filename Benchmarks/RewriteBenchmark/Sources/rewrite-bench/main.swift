import Foundation
import ShadowSQL

#if canImport(Glibc)
import Glibc
#endif

/// One measured case: a statement, a dialect and a lane.
struct Case {
    var name: String
    var dialect: SQLDialect
    var sql: [UInt8]
    var lane: LaneMapping
}

let gray = LaneMapping(lane: "gray", tables: ["mse_demo_table": "mse_demo_table_gray"], tableSuffix: "_gray")
let strict = LaneMapping(lane: "gray", tables: ["mse_demo_table": "mse_demo_table_gray"])

let oltp = Array(
    "INSERT INTO mse_demo_table (location, created_at, status, amount) VALUES ('hangzhou-west-lake', '2026-11-23 10:00:00', 'NEW', 42.50)".utf8
)
let unchanged = Array(
    "SELECT c.id, c.name, c.email FROM customer_profile_gray AS c WHERE c.id = ? AND c.status = 'active' LIMIT 1".utf8)

/// A ~10 KB statement: a long IN list and many joins, as reporting queries have.
func longStatement() -> [UInt8] {
    var sql = "SELECT o.id, o.total, c.name, p.title FROM orders o JOIN customers c ON c.id = o.customer_id "
    sql += "JOIN order_lines l ON l.order_id = o.id JOIN products p ON p.id = l.product_id WHERE o.id IN ("
    var i = 0
    while sql.utf8.count < 10_000 {
        sql += "\(100_000 + i), "
        i += 1
    }
    sql += "1) AND c.region = 'east' /* reporting */ ORDER BY o.total DESC"
    return Array(sql.utf8)
}

let cases = [
    Case(name: "oltp-insert-1-rename (\(oltp.count) B)", dialect: .mysql, sql: oltp, lane: gray),
    Case(name: "oltp-insert-1-rename-pg (\(oltp.count) B)", dialect: .postgres, sql: oltp, lane: gray),
    Case(name: "no-change-select (\(unchanged.count) B)", dialect: .mysql, sql: unchanged, lane: gray),
    Case(name: "long-select-4-renames (\(longStatement().count) B)", dialect: .mysql, sql: longStatement(), lane: gray),
    Case(name: "long-select-no-change (\(longStatement().count) B)", dialect: .postgres, sql: longStatement(),
         lane: LaneMapping(lane: "gray", tables: ["unrelated": "unrelated_gray"], unmappedWrites: .pass, unmappedReads: .pass)),
]

@inline(never)
func consume(_ outcome: RewriteOutcome) -> Int {
    switch outcome {
    case .unchanged: return 1
    case .rewritten(let bytes, _): return bytes.count
    case .refused: return -1
    }
}

func nanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

let arguments = CommandLine.arguments
if arguments.count >= 3, arguments[1] == "--iterations-only" {
    // For allocation counting under valgrind: run one case N times after a warm-up, nothing else.
    let n = Int(arguments[2]) ?? 1000
    let index = arguments.count >= 4 ? Int(arguments[3]) ?? 0 : 0
    let c = cases[index]
    var rewriter = SQLRewriter(dialect: c.dialect)
    var sink = 0
    c.sql.withUnsafeBytes { raw in
        for _ in 0..<n { sink &+= consume(rewriter.rewrite(raw, lane: c.lane)) }
    }
    if sink == 42 { print(sink) }
    exit(0)
}

print("| case | median per statement | p90 | throughput |")
print("|---|---|---|---|")
for c in cases {
    var rewriter = SQLRewriter(dialect: c.dialect)
    var sink = 0
    var samples: [Double] = []
    let batch = max(1, 200_000 / c.sql.count)
    c.sql.withUnsafeBytes { raw in
        for _ in 0..<batch { sink &+= consume(rewriter.rewrite(raw, lane: c.lane)) }  // warm-up
        for _ in 0..<31 {
            let start = nanos()
            for _ in 0..<batch { sink &+= consume(rewriter.rewrite(raw, lane: c.lane)) }
            samples.append(Double(nanos() - start) / Double(batch))
        }
    }
    samples.sort()
    let median = samples[samples.count / 2]
    let p90 = samples[samples.count * 9 / 10]
    let mbps = Double(c.sql.count) / median * 1e9 / 1_000_000
    let unit = median < 10_000 ? String(format: "%.2f µs", median / 1000) : String(format: "%.1f µs", median / 1000)
    print("| \(c.name) | \(unit) | \(String(format: "%.2f µs", p90 / 1000)) | \(String(format: "%.0f MB/s", mbps)) |")
    if sink == 42 { print(sink) }
}
