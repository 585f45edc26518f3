@testable import ShadowSQL
import Testing

/// `sql` with other values: the digits of every number and the letters inside every string replaced (quotes
/// kept), so the statement usually keeps its shape.
func withOtherLiterals(_ sql: [UInt8], dialect: SQLDialect, filler: UInt8) -> [UInt8] {
    var tokens: [Token] = []
    sql.withUnsafeBytes { SQLTokenizer.tokenize($0, dialect: dialect, into: &tokens) }
    var out: [UInt8] = []
    for token in tokens {
        let bytes = sql[token.start..<token.end]
        switch token.kind {
        case .number:
            // Digits become other digits (never a leading 0, which could start a hex or binary literal), and a
            // number may grow: `17` becomes `3333`.
            let digit = UInt8(ascii: "1") + filler % 9
            let grown = bytes.count == 1 ? [bytes.first!] + [UInt8](repeating: bytes.first!, count: Int(filler % 3)) : Array(bytes)
            out += grown.map { ByteClass.isDigit($0) ? digit : $0 }
        case .string where bytes.count >= 2:
            out.append(bytes.first!)
            out += bytes.dropFirst().dropLast().map { ByteClass.isIdentifierPart($0) && $0 < 0x80 ? UInt8(ascii: "a") + filler % 26 : $0 }
            out.append(bytes.last!)
        default:
            out += bytes
        }
    }
    return out
}

@Suite struct RewriteShapeCacheTests {
    let gray = LaneMapping(lane: "gray", tableSuffix: "_gray", unmappedWrites: .pass)

    @Test("a statement that differs from an earlier one only in its values is renamed from the remembered shape")
    func sameShapeIsReplayed() {
        var rewriter = SQLRewriter(dialect: .mysql)
        #expect(rewriter.rewrite("SELECT c FROM sbtest1 WHERE id=17", lane: gray)
            == .rewritten(Array("SELECT c FROM sbtest1_gray WHERE id=17".utf8), StatementSummary(kinds: [.read])))
        #expect(rewriter.shapes.entries.count == 1)
        let second = rewriter.rewrite("SELECT c FROM sbtest1 WHERE id=4242", lane: gray)
        #expect(second == .rewritten(Array("SELECT c FROM sbtest1_gray WHERE id=4242".utf8), StatementSummary(kinds: [.read])))
        #expect(rewriter.shapes.entries.count == 1)
        let update = "UPDATE sbtest2 SET c='x' WHERE id=1; UPDATE sbtest2 SET c='another value' WHERE id=99"
        _ = rewriter.rewrite(update, lane: gray)
        #expect(rewriter.rewrite("UPDATE sbtest2 SET c='y' WHERE id=2; UPDATE sbtest2 SET c='' WHERE id=3", lane: gray)
            == .rewritten(Array("UPDATE sbtest2_gray SET c='y' WHERE id=2; UPDATE sbtest2_gray SET c='' WHERE id=3".utf8),
                          StatementSummary(kinds: [.write, .write])))
        #expect(rewriter.shapes.entries.count == 2)
    }

    @Test("a renamed name next to a literal is separated as the new statement's own neighbour needs")
    func separatorFollowsTheNeighbour() {
        // `e'…'` is a PostgreSQL escape string: the new name `e` must not touch a quote that follows it.
        let fusing = LaneMapping(lane: "fusing", tables: ["t": "e"], unmappedWrites: .pass)
        var warm = SQLRewriter(dialect: .postgres)
        _ = warm.rewrite("SELECT * FROM t 'x'", lane: fusing)
        for sql in ["SELECT * FROM t'x'", "SELECT * FROM t 'yy'", "SELECT * FROM t'yy'"] {
            var cold = SQLRewriter(dialect: .postgres)
            #expect(warm.rewrite(sql, lane: fusing) == cold.rewrite(sql, lane: fusing), "\(sql)")
        }
        #expect(warm.rewrite("SELECT * FROM t'x'", lane: fusing)
            == .rewritten(Array("SELECT * FROM e 'x'".utf8), StatementSummary(kinds: [.read])))
        // A number's last digit would continue into the new name `e5x` (`1e5x` reads as 1e5 then x); its last `.`
        // does not. Same tokens, other neighbours.
        let numeric = LaneMapping(lane: "numeric", tables: ["b": "e5x"], unmappedWrites: .pass)
        var afterNumber = SQLRewriter(dialect: .postgres)
        _ = afterNumber.rewrite("SELECT 1.b.x FROM b", lane: numeric)
        #expect(afterNumber.rewrite("SELECT 1b.x FROM b", lane: numeric)
            == .rewritten(Array("SELECT 1 e5x.x FROM e5x".utf8), StatementSummary(kinds: [.read])))
    }

    @Test("other names, keywords, operators or variables make another shape")
    func namesAndKeywordsAreTheShape() {
        var rewriter = SQLRewriter(dialect: .mysql)
        let shared = LaneMapping(lane: "gray", tableSuffix: "_gray", unmappedWrites: .pass, sharedTables: ["dict"])
        _ = rewriter.rewrite("SELECT * FROM orders WHERE id=1", lane: shared)
        #expect(rewriter.rewrite("SELECT * FROM dict WHERE id=1", lane: shared) == .unchanged(StatementSummary(kinds: [.read])))
        #expect(rewriter.rewrite("SELECT * FROM `orders` WHERE id=1", lane: shared)
            == .rewritten(Array("SELECT * FROM `orders_gray` WHERE id=1".utf8), StatementSummary(kinds: [.read])))
        #expect(rewriter.rewrite("SELECT * FROM orders WHERE id<1", lane: shared)
            == .rewritten(Array("SELECT * FROM orders_gray WHERE id<1".utf8), StatementSummary(kinds: [.read])))
        #expect(rewriter.shapes.entries.count == 4)
    }

    @Test("refusals are not remembered, and a refused shape is refused again")
    func refusalsAreNotRemembered() {
        let strict = LaneMapping(lane: "gray", tables: ["orders": "orders_gray"], unmappedWrites: .reject)
        var rewriter = SQLRewriter(dialect: .mysql)
        for id in 1...3 {
            guard case .refused(let refusal) = rewriter.rewrite("DELETE FROM users WHERE id=\(id)", lane: strict) else {
                Issue.record("a write to an unmapped table passed")
                continue
            }
            #expect(refusal.rule == .unmappedWrites)
        }
        #expect(rewriter.shapes.isEmpty)
    }

    @Test("another lane mapping forgets the remembered shapes")
    func mappingChangeClears() {
        let stress = LaneMapping(lane: "stress", tableSuffix: "_stress", unmappedWrites: .pass)
        var rewriter = SQLRewriter(dialect: .mysql)
        _ = rewriter.rewrite("INSERT INTO t VALUES (1)", lane: gray)
        #expect(rewriter.rewrite("INSERT INTO t VALUES (2)", lane: stress)
            == .rewritten(Array("INSERT INTO t_stress VALUES (2)".utf8), StatementSummary(kinds: [.write])))
        #expect(rewriter.shapes.entries.count == 1)
    }

    @Test("a key with the same hash but other bytes is not a hit")
    func hashAloneIsNotAMatch() {
        var cache = RewriteShapeCache()
        cache.store(key: [1, 2, 3], hash: 7, edits: [.init(token: 0, insertBefore: false, replacement: [0x61])], kinds: [.write])
        #expect(cache.lookup([1, 2, 4], hash: 7) == nil)
        #expect(cache.lookup([1, 2, 3], hash: 7).map { cache.entries[$0].edits.count } == 1)
    }

    @Test("the cache keeps at most its entry and byte budget, dropping the least recently used shape")
    func bounded() {
        var rewriter = SQLRewriter(dialect: .mysql)
        let hot = "SELECT * FROM hot WHERE id=1"
        for index in 0..<300 {
            _ = rewriter.rewrite("SELECT a\(index) FROM t\(index) WHERE x=1", lane: gray)
            _ = rewriter.rewrite(hot, lane: gray)
            #expect(rewriter.shapes.entries.count <= RewriteShapeCache.maxEntries)
            #expect(rewriter.shapes.entries.reduce(0) { $0 + $1.bytes } <= RewriteShapeCache.maxBytes)
        }
        var key: [UInt8] = []
        let hash = Array(hot.utf8).withUnsafeBytes { bytes in
            var tokens: [SignificantToken] = []
            SignificantTokens.collect(bytes, dialect: .mysql, into: &tokens)
            return RewriteShapeCache.key(of: tokens, in: bytes, into: &key)
        }
        #expect(hash != nil)
        #expect(rewriter.shapes.lookup(key, hash: hash!) != nil, "the shape used every other statement was evicted")
        let long = "SELECT " + (0..<400).map { "column\($0)" }.joined(separator: ", ") + " FROM t"
        _ = rewriter.rewrite(long, lane: gray)
        #expect(!rewriter.shapes.entries.contains { $0.key.count > RewriteShapeCache.maxKeyBytes })
    }

    @Test("a warm rewriter gives what a fresh one gives, for random statements and the same with other values",
          arguments: SQLDialect.allCases)
    func warmEqualsCold(_ dialect: SQLDialect) {
        var rng = SeededGenerator(state: 2026)
        let lanes = [
            gray,
            LaneMapping(lane: "map", tables: ["t": "t_shadow", "db.u": "u_gray"], unmappedWrites: .reject, sharedTables: ["ref"]),
            LaneMapping(lane: "fusing", tables: ["t": "e", "u": "x", "c": "e5x"], unmappedWrites: .pass),
        ]
        var hits = 0
        for lane in lanes {
            var warm = SQLRewriter(dialect: dialect)
            for round in 0..<1500 {
                let input = round % 2 == 0 ? randomStatement(&rng, dialect) : randomSQL(&rng)
                for filler in [0, 1, 2, 5] as [UInt8] {
                    let variant = filler == 0 ? input : withOtherLiterals(input, dialect: dialect, filler: filler)
                    var cold = SQLRewriter(dialect: dialect)
                    let expected = cold.rewrite(variant, lane: lane)
                    let got = warm.rewrite(variant, lane: lane)
                    #expect(got == expected, "\(lane.lane): \(String(decoding: variant, as: UTF8.self))")
                }
            }
            hits += warm.shapes.hits
        }
        #expect(hits > 500)
    }
}
