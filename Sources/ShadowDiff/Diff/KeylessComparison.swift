import ShadowSQL

/// Tables without a usable key: compared as multisets of rows by their digests, in digest order.
extension TableDiffer {
    /// Compares the two tables as multisets of rows: pages of (row digest, count) in digest order from both sides,
    /// merged; rows whose digest count differs are fetched and reported as missing or extra.
    func compareKeyless(_ baseQueries: TableQueries, _ shadowQueries: TableQueries, report: inout TableReport) throws
        -> [RowDifference]
    {
        let page = max(100, options.chunkRows)
        var cursor: String? = nil
        var surplus: [(digest: String, side: Side, count: Int)] = []
        while true {
            let (basePage, shadowPage) = try onBothSides { [base, shadow] side in
                let (connection, queries) = side == .base ? (base, baseQueries) : (shadow, shadowQueries)
                return try connection.query(queries.digestPage(after: cursor, limit: page)).map { ($0[0] ?? "", Int($0[1] ?? "0") ?? 0) }
            }
            report.chunks += 1
            // Only digests up to the smaller "last digest" of a full page are known on both sides.
            var bound: String? = nil
            if basePage.count == page, let last = basePage.last?.0 { bound = last }
            if shadowPage.count == page, let last = shadowPage.last?.0 { bound = bound.map { min($0, last) } ?? last }
            var counts: [String: (Int, Int)] = [:]
            for (digest, count) in basePage where bound.map({ digest <= $0 }) ?? true { counts[digest, default: (0, 0)].0 = count }
            for (digest, count) in shadowPage where bound.map({ digest <= $0 }) ?? true { counts[digest, default: (0, 0)].1 = count }
            for (digest, (b, s)) in counts.sorted(by: { $0.key < $1.key }) {
                report.rowsCompared += b
                if b > s { surplus.append((digest, .base, b - s)) }
                if s > b { surplus.append((digest, .shadow, s - b)) }
            }
            guard let bound else { break }
            cursor = bound
            sleepSeconds(options.pauseSeconds)
        }
        var differences: [RowDifference] = []
        for side in [Side.base, .shadow] {
            let wanted = surplus.filter { $0.side == side }
            for batch in stride(from: 0, to: wanted.count, by: 100).map({ Array(wanted[$0..<min($0 + 100, wanted.count)]) }) {
                let (connection, queries) = side == .base ? (base, baseQueries) : (shadow, shadowQueries)
                let rows = try connection.query(queries.rows(withDigests: batch.map(\.digest)))
                var seen = Set<String>()
                for row in rows {
                    let digest = row.first.flatMap { $0 } ?? ""
                    guard seen.insert(digest).inserted, let entry = batch.first(where: { $0.digest == digest }) else { continue }
                    let fetched = FetchedRow(columns: row, keyCount: 1)
                    differences.append(
                        RowDifference(
                            kind: side == .base ? .missing : .extra, key: [digest],
                            baseValues: side == .base ? fetched.values : nil, shadowValues: side == .shadow ? fetched.values : nil,
                            count: entry.count
                        )
                    )
                }
            }
        }
        return differences
    }

    /// Counts again, on both sides, the digests the scan found differing, and keeps the differences that still
    /// hold (with their current surplus); the others resolved themselves while the data was moving.
    func recheckKeyless(_ differences: [RowDifference], _ baseQueries: TableQueries, _ shadowQueries: TableQueries) throws
        -> [RowDifference]
    {
        let digests = Array(Set(differences.compactMap(\.key.first))).sorted()
        var counts: [String: (base: Int, shadow: Int)] = [:]
        for start in stride(from: 0, to: digests.count, by: 100) {
            let batch = Array(digests[start..<min(start + 100, digests.count)])
            let (baseCounts, shadowCounts) = try onBothSides { [base, shadow] side in
                let (connection, queries) = side == .base ? (base, baseQueries) : (shadow, shadowQueries)
                return try connection.query(queries.digestCounts(batch))
            }
            for row in baseCounts { counts[row[0] ?? "", default: (0, 0)].base = Int(row[1] ?? "0") ?? 0 }
            for row in shadowCounts { counts[row[0] ?? "", default: (0, 0)].shadow = Int(row[1] ?? "0") ?? 0 }
        }
        return differences.compactMap { difference in
            let now = counts[difference.key.first ?? ""] ?? (0, 0)
            let surplus = difference.kind == .missing ? now.base - now.shadow : now.shadow - now.base
            guard surplus > 0 else { return nil }
            var held = difference
            held.count = surplus
            return held
        }
    }
}
