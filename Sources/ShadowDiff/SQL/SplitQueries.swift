/// A range to cut, and where: every `step`-th key of its rows in key order.
public struct CutRequest: Sendable, Hashable {
    public var range: KeyRange
    public var step: Int

    public init(range: KeyRange, step: Int) {
        self.range = range
        self.step = step
    }
}

/// A range and its cut points: it stands for the parts `range.split(at: cuts)`.
public struct CutRange: Sendable, Hashable {
    public var range: KeyRange
    public var cuts: [KeyValue]

    public init(range: KeyRange, cuts: [KeyValue]) {
        self.range = range
        self.cuts = cuts
    }

    /// The parts, in key order.
    public var parts: [KeyRange] { range.split(at: cuts) }
}

/// The statements of a bisection level over several ranges at once: the differing ranges of many chunks are cut and
/// checksummed in one statement per side, so a level costs a round trip per batch of ranges, not per range. Each
/// range is its own `UNION ALL` branch with its own key-range condition, so every branch is an index range scan
/// whatever the key (an OR of composite-key ranges can defeat MySQL's range optimiser).
extension TableQueries {
    /// The cut points of several ranges in one pass over their keys: rows (range index, key columns…) for every
    /// `step`-th key of each range in key order (rows step, 2·step, …), ordered by range then key.
    public func boundaries(_ requests: [CutRequest]) -> String {
        let names = key.indices.map { "k\($0)" }
        let selected = zip(key, names).map { "\(fetchValue($0)) AS \($1)" }.joined(separator: ", ")
        let branches = requests.enumerated().map { index, request in
            "SELECT g, \(names.joined(separator: ", ")), rn FROM (SELECT \(index) AS g, \(selected), "
                + "ROW_NUMBER() OVER (ORDER BY \(orderBy)) AS rn FROM \(table.sql(dialect)) WHERE \(predicate(request.range))) "
                + "AS c\(index) WHERE rn % \(max(1, request.step)) = 0"
        }
        return "SELECT g, \(names.joined(separator: ", ")) FROM (\(branches.joined(separator: " UNION ALL "))) AS cuts ORDER BY g, rn"
    }

    /// The checksums of every part of several cut ranges in one pass: a row (range index, part index from 0,
    /// count, checksum) per non-empty part.
    public func partChecksums(_ ranges: [CutRange]) -> String {
        let aggregates = checksumAggregates
        return ranges.enumerated().map { index, cut in
            "SELECT \(index) AS g, \(partIndex(cut.cuts)) AS part, \(aggregates) FROM \(table.sql(dialect)) "
                + "WHERE \(predicate(cut.range)) GROUP BY part"
        }.joined(separator: " UNION ALL ")
    }

    /// The index of the part `(c[i-1], c[i]]` a row's key falls in, for ascending cuts: a CASE tree that halves
    /// the cuts at each level, so a row costs log2(parts) comparisons. 255 cuts cost about what 15 do (a linear
    /// chain of 255 costs 4× more), and what MariaDB's `INTERVAL()` or PostgreSQL's `width_bucket()` cost, and it
    /// works for every key type, composite keys included (docs/benchmarks.md).
    func partIndex(_ cuts: [KeyValue]) -> String {
        // Parts first...last; cuts[i] is the upper bound of part i.
        func tree(_ first: Int, _ last: Int) -> String {
            guard first < last else { return String(first) }
            let middle = (first + last) / 2
            return "CASE WHEN \(compare(cuts[middle], strict: false, greater: false)) THEN \(tree(first, middle)) "
                + "ELSE \(tree(middle + 1, last)) END"
        }
        return tree(0, cuts.count)
    }
}
