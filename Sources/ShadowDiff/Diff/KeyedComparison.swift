/// A range whose two sides' checksums differ, waiting to be cut or fetched. `path` (the chunk's number, then the
/// part index at each level) orders ranges by key without comparing keys, whose order is the server's collation.
struct DifferingRange {
    var range: KeyRange
    var base: ChunkChecksum
    var shadow: ChunkChecksum
    var path: [Int]

    var rows: Int { max(base.rows, shadow.rows) }
}

extension TableDiffer {
    /// The state of one keyed comparison: the chunk pass, the bisection of differing ranges (level by level, many
    /// ranges per query) and the batched row fetches of the differing leaves.
    struct Run {
        let differ: TableDiffer
        let baseQueries: TableQueries
        let shadowQueries: TableQueries
        var differences: [RowDifference] = []
        var leafRanges: [KeyRange] = []
        /// Differing leaves not fetched yet, and their rows by the checksums' counts.
        var pendingLeaves: [KeyRange] = []
        var pendingRows = 0
        /// Differing ranges of the chunks compared so far, bisected together once enough have gathered.
        var differing: [DifferingRange] = []
        /// The largest integer key either side held at the start: the upper end for computing the cut points of a
        /// range open above (the last part still covers everything beyond).
        var lastKey: Int?

        init(differ: TableDiffer, baseQueries: TableQueries, shadowQueries: TableQueries) {
            self.differ = differ
            self.baseQueries = baseQueries
            self.shadowQueries = shadowQueries
        }

        var options: DiffOptions { differ.options }

        func side(_ side: Side) -> (any DiffConnection, TableQueries) {
            side == .base ? (differ.base, baseQueries) : (differ.shadow, shadowQueries)
        }

        // MARK: Chunks

        mutating func chunks(report: inout TableReport) throws {
            var sizer = ChunkSizer(initialRows: options.chunkRows, targetSeconds: options.targetChunkSeconds)
            var splitting = ChunkSplitting(identicalRunToStop: options.cutUpFrontUntilIdentical)
            var lower: KeyValue? = nil
            var chunk = 0
            lastKey = try integerKey ? readLastKey() : nil
            var previous: (lower: KeyValue?, upper: KeyValue?, rows: Int)? = nil
            while true {
                let upper: KeyValue?
                switch IntegerChunkBound.next(after: lower, previous: previous, plannedRows: sizer.rows, lastKey: lastKey) {
                case .upper(let computed): upper = computed
                case .open: upper = nil
                case nil: upper = try keyAt(.base, offset: sizer.rows - 1, in: KeyRange(lower: lower, upper: nil))
                }
                let range = KeyRange(lower: lower, upper: upper)
                let started = monotonicSeconds()
                let before = differing.count
                var baseRows = 0
                var shadowRows = 0
                if splitting.cutsUpFront {
                    // The chunk's first bisection level, up front: its parts' checksums are the chunk's checksum.
                    let parts = SplitFanout.upFront(rows: sizer.rows, partRows: options.upFrontPartRows, fanout: options.splitFanout)
                    let cuts = try cutPoints([(range, .base, sizer.rows, parts)])[0]
                    let cut = CutRange(range: range, cuts: cuts)
                    for (index, part) in try partChecksums([cut])[0].enumerated() {
                        baseRows += part.base.rows
                        shadowRows += part.shadow.rows
                        if part.base != part.shadow {
                            differing.append(DifferingRange(range: cut.parts[index], base: part.base, shadow: part.shadow, path: [chunk, index]))
                        }
                    }
                } else {
                    let (baseSum, shadowSum) = try checksums(range)
                    baseRows = baseSum.rows
                    shadowRows = shadowSum.rows
                    if baseSum != shadowSum {
                        differing.append(DifferingRange(range: range, base: baseSum, shadow: shadowSum, path: [chunk]))
                    }
                }
                splitting.record(differed: differing.count > before)
                sizer.record(rows: max(baseRows, 1), seconds: monotonicSeconds() - started)
                report.rowsCompared += baseRows
                report.chunks += 1
                differ.progress?("\(baseQueries.table): chunk \(report.chunks), \(report.rowsCompared) rows compared")
                if differing.count >= options.splitBatchRanges { try resolveDiffering() }
                guard let upper else { break }
                previous = (lower, upper, max(baseRows, shadowRows))
                lower = upper
                chunk += 1
                sleepSeconds(options.pauseSeconds)
            }
            try resolveDiffering()
            try flushLeaves()
        }

        /// Both sides' checksums of a range, queried in parallel.
        func checksums(_ range: KeyRange) throws -> (ChunkChecksum, ChunkChecksum) {
            let run = self
            return try differ.onBothSides { side in
                let (connection, queries) = run.side(side)
                let row = try connection.query(queries.checksum(range)).first ?? []
                let rows = row.first.flatMap { $0 }.flatMap { Int($0) } ?? 0
                return ChunkChecksum(rows: rows, sum: row.count > 1 ? (row[1] ?? "0") : "0")
            }
        }

        /// Whether both sides' key is one integer column (chunk bounds and cut points can then be computed).
        var integerKey: Bool {
            [baseQueries, shadowQueries].allSatisfy { queries in
                queries.key.count == 1 && queries.key[0].valueClass(queries.dialect) == .integer
            }
        }

        /// The largest key on either side; nil for two empty tables or a key beyond `Int` (bounds are then read).
        func readLastKey() throws -> Int? {
            let run = self
            let (base, shadow) = try differ.onBothSides { side -> String? in
                let (connection, queries) = run.side(side)
                return try connection.query(queries.lastKey).first?.first ?? nil
            }
            let texts = [base, shadow].compactMap { $0 }
            let values = texts.compactMap { Int($0) }
            return values.count == texts.count ? values.max() : nil
        }

        func keyAt(_ side: Side, offset: Int, in range: KeyRange) throws -> KeyValue? {
            let (connection, queries) = self.side(side)
            guard let row = try connection.query(queries.keyAt(offset: offset, in: range)).first else { return nil }
            return row.map { $0 ?? "" }
        }

        // MARK: Bisection

        /// Bisects the gathered differing ranges and queues their differing leaves, in key order, for fetching.
        mutating func resolveDiffering() throws {
            guard !differing.isEmpty else { return }
            let leaves = try resolve(differing).sorted { $0.path.lexicographicallyPrecedes($1.path) }
            differing = []
            for leaf in leaves { try addLeaf(leaf) }
        }

        /// The differing leaves under `ranges`, breadth-first: every range of a batch is cut and its parts
        /// checksummed in one query per side, then the differing parts of the batch go one level down together.
        /// At most ``DiffOptions/splitBatchRanges`` ranges are cut per query, and one batch is bisected to its
        /// leaves before the next is cut, so the ranges held at once stay bounded by batch × parts × depth.
        func resolve(_ ranges: [DifferingRange]) throws -> [DifferingRange] {
            var leaves: [DifferingRange] = []
            var toCut: [(range: DifferingRange, side: Side)] = []
            for range in ranges {
                switch RangeStep.decide(base: range.base, shadow: range.shadow, leafRows: options.leafRows) {
                case .identical: continue
                case .compareRows: leaves.append(range)
                case .split(let side, _):
                    // A range that will not shrink (its rows keep moving under the cuts) is fetched as it is.
                    if range.path.count > Self.maximumDepth { leaves.append(range) } else { toCut.append((range, side)) }
                }
            }
            let size = max(1, options.splitBatchRanges)
            for start in stride(from: 0, to: toCut.count, by: size) {
                let batch = toCut[start..<min(start + size, toCut.count)]
                let cuts = try cutPoints(batch.map { item in
                    let rows = item.range.rows
                    return (item.range.range, item.side, rows, SplitFanout.parts(rows: rows, leafRows: options.leafRows, fanout: options.splitFanout))
                })
                let cutRanges = zip(batch, cuts).map { CutRange(range: $0.range.range, cuts: $1) }
                var children: [DifferingRange] = []
                for (offset, parts) in try partChecksums(cutRanges).enumerated() {
                    let parent = batch[batch.startIndex + offset].range
                    let bounds = cutRanges[offset].parts
                    for (index, part) in parts.enumerated() where part.base != part.shadow {
                        children.append(DifferingRange(range: bounds[index], base: part.base, shadow: part.shadow, path: parent.path + [index]))
                    }
                }
                leaves += try resolve(children)
            }
            return leaves
        }

        /// Levels below a chunk before a differing range is fetched whole: with 16 parts per level a chunk of a
        /// million rows is down to leaves in 5 levels; only data moving under the cuts gets this deep.
        static let maximumDepth = 24

        /// Cut points for each range, into about `parts` parts: computed from the bounds for a dense single integer
        /// key (no query), else every ⌈rows/parts⌉-th key of the given side, read for all such ranges in one query
        /// per side.
        func cutPoints(_ targets: [(range: KeyRange, side: Side, rows: Int, parts: Int)]) throws -> [[KeyValue]] {
            let integerKey = self.integerKey
            var cuts = [[KeyValue]](repeating: [], count: targets.count)
            var requests: [Side: [(index: Int, request: CutRequest)]] = [:]
            for (index, target) in targets.enumerated() {
                if integerKey,
                    let computed = IntegerCuts.cuts(
                        lower: target.range.lower, upper: target.range.upper ?? lastKey.map { [String($0)] }, rows: target.rows,
                        parts: target.parts)
                {
                    cuts[index] = computed
                } else {
                    let step = max(1, (target.rows + target.parts - 1) / max(1, target.parts))
                    requests[target.side, default: []].append((index, CutRequest(range: target.range, step: step)))
                }
            }
            let run = self
            let (baseCuts, shadowCuts) = try differ.onBothSides { side -> [Int: [KeyValue]] in
                guard let list = requests[side], !list.isEmpty else { return [:] }
                let (connection, queries) = run.side(side)
                var found: [Int: [KeyValue]] = [:]
                for row in try connection.query(queries.boundaries(list.map(\.request))) where row.count >= 2 {
                    guard let group = row[0].flatMap({ Int($0) }), list.indices.contains(group) else { continue }
                    found[list[group].index, default: []].append(row.dropFirst().map { $0 ?? "" })
                }
                return found
            }
            for (index, value) in baseCuts.merging(shadowCuts, uniquingKeysWith: { first, _ in first }) { cuts[index] = value }
            return cuts
        }

        /// Per cut range, per part, both sides' checksums (one grouped query per side for all of them, in parallel).
        func partChecksums(_ ranges: [CutRange]) throws -> [[(base: ChunkChecksum, shadow: ChunkChecksum)]] {
            let run = self
            let (baseParts, shadowParts) = try differ.onBothSides { side -> [Int: [Int: ChunkChecksum]] in
                let (connection, queries) = run.side(side)
                var parts: [Int: [Int: ChunkChecksum]] = [:]
                for row in try connection.query(queries.partChecksums(ranges)) where row.count >= 4 {
                    guard let group = row[0].flatMap({ Int($0) }), let index = row[1].flatMap({ Int($0) }) else { continue }
                    parts[group, default: [:]][index] = ChunkChecksum(rows: row[2].flatMap { Int($0) } ?? 0, sum: row[3] ?? "0")
                }
                return parts
            }
            let empty = ChunkChecksum(rows: 0, sum: "0")
            return ranges.enumerated().map { group, range in
                (0...range.cuts.count).map { (baseParts[group]?[$0] ?? empty, shadowParts[group]?[$0] ?? empty) }
            }
        }

        // MARK: Leaves

        /// Leaves wait, across chunks, until their rows fill a batch (or the table ends): scattered differences then
        /// cost one row query per side per batch instead of one per difference.
        mutating func addLeaf(_ leaf: DifferingRange) throws {
            leafRanges.append(leaf.range)
            if pendingRows + leaf.rows > options.leafBatchRows { try flushLeaves() }
            pendingLeaves.append(leaf.range)
            pendingRows += leaf.rows
        }

        /// Fetches and compares the pending leaves, one query per side for all of them.
        mutating func flushLeaves() throws {
            guard !pendingLeaves.isEmpty else { return }
            let found = try compareRows(pendingLeaves)
            pendingLeaves = []
            pendingRows = 0
            guard differences.count + found.count <= options.maxDifferences else {
                throw DataToolError.unsupported(
                    "table \(baseQueries.table): more than \(options.maxDifferences) differing rows; the shadow is "
                        + "too far from base to repair row by row — recreate it (shadow-ddl) and copy the data instead"
                )
            }
            differences += found
        }

        /// Consecutive groups of `ranges` of at most `batchRows` rows, counting each range as `leafRows`.
        static func batches(_ ranges: [KeyRange], leafRows: Int, batchRows: Int) -> [[KeyRange]] {
            let size = max(1, batchRows / max(1, leafRows))
            return stride(from: 0, to: ranges.count, by: size).map { Array(ranges[$0..<min($0 + size, ranges.count)]) }
        }

        /// The rows of disjoint ranges on both sides (one query per side, in parallel), compared by key.
        func compareRows(_ ranges: [KeyRange]) throws -> [RowDifference] {
            let keyCount = baseQueries.key.count
            let run = self
            let (baseRows, shadowRows) = try differ.onBothSides { side in
                let (connection, queries) = run.side(side)
                return try connection.query(queries.rows(ranges)).map { FetchedRow(columns: $0, keyCount: keyCount) }
            }
            return RowComparison.compare(base: baseRows, shadow: shadowRows, columnNames: baseQueries.columns.map(\.name))
        }
    }
}
