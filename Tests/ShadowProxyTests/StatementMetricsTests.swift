import Testing

@testable import ShadowProxy

/// Statement latency counted per event loop and rendered as one Prometheus histogram per listener and lane.
@Suite struct StatementMetricsTests {
    /// Two distinct objects stand in for two event loops (shards are keyed by the loop's identity only).
    final class Loop {}

    func rendered(_ metrics: StatementMetrics) -> [String] {
        metrics.collect()
        var buffer: [UInt8] = []
        metrics.emitHistograms(into: &buffer)
        return String(decoding: buffer, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test("each event loop gets its own shard of a lane, and the same one when it asks again")
    func shardsPerLoop() {
        let metrics = StatementMetrics()
        let (a, b) = (Loop(), Loop())
        let first = metrics.shard(listener: "orders", lane: "gray", loop: ObjectIdentifier(a))
        #expect(metrics.shard(listener: "orders", lane: "gray", loop: ObjectIdentifier(a)) === first)
        #expect(metrics.shard(listener: "orders", lane: "gray", loop: ObjectIdentifier(b)) !== first)
        #expect(metrics.shard(listener: "orders", lane: "base", loop: ObjectIdentifier(a)) !== first)
    }

    @Test("latencies from two loops add up in one histogram with cumulative buckets, a sum and a count")
    func histogramAddsLoops() {
        let metrics = StatementMetrics()
        let (a, b) = (Loop(), Loop())
        let onA = metrics.shard(listener: "orders", lane: "gray", loop: ObjectIdentifier(a))
        let onB = metrics.shard(listener: "orders", lane: "gray", loop: ObjectIdentifier(b))
        onA.latency(nanoseconds: 50_000)  // ≤ 100 µs
        onA.latency(nanoseconds: 100_000)  // exactly the first bound: still in it (le is "less or equal")
        onB.latency(nanoseconds: 300_000)  // ≤ 500 µs
        onB.latency(nanoseconds: 9_000_000_000)  // above every bound: only +Inf
        let lines = rendered(metrics)
        let labels = #"listener="orders",lane="gray""#
        #expect(lines.first == "# TYPE shadowgate_statement_duration_seconds histogram")
        #expect(lines.contains(#"shadowgate_statement_duration_seconds_bucket{\#(labels),le="0.0001"} 2"#))
        #expect(lines.contains(#"shadowgate_statement_duration_seconds_bucket{\#(labels),le="0.00025"} 2"#))
        #expect(lines.contains(#"shadowgate_statement_duration_seconds_bucket{\#(labels),le="0.0005"} 3"#))
        #expect(lines.contains(#"shadowgate_statement_duration_seconds_bucket{\#(labels),le="5"} 3"#))
        #expect(lines.contains(#"shadowgate_statement_duration_seconds_bucket{\#(labels),le="+Inf"} 4"#))
        #expect(lines.contains("shadowgate_statement_duration_seconds_sum{\(labels)} 9.00045"))
        #expect(lines.contains("shadowgate_statement_duration_seconds_count{\(labels)} 4"))
    }

    @Test("what was collected stays, and what arrives later is added at the next collection")
    func collectionsAccumulate() {
        let metrics = StatementMetrics()
        let shard = metrics.shard(listener: "l", lane: "base", loop: ObjectIdentifier(Loop()))
        shard.latency(nanoseconds: 1_000)
        #expect(rendered(metrics).contains(#"shadowgate_statement_duration_seconds_count{listener="l",lane="base"} 1"#))
        #expect(rendered(metrics).contains(#"shadowgate_statement_duration_seconds_count{listener="l",lane="base"} 1"#))
        shard.latency(nanoseconds: 1_000)
        #expect(rendered(metrics).contains(#"shadowgate_statement_duration_seconds_count{listener="l",lane="base"} 2"#))
    }

    @Test("nothing is rendered before a statement was timed, and lanes come out sorted")
    func emptyAndOrder() {
        let metrics = StatementMetrics()
        #expect(rendered(metrics).isEmpty)
        let loop = ObjectIdentifier(Loop())
        metrics.shard(listener: "l", lane: "gray", loop: loop).latency(nanoseconds: 1)
        metrics.shard(listener: "l", lane: "base", loop: loop).latency(nanoseconds: 1)
        let counts = rendered(metrics).filter { $0.contains("_count") }
        #expect(counts == [
            #"shadowgate_statement_duration_seconds_count{listener="l",lane="base"} 1"#,
            #"shadowgate_statement_duration_seconds_count{listener="l",lane="gray"} 1"#,
        ])
    }

    @Test("seconds are written exactly from nanoseconds, and label values are escaped")
    func formatting() {
        #expect(StatementMetrics.seconds(0) == "0")
        #expect(StatementMetrics.seconds(250_000) == "0.00025")
        #expect(StatementMetrics.seconds(1_000_000_000) == "1")
        #expect(StatementMetrics.seconds(1_500_000_001) == "1.500000001")
        #expect(StatementMetrics.escaped(#"a"b\c"#) == #"a\"b\\c"#)
        #expect(StatementMetrics.escaped("a\nb") == #"a\nb"#)
    }
}
