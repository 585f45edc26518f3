import CoreMetrics

/// The metric names Shadowgate exports (through swift-metrics; the admin endpoint renders them for Prometheus).
/// The per-statement ones (statements, rewrites, latency, bytes) are counted per event loop by
/// ``StatementMetrics`` and reach the registry when it is read.
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
