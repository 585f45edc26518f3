import CoreMetrics
import NIOConcurrencyHelpers

/// The per-statement metrics — statements, rewrites and round-trip latency per listener and lane, relayed bytes
/// per listener — counted where they happen and added to the process-wide figures only when they are read.
///
/// Why not swift-metrics handles per statement: every connection of every event loop incremented the same few
/// counters and recorded into the same latency histogram, so each statement paid for atomic increments and a
/// histogram lock whose cache lines moved between the cores, plus a bucket search in 128-bit `Duration`
/// arithmetic. Here each event loop has its own ``Shard`` per listener and lane: a statement takes that shard's
/// lock, which no other thread wants except a scrape, and adds to plain integers. ``collect()`` (called by the
/// admin endpoint before it renders, and by tests) moves what the shards hold into the Prometheus counters and
/// into the latency histograms kept here, which ``emitHistograms(into:)`` renders in the exposition format.
public final class StatementMetrics: Sendable {
    /// The process-wide instance: swift-metrics is process-wide too, and the admin endpoint renders both.
    public static let shared = StatementMetrics()

    /// Upper bounds of the latency buckets, in nanoseconds (Prometheus `le`; `+Inf` is implied).
    static let bucketBounds: [Int64] = [
        100_000, 250_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 25_000_000, 50_000_000,
        100_000_000, 250_000_000, 500_000_000, 1_000_000_000, 5_000_000_000,
    ]

    /// A listener and lane (lane is empty for the per-listener byte counts).
    struct Key: Hashable, Comparable {
        var listener: String
        var lane: String

        static func < (lhs: Key, rhs: Key) -> Bool { (lhs.listener, lhs.lane) < (rhs.listener, rhs.lane) }
    }

    /// What one event loop counted for one listener and lane since the last ``StatementMetrics/collect()``.
    struct Pending {
        var statements = 0
        var rewrites = 0
        /// Latency observations per bucket (one more than the bounds: the last is above every bound).
        var buckets = [Int](repeating: 0, count: StatementMetrics.bucketBounds.count + 1)
        var latencyCount = 0
        var latencyNanoseconds: Int64 = 0
        var bytesIn = 0
        var bytesOut = 0

        var isEmpty: Bool { statements == 0 && rewrites == 0 && latencyCount == 0 && bytesIn == 0 && bytesOut == 0 }
    }

    /// One event loop's counts for one listener and lane. Connections keep a reference and call it on their loop;
    /// only ``StatementMetrics/collect()`` takes the lock from another thread.
    final class Shard: Sendable {
        let key: Key
        private let pending = NIOLockedValueBox(Pending())

        init(key: Key) { self.key = key }

        func statement(rewritten: Bool) {
            pending.withLockedValue {
                $0.statements += 1
                if rewritten { $0.rewrites += 1 }
            }
        }

        func latency(nanoseconds: Int64) {
            // Linear: most statements fall in the first buckets, and there are only 14.
            var index = 0
            let bounds = StatementMetrics.bucketBounds
            while index < bounds.count, nanoseconds > bounds[index] { index += 1 }
            pending.withLockedValue {
                $0.buckets[index] += 1
                $0.latencyCount += 1
                $0.latencyNanoseconds += nanoseconds
            }
        }

        func bytes(in received: Int, out sent: Int) {
            pending.withLockedValue {
                $0.bytesIn += received
                $0.bytesOut += sent
            }
        }

        /// Takes what was counted, leaving zeros.
        func take() -> Pending? {
            pending.withLockedValue { pending in
                guard !pending.isEmpty else { return nil }
                defer { pending = Pending() }
                return pending
            }
        }
    }

    /// The process-wide figures of one listener and lane, and the swift-metrics counters they go to.
    private struct Totals {
        var statements: Counter?
        var rewrites: Counter?
        var bytesIn: Counter?
        var bytesOut: Counter?
        var buckets = [Int](repeating: 0, count: StatementMetrics.bucketBounds.count + 1)
        var latencyCount = 0
        var latencyNanoseconds: Int64 = 0
    }

    private struct State {
        /// Every shard ever handed out, per event loop; kept for the process's life (a few per loop and lane).
        var shards: [ShardID: Shard] = [:]
        var totals: [Key: Totals] = [:]
    }

    private struct ShardID: Hashable {
        var loop: ObjectIdentifier
        var key: Key
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// The shard of `listener` and `lane` for the event loop `loop` (connections look it up once per lane).
    func shard(listener: String, lane: String, loop: ObjectIdentifier) -> Shard {
        let key = Key(listener: listener, lane: lane)
        return state.withLockedValue { state in
            let id = ShardID(loop: loop, key: key)
            if let existing = state.shards[id] { return existing }
            let created = Shard(key: key)
            state.shards[id] = created
            return created
        }
    }

    /// Moves what every shard counted into the process-wide figures: call before reading the metrics.
    public func collect() {
        state.withLockedValue { state in
            for shard in state.shards.values {
                guard let pending = shard.take() else { continue }
                var totals = state.totals[shard.key] ?? Totals()
                Self.add(pending, to: &totals, key: shard.key)
                state.totals[shard.key] = totals
            }
        }
    }

    private static func add(_ pending: Pending, to totals: inout Totals, key: Key) {
        if pending.statements > 0 {
            totals.statements = totals.statements ?? Counter(label: ProxyMetrics.statementsTotal, dimensions: laneDimensions(key))
            totals.statements?.increment(by: pending.statements)
        }
        if pending.rewrites > 0 {
            totals.rewrites = totals.rewrites ?? Counter(label: ProxyMetrics.rewritesTotal, dimensions: laneDimensions(key))
            totals.rewrites?.increment(by: pending.rewrites)
        }
        if pending.bytesIn > 0 {
            totals.bytesIn = totals.bytesIn ?? Counter(label: ProxyMetrics.bytesTotal, dimensions: [("listener", key.listener), ("direction", "in")])
            totals.bytesIn?.increment(by: pending.bytesIn)
        }
        if pending.bytesOut > 0 {
            totals.bytesOut = totals.bytesOut ?? Counter(label: ProxyMetrics.bytesTotal, dimensions: [("listener", key.listener), ("direction", "out")])
            totals.bytesOut?.increment(by: pending.bytesOut)
        }
        if pending.latencyCount > 0 {
            for index in pending.buckets.indices { totals.buckets[index] += pending.buckets[index] }
            totals.latencyCount += pending.latencyCount
            totals.latencyNanoseconds += pending.latencyNanoseconds
        }
    }

    private static func laneDimensions(_ key: Key) -> [(String, String)] {
        [("listener", key.listener), ("lane", key.lane)]
    }

    /// Renders the latency histograms (`shadowgate_statement_duration_seconds`) in the Prometheus text format,
    /// cumulative buckets as Prometheus expects; call ``collect()`` first.
    public func emitHistograms(into buffer: inout [UInt8]) {
        let latencies = state.withLockedValue { state in
            state.totals.filter { $0.value.latencyCount > 0 }.sorted { $0.key < $1.key }
        }
        guard !latencies.isEmpty else { return }
        let name = ProxyMetrics.statementDuration
        buffer.append(contentsOf: "# TYPE \(name) histogram\n".utf8)
        for (key, totals) in latencies {
            let labels = "listener=\"\(Self.escaped(key.listener))\",lane=\"\(Self.escaped(key.lane))\""
            var cumulative = 0
            for (index, bound) in Self.bucketBounds.enumerated() {
                cumulative += totals.buckets[index]
                buffer.append(contentsOf: "\(name)_bucket{\(labels),le=\"\(Self.seconds(bound))\"} \(cumulative)\n".utf8)
            }
            buffer.append(contentsOf: "\(name)_bucket{\(labels),le=\"+Inf\"} \(totals.latencyCount)\n".utf8)
            buffer.append(contentsOf: "\(name)_sum{\(labels)} \(Self.seconds(totals.latencyNanoseconds))\n".utf8)
            buffer.append(contentsOf: "\(name)_count{\(labels)} \(totals.latencyCount)\n".utf8)
        }
    }

    /// Nanoseconds as decimal seconds without a binary floating-point detour (`250000` → `0.00025`).
    static func seconds(_ nanoseconds: Int64) -> String {
        let whole = nanoseconds / 1_000_000_000
        var fraction = String(nanoseconds % 1_000_000_000)
        guard fraction != "0" else { return "\(whole)" }
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(whole).\(fraction)"
    }

    /// A label value as the exposition format wants it (backslash, quote and newline escaped).
    static func escaped(_ value: String) -> String {
        var result = ""
        for character in value {
            switch character {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            default: result.append(character)
            }
        }
        return result
    }
}
