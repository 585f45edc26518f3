// Fuzz target sql-lexer: the SQL front end on arbitrary bytes, both dialects. The lexer must tile the input
// exactly; the hint scanner, session scanner and classifier must return (anything) without trapping; the identity
// mapping must not change a byte and rewriting must be idempotent (docs/rewrite-rules.md, resolution step 1).
import ShadowSQL

let identity = LaneMapping(lane: "fuzz", unmappedWrites: .pass, unmappedReads: .pass)
let suffix = LaneMapping(lane: "fuzz", tableSuffix: "_fz", unmappedWrites: .pass)
let hints = LaneHintScanner(key: "lane")
var rewriters = SQLDialect.allCases.map { SQLRewriter(dialect: $0) }
var tokens: [Token] = []

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    for (index, dialect) in SQLDialect.allCases.enumerated() {
        tokens.removeAll(keepingCapacity: true)
        SQLTokenizer.tokenize(bytes, dialect: dialect, into: &tokens)
        var position = 0
        for token in tokens {
            if token.start != position || token.end < token.start { fatalError("\(dialect): tokens do not tile the input") }
            position = token.end
        }
        if position != size { fatalError("\(dialect): tokens do not cover the input") }

        // At most 128 bytes are read as a value; invalid UTF-8 becomes U+FFFD, so count scalars, not UTF-8 bytes.
        if let lane = hints.lane(in: bytes, dialect: dialect), lane.isEmpty || lane.unicodeScalars.count > 128 {
            fatalError("\(dialect): hint scanner returned an impossible lane name '\(lane)'")
        }
        _ = SessionStatementScanner.effects(in: bytes, dialect: dialect)
        _ = StatementClassifier.classify(bytes, dialect: dialect)

        if case .rewritten(let output, _) = rewriters[index].rewrite(bytes, lane: identity), !output.elementsEqual(bytes) {
            fatalError("\(dialect): the identity mapping rewrote the input")
        }
        if case .rewritten(let once, _) = rewriters[index].rewrite(bytes, lane: suffix) {
            if case .rewritten(let twice, _) = rewriters[index].rewrite(once, lane: suffix), twice != once {
                fatalError("\(dialect): rewriting is not idempotent:\n once: \(escaped(once))\n twice: \(escaped(twice))")
            }
        }
    }
    return 0
}

