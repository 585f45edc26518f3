import CoreMetrics

/// The metric names Shadowgate exports (through swift-metrics; the admin endpoint renders them for Prometheus).
/// Sessions create their handles once per connection or lane change and keep them, so the per-statement cost is an
/// atomic increment, never a registry lookup.
public enum ProxyMetrics {
    public static let connectionsTotal = "shadowgate_connections_total"
    public static let connectionsCurrent = "shadowgate_connections_current"
    public static let statementsTotal = "shadowgate_statements_total"
    public static let refusalsTotal = "shadowgate_refusals_total"
    public static let rewritesTotal = "shadowgate_rewrites_total"
    public static let statementDuration = "shadowgate_statement_duration_seconds"
    public static let backendConnectErrorsTotal = "shadowgate_backend_connect_errors_total"
    public static let bytesTotal = "shadowgate_bytes_total"
    public static let configReloadsTotal = "shadowgate_config_reloads_total"

    /// Handles for one connection in one lane.
    public struct LaneHandles: Sendable {
        public let statements: Counter
        public let rewrites: Counter
        public let duration: Timer

        public init(listener: String, lane: String) {
            let dimensions = [("listener", listener), ("lane", lane)]
            self.statements = Counter(label: ProxyMetrics.statementsTotal, dimensions: dimensions)
            self.rewrites = Counter(label: ProxyMetrics.rewritesTotal, dimensions: dimensions)
            self.duration = Timer(label: ProxyMetrics.statementDuration, dimensions: dimensions)
        }
    }

    /// Counts a refusal with its rule.
    public static func recordRefusal(listener: String, lane: String, rule: String) {
        Counter(label: refusalsTotal, dimensions: [("listener", listener), ("lane", lane), ("rule", rule)]).increment()
    }

    /// Counts a failed backend connection attempt.
    public static func recordBackendConnectError(listener: String, backend: String) {
        Counter(label: backendConnectErrorsTotal, dimensions: [("listener", listener), ("backend", backend)])
            .increment()
    }

    /// Counts an accepted connection and returns the listener's current-connections gauge to update on close.
    public static func recordConnectionOpened(listener: String, lane: String) {
        Counter(label: connectionsTotal, dimensions: [("listener", listener), ("lane", lane)]).increment()
    }
}
