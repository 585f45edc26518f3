// libFuzzer entry point for the SQL engine: lexes, scans hints and session statements, classifies and
// rewrites arbitrary bytes in both dialects, and checks the invariants that must hold for every input.
// Built by scripts/fuzz/run.sh together with the ShadowSQL sources (not part of the package build).

let identity = LaneMapping(lane: "fuzz", unmappedWrites: .pass, unmappedReads: .pass)
let suffix = LaneMapping(lane: "fuzz", tableSuffix: "_fz", unmappedWrites: .pass)
let hints = LaneHintScanner(key: "lane")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    for dialect in SQLDialect.allCases {
        // Tokens tile the input exactly.
        var tokens: [Token] = []
        SQLTokenizer.tokenize(bytes, dialect: dialect, into: &tokens)
        var position = 0
        for token in tokens {
            if token.start != position || token.end < token.start { fatalError("tokens do not tile the input") }
            position = token.end
        }
        if position != size { fatalError("tokens do not cover the input") }

        _ = hints.lane(in: bytes, dialect: dialect)
        _ = SessionStatementScanner.effects(in: bytes, dialect: dialect)
        _ = StatementClassifier.classify(bytes, dialect: dialect)

        // The identity mapping never changes a byte.
        var rewriter = SQLRewriter(dialect: dialect)
        if case .rewritten = rewriter.rewrite(bytes, lane: identity) {
            fatalError("identity mapping rewrote the input")
        }
        // A rewrite is idempotent.
        if case .rewritten(let once, _) = rewriter.rewrite(bytes, lane: suffix) {
            if case .rewritten = rewriter.rewrite(once, lane: suffix) {
                fatalError("rewrite is not idempotent")
            }
        }
    }
    return 0
}
