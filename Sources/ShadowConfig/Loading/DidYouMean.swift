/// Suggests the known word closest to a misspelt one, for "unknown key; did you mean …?" messages.
enum DidYouMean {
    /// The candidate within a small edit distance of `word` (about a third of its length, at least 1), or nil.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let limit = max(1, word.count / 3)
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(Array(word.lowercased().utf8), Array(candidate.lowercased().utf8))
            if distance <= limit, distance < (best?.1 ?? Int.max) { best = (candidate, distance) }
        }
        return best?.0
    }

    /// Levenshtein distance over bytes; inputs are short keys, so the quadratic cost does not matter,
    /// but very long inputs are cut off to keep hostile files cheap.
    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        let a = a.prefix(64), b = Array(b.prefix(64))
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for (i, x) in a.enumerated() {
            current[0] = i + 1
            for (j, y) in b.enumerated() {
                current[j + 1] = Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
