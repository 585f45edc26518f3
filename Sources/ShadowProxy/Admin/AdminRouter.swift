import Foundation
import Prometheus

/// An HTTP response the admin endpoint sends.
public struct AdminResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: String
}

/// Maps admin requests to responses; pure apart from reading the live objects, so it is tested without a socket.
public struct AdminRouter: Sendable {
    public let version: String
    public let routing: RoutingSource
    public let connections: ConnectionRegistry
    public let statistics: LaneStatistics
    public let registry: PrometheusCollectorRegistry
    public let readiness: ReadinessProbe
    public let startedAt: Double
    /// Replay-log lag and applier state per dual-write stream; nil when nothing is mirrored.
    public let dualWrite: DualWriteService?

    public init(
        version: String, routing: RoutingSource, connections: ConnectionRegistry, statistics: LaneStatistics,
        registry: PrometheusCollectorRegistry, readiness: ReadinessProbe, startedAt: Double,
        dualWrite: DualWriteService? = nil
    ) {
        self.dualWrite = dualWrite
        self.version = version
        self.routing = routing
        self.connections = connections
        self.statistics = statistics
        self.registry = registry
        self.readiness = readiness
        self.startedAt = startedAt
    }

    /// Answers `method path`.
    public func respond(method: String, path: String, now: Double = Date().timeIntervalSince1970) -> AdminResponse {
        guard method == "GET" || method == "HEAD" else {
            return AdminResponse(status: 405, contentType: "text/plain; charset=utf-8", body: "method not allowed\n")
        }
        let route = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        switch route {
        case "/metrics":
            return AdminResponse(
                status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: Self.metricsText(registry))
        case "/healthz":
            return AdminResponse(status: 200, contentType: "text/plain; charset=utf-8", body: "ok\n")
        case "/readyz":
            let report = readiness.report
            return AdminResponse(
                status: report.ready ? 200 : 503, contentType: "application/json", body: Self.json(report))
        case "/api/status":
            return AdminResponse(status: 200, contentType: "application/json", body: Self.json(status(now: now)))
        case "/", "/index.html":
            return AdminResponse(
                status: 200, contentType: "text/html; charset=utf-8", body: StatusPage.render(status(now: now), now: now))
        default:
            return AdminResponse(status: 404, contentType: "text/plain; charset=utf-8", body: "not found: \(route)\n")
        }
    }

    /// The registry's metrics and the statement latency histograms, after the event loops' statement counts were
    /// collected into them.
    public static func metricsText(_ registry: PrometheusCollectorRegistry) -> String {
        StatementMetrics.shared.collect()
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        StatementMetrics.shared.emitHistograms(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    private func status(now: Double) -> AdminStatus {
        AdminStatus.gather(
            version: version, routing: routing, connections: connections, statistics: statistics, startedAt: startedAt,
            dualWrite: dualWrite?.statuses ?? [])
    }

    private static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
