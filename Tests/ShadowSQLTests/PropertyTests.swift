import ShadowSQL
import Testing

/// A small deterministic generator (SplitMix64), so failures reproduce from the seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// SQL-flavoured fragments, so random inputs hit quotes, comments and keywords often.
let fragments: [String] = [
    "SELECT ", "FROM ", "t", "u", " JOIN ", " ON ", "a.b", "`x`", "\"y\"", "'s'", "'", "\"", "`", "/*", "*/", "/*!", "--",
    " -- ", "#", "\n", "$$", "$t$", "(", ")", ",", ";", "INSERT INTO ", "UPDATE ", "SET ", "DELETE ", "WITH c AS ",
    "=", "?", "$1", "@v", "E'", "\\", ".", "1e5", " AS x ", "é", "\u{0}", "表", " USING ", " VALUES ", "CREATE TABLE ",
    "DROP TABLE ", "RENAME TABLE ", " TO ", "LOCK TABLES ", " READ", "COPY ", " LIKE ", "REFERENCES ",
]

func randomSQL(_ rng: inout SeededGenerator) -> [UInt8] {
    var out: [UInt8] = []
    let count = Int(rng.next() % 24)
    for _ in 0..<count {
        if rng.next() % 8 == 0 {
            out.append(UInt8(truncatingIfNeeded: rng.next()))
        } else {
            out += Array(fragments[Int(rng.next() % UInt64(fragments.count))].utf8)
        }
    }
    return out
}

let statementTemplates: [String] = [
    "SELECT * FROM {T} JOIN {U} ON {T}.a = {U}.b WHERE c = '{T}'",
    "INSERT INTO {T} (a) SELECT a FROM {U} /* {T} */",
    "UPDATE {T} SET a = 1 WHERE b IN (SELECT b FROM {U} x WHERE x.c = {T}.c)",
    "DELETE FROM {T} WHERE a = ?",
    "WITH c AS (SELECT * FROM {T}) SELECT * FROM c, {U}",
    "CREATE TABLE {T} (a int REFERENCES {U} (a))",
    "DROP TABLE IF EXISTS {T}, {U}",
    "SELECT {T}.a, count(*) FROM {T} GROUP BY {T}.a",
    "SELECT 1",
]

/// Replaces every occurrence of `target` (no Foundation in this package).
func replace(_ s: String, _ target: String, _ with: String) -> String {
    let parts = s.split(separator: target, omittingEmptySubsequences: false)
    return parts.joined(separator: with)
}

/// Random statements built from templates with randomly spelled names, whitespace and comments.
func randomStatement(_ rng: inout SeededGenerator, _ dialect: SQLDialect) -> [UInt8] {
    let quote = dialect == .mysql ? "`" : "\""
    func name(_ base: String) -> String {
        switch rng.next() % 3 {
        case 0: return base
        case 1: return quote + base + quote
        default: return "db." + base
        }
    }
    var parts: [String] = []
    for _ in 0..<(1 + Int(rng.next() % 3)) {
        var s = statementTemplates[Int(rng.next() % UInt64(statementTemplates.count))]
        let t = name("t")
        let u = name("u")
        s = replace(replace(s, "{T}", t), "{U}", u)
        if rng.next() % 2 == 0 { s = "/* lead */ " + s }
        if rng.next() % 2 == 0 { s = replace(s, " ", "\n  ") }
        parts.append(s)
    }
    return Array(parts.joined(separator: ";\n").utf8)
}

@Suite struct PropertyTests {
    @Test("tokens tile random byte strings exactly", arguments: SQLDialect.allCases)
    func tokensTile(_ dialect: SQLDialect) {
        var rng = SeededGenerator(state: 42)
        var tokens: [Token] = []
        for _ in 0..<3000 {
            let input = randomSQL(&rng)
            tokens.removeAll()
            input.withUnsafeBytes { SQLTokenizer.tokenize($0, dialect: dialect, into: &tokens) }
            var position = 0
            for token in tokens {
                #expect(token.start == position)
                #expect(token.end >= token.start)
                position = token.end
            }
            #expect(position == input.count)
        }
    }

    @Test("the identity mapping never changes a byte", arguments: SQLDialect.allCases)
    func identity(_ dialect: SQLDialect) {
        var rng = SeededGenerator(state: 7)
        let identity = LaneMapping(lane: "gray", unmappedWrites: .pass, unmappedReads: .pass)
        var rewriter = SQLRewriter(dialect: dialect)
        for _ in 0..<3000 {
            let input = randomSQL(&rng)
            if case .rewritten = rewriter.rewrite(input, lane: identity) {
                Issue.record("identity mapping rewrote \(String(decoding: input, as: UTF8.self))")
            }
        }
    }

    @Test("rewriting is idempotent and a mapping followed by its inverse restores the input", arguments: SQLDialect.allCases)
    func inverseAndIdempotent(_ dialect: SQLDialect) {
        var rng = SeededGenerator(state: 99)
        let forward = LaneMapping(lane: "gray", tables: ["t": "t_g", "u": "u_g"], unmappedWrites: .pass)
        let backward = LaneMapping(lane: "base", tables: ["t_g": "t", "u_g": "u"], unmappedWrites: .pass)
        var rewriter = SQLRewriter(dialect: dialect)
        var checked = 0
        for _ in 0..<2000 {
            let input = randomStatement(&rng, dialect)
            guard case .rewritten(let once, _) = rewriter.rewrite(input, lane: forward) else { continue }
            checked += 1
            if case .rewritten(let twice, _) = rewriter.rewrite(once, lane: forward) {
                Issue.record("not idempotent: \(String(decoding: once, as: UTF8.self)) → \(String(decoding: twice, as: UTF8.self))")
            }
            switch rewriter.rewrite(once, lane: backward) {
            case .rewritten(let back, _):
                #expect(back == input, "inverse of \(String(decoding: once, as: UTF8.self))")
            default:
                Issue.record("inverse did not rewrite \(String(decoding: once, as: UTF8.self))")
            }
        }
        #expect(checked > 50)
    }

    @Test("random bytes never crash the hint and session scanners or the classifier", arguments: SQLDialect.allCases)
    func scannersSurvive(_ dialect: SQLDialect) {
        var rng = SeededGenerator(state: 1234)
        let scanner = LaneHintScanner(key: "lane")
        for _ in 0..<3000 {
            let input = randomSQL(&rng)
            input.withUnsafeBytes {
                _ = scanner.lane(in: $0, dialect: dialect)
                _ = SessionStatementScanner.effects(in: $0, dialect: dialect)
                _ = StatementClassifier.classify($0, dialect: dialect)
            }
        }
    }
}
