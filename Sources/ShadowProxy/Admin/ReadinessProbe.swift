import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ShadowConfig

/// Whether the process is ready for traffic: configuration loaded and every listener's base server reachable.
/// A background loop probes the servers with a TCP connect; `/readyz` reads the cached result, so a slow server
/// never makes the probe endpoint itself slow.
public final class ReadinessProbe: Sendable {
    /// The last probe's outcome.
    public struct Report: Sendable, Codable, Equatable {
        public var ready: Bool
        public var configurationLoaded: Bool
        /// Server address → reachable.
        public var backends: [String: Bool]
    }

    private let state = NIOLockedValueBox(Report(ready: false, configurationLoaded: false, backends: [:]))

    public init() {}

    /// The last report.
    public var report: Report { state.withLockedValue { $0 } }

    /// Probes every base and lane server of `table` once.
    public func probe(_ table: RoutingTable, group: any EventLoopGroup, timeout: TimeAmount = .seconds(1)) async {
        var endpoints = Set<Endpoint>()
        for listener in table.configuration.listeners {
            endpoints.insert(listener.backend)
            for lane in table.configuration.lanes {
                if let other = lane.backends[listener.name] { endpoints.insert(other) }
            }
        }
        var results: [String: Bool] = [:]
        for endpoint in endpoints {
            results[endpoint.description] = await Self.reachable(endpoint, group: group, timeout: timeout)
        }
        let report = Report(
            ready: results.values.allSatisfy { $0 }, configurationLoaded: true, backends: results)
        state.withLockedValue { $0 = report }
    }

    private static func reachable(_ endpoint: Endpoint, group: any EventLoopGroup, timeout: TimeAmount) async -> Bool {
        do {
            let channel = try await ClientBootstrap(group: group)
                .connectTimeout(timeout)
                .connect(host: endpoint.host, port: endpoint.port).get()
            try? await channel.close()
            return true
        } catch {
            return false
        }
    }
}
