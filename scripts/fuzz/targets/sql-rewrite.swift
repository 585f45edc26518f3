// Fuzz target sql-rewrite: a differential check of the rewriter on arbitrary bytes, both dialects.
//  - The identity mapping (no tables, no suffix, nothing refused) returns the input byte for byte.
//  - A renaming lane (suffix, explicit table map, database redirect) changes only identifiers: re-lexing the
//    output gives the same token sequence (whitespace aside: a space may separate a newly quoted name from a
//    neighbouring quoted one or a literal it would fuse with), and every token that is not a word or quoted
//    identifier is byte-equal.
//  - The shape cache: a rewriter that has seen earlier inputs answers this one, and this one with other digits in
//    its numbers, exactly as a fresh rewriter does.
import ShadowSQL

let identity = LaneMapping(lane: "identity", unmappedWrites: .pass, unmappedReads: .pass)
let renaming = [
    LaneMapping(lane: "suffix", tableSuffix: "_gray", unmappedWrites: .pass),
    LaneMapping(lane: "tables", tables: ["t": "t_shadow", "mse_demo.orders": "orders_gray"], sharedTables: ["ref"]),
    LaneMapping(lane: "databases", databases: ["mse_demo": "mse_demo_gray", "public": "gray"], unmappedWrites: .pass),
    LaneMapping(lane: "quoted", tableSuffix: "-Gray x", unmappedWrites: .pass, caseSensitiveNames: true),
    // New names that would fuse with a neighbouring literal without a space: PostgreSQL `e'…'` and `u&'…'`, MySQL
    // `x'…'` and `_charset'…'`, a number continued by `e5…`.
    LaneMapping(lane: "fusing", tables: ["t": "e", "a": "x", "b": "e5x", "c": "_utf8", "d": "u", "mse_demo_table": "b"],
                unmappedWrites: .pass),
]
var rewriters = SQLDialect.allCases.map { SQLRewriter(dialect: $0) }
/// One long-lived rewriter per dialect and renaming lane (a lane switch forgets the remembered shapes).
var warm = SQLDialect.allCases.map { dialect in renaming.map { _ in SQLRewriter(dialect: dialect) } }
var before: [Token] = []
var after: [Token] = []

func isIdentifier(_ kind: TokenKind) -> Bool { kind == .word || kind == .quotedIdentifier }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    for (index, dialect) in SQLDialect.allCases.enumerated() {
        if case .rewritten(let output, _) = rewriters[index].rewrite(input, lane: identity) {
            invariant(output.elementsEqual(input), "\(dialect): the identity mapping changed the input to \(escaped(output))")
        }
        before.removeAll(keepingCapacity: true)
        SQLTokenizer.tokenize(input, dialect: dialect, into: &before)
        before.removeAll { $0.kind == .whitespace }
        for lane in renaming {
            guard case .rewritten(let output, _) = rewriters[index].rewrite(input, lane: lane) else { continue }
            after.removeAll(keepingCapacity: true)
            output.withUnsafeBytes { out in
                SQLTokenizer.tokenize(out, dialect: dialect, into: &after)
                after.removeAll { $0.kind == .whitespace }
                invariant(before.count == after.count,
                          "\(dialect)/\(lane.lane): \(before.count) tokens became \(after.count): \(escaped(output))")
                for (old, new) in zip(before, after) {
                    if isIdentifier(old.kind) && isIdentifier(new.kind) { continue }
                    invariant(old.kind == new.kind
                              && input[old.start..<old.end].elementsEqual(out[new.start..<new.end]),
                              "\(dialect)/\(lane.lane): non-identifier token \(old.kind) '\(escaped(input[old.start..<old.end]))' changed in \(escaped(output))")
                }
            }
        }
        var variant: [UInt8] = Array(input)
        for token in before where token.kind == .number {
            for i in token.start..<token.end where variant[i] >= 0x31 && variant[i] <= 0x39 { variant[i] = 0x37 }
        }
        for (laneIndex, lane) in renaming.enumerated() {
            for sql in [Array(input), Array(input), variant] {
                var fresh = SQLRewriter(dialect: dialect)
                let expected = fresh.rewrite(sql, lane: lane)
                let got = warm[index][laneIndex].rewrite(sql, lane: lane)
                invariant(got == expected, "\(dialect)/\(lane.lane): a warm rewriter answered \(got) where a fresh one answered \(expected) for \(escaped(sql))")
            }
        }
    }
    return 0
}
