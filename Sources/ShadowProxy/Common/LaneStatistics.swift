import NIOConcurrencyHelpers

/// Per-lane statement counters and the last refusals and rewrites, for the status page. Prometheus gets the same
/// numbers through swift-metrics (``ProxyMetrics``); this keeps the examples that metrics cannot carry.
public final class LaneStatistics: Sendable {
    /// The counters and recent examples of one lane.
    public struct Lane: Sendable, Hashable, Codable {
        public var statements = 0
        public var rewrites = 0
        public var refusals = 0
        /// The newest last, at most ``LaneStatistics/exampleLimit``.
        public var lastRefusals: [String] = []
        public var lastRewrites: [String] = []
    }

    /// How many examples of each kind are kept per lane.
    public static let exampleLimit = 5

    private let lanes = NIOLockedValueBox<[String: Lane]>([:])

    public init() {}

    /// Counts `count` statements that ran in `lane`, `rewrites` of them with renamed tables (sessions batch them to
    /// keep the lock off the hot path).
    public func recordStatements(lane: String, count: Int, rewrites: Int = 0) {
        lanes.withLockedValue { lanes in
            var entry = lanes[lane, default: Lane()]
            entry.statements += count
            entry.rewrites += rewrites
            lanes[lane] = entry
        }
    }

    /// Keeps an example of a rewritten statement (already masked by the caller); counting is separate
    /// (``recordStatements(lane:count:rewrites:)``).
    public func recordRewriteExample(lane: String, example: String) {
        lanes.withLockedValue { lanes in
            var entry = lanes[lane, default: Lane()]
            Self.keep(example, in: &entry.lastRewrites)
            lanes[lane] = entry
        }
    }

    /// Counts a refusal and keeps its message.
    public func recordRefusal(lane: String, message: String) {
        lanes.withLockedValue { lanes in
            var entry = lanes[lane, default: Lane()]
            entry.refusals += 1
            Self.keep(message, in: &entry.lastRefusals)
            lanes[lane] = entry
        }
    }

    /// A copy of every lane's counters.
    public var snapshot: [String: Lane] { lanes.withLockedValue { $0 } }

    private static func keep(_ example: String, in list: inout [String]) {
        list.append(example.count > 300 ? String(example.prefix(300)) + "…" : example)
        if list.count > exampleLimit { list.removeFirst(list.count - exampleLimit) }
    }
}
