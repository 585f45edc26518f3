/// A key value: one text value per key column, in the server's text form (binary key columns as hex).
public typealias KeyValue = [String]

/// A half-open slice of a table's key space: rows with `lower < key <= upper`. A nil bound is unbounded, so the
/// chunks `(-∞, b1], (b1, b2], …, (bn, +∞)` cover every key either side can hold, including keys only the shadow has.
public struct KeyRange: Sendable, Hashable, CustomStringConvertible {
    /// Exclusive lower bound; nil is −∞.
    public var lower: KeyValue?
    /// Inclusive upper bound; nil is +∞.
    public var upper: KeyValue?

    public init(lower: KeyValue? = nil, upper: KeyValue? = nil) {
        self.lower = lower
        self.upper = upper
    }

    /// The whole key space.
    public static let all = KeyRange()

    /// Splits at `middle` (a key inside the range): `(lower, middle]` and `(middle, upper]`.
    public func split(at middle: KeyValue) -> (KeyRange, KeyRange) {
        (KeyRange(lower: lower, upper: middle), KeyRange(lower: middle, upper: upper))
    }

    /// The consecutive ranges between ascending `cuts`: `(lower, c1], (c1, c2], …, (ck, upper]`.
    public func split(at cuts: [KeyValue]) -> [KeyRange] {
        let edges: [KeyValue?] = [lower] + cuts.map { Optional($0) } + [upper]
        return (0..<(edges.count - 1)).map { KeyRange(lower: edges[$0], upper: edges[$0 + 1]) }
    }

    public var description: String {
        func show(_ key: KeyValue?) -> String { key.map { "(" + $0.joined(separator: ", ") + ")" } ?? "∞" }
        return "(\(lower.map { show($0) } ?? "-∞"), \(show(upper))]"
    }
}
