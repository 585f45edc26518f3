import Foundation
import Metrics
import Prometheus
import ShadowProxy

/// The one place integration tests route swift-metrics into a Prometheus registry. `MetricsSystem.bootstrap` may
/// run only once per process, so every test that reads metrics goes through ``registry`` (which bootstraps on first
/// use) and tells its numbers apart by a listener name of its own; counters only grow, so compare before and after.
enum TestMetrics {
    private static let shared = PrometheusCollectorRegistry()
    private static let once: Void = { MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: shared)) }()

    /// The process-wide registry, with swift-metrics bootstrapped to it.
    static var registry: PrometheusCollectorRegistry {
        _ = once
        return shared
    }

    /// The sum of the samples of `name` whose labels include all of `labels` (0 when there is none).
    static func value(_ name: String, _ labels: [String: String]) -> Double {
        var total = 0.0
        for line in AdminRouter.metricsText(registry).split(separator: "\n") where line.hasPrefix(name + "{") {
            guard let close = line.lastIndex(of: "}") else { continue }
            let labelText = line[line.index(line.startIndex, offsetBy: name.count + 1)..<close]
            guard labels.allSatisfy({ labelText.contains("\($0.key)=\"\($0.value)\"") }) else { continue }
            total += Double(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)) ?? 0
        }
        return total
    }
}
