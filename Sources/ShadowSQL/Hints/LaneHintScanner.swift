/// Finds a lane label in a statement's comments: `/* lane=gray */`, sqlcommenter `/*lane='gray',traceparent='…'*/`
/// and W3C baggage carried in sqlcommenter (`baggage='lane%3Dgray'`). Scans a bounded prefix and suffix and
/// allocates nothing when there is no hint.
public struct LaneHintScanner: Sendable {
    /// The label key (`lane`), matched case-insensitively.
    public let key: String

    public init(key: String) {
        self.key = key
    }

    /// Returns the lane named by a hint in `sql`, or `nil`.
    public func lane(in sql: UnsafeRawBufferPointer, dialect: SQLDialect) -> String? {
        // PLACEHOLDER until the scanner lands.
        nil
    }
}
