import Foundation
import Logging
import Metrics
import ServiceLifecycle
import ShadowConfig
import UnixSignals

/// Reloads the configuration on SIGHUP and when the file changes on disk, as a ServiceLifecycle service.
/// A new file is validated first; only a valid one is swapped into the ``RoutingSource``. An invalid file keeps the
/// old configuration running and logs every problem with its line. Sessions keep their lane; new statements use
/// the new mapping; no connection is dropped.
public struct ConfigReloader: Service {
    /// Reads and validates a configuration file; throws an error whose description names file, line and problem.
    public typealias Loader = @Sendable (_ path: String) throws -> ShadowgateConfiguration

    private let path: String
    private let routing: RoutingSource
    private let load: Loader
    private let pollInterval: Duration
    private let logger: Logger
    private let onReload: @Sendable (RoutingTable) -> Void

    public init(
        path: String, routing: RoutingSource, pollInterval: Duration = .seconds(1), logger: Logger,
        load: @escaping Loader, onReload: @escaping @Sendable (RoutingTable) -> Void = { _ in }
    ) {
        self.path = path
        self.routing = routing
        self.load = load
        self.pollInterval = pollInterval
        self.logger = logger
        self.onReload = onReload
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in signals.cancelOnGracefulShutdown() {
                    self.reload(reason: "SIGHUP")
                }
            }
            group.addTask {
                var lastStamp = Self.stamp(of: path)
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    try? await Task.sleep(for: pollInterval)
                    let stamp = Self.stamp(of: path)
                    if stamp != lastStamp {
                        lastStamp = stamp
                        self.reload(reason: "file changed")
                    }
                }
            }
            try await gracefulShutdown()
            group.cancelAll()
        }
    }

    /// Loads, validates and swaps in the file; returns whether the new configuration is in force.
    @discardableResult
    public func reload(reason: String) -> Bool {
        do {
            let configuration = try load(path)
            let table = RoutingTable(configuration: configuration)
            routing.replace(with: table)
            Counter(label: ProxyMetrics.configReloadsTotal, dimensions: [("outcome", "success")]).increment()
            logger.info(
                "configuration reloaded",
                metadata: ["reason": "\(reason)", "generation": "\(routing.generation)", "file": "\(path)"])
            onReload(table)
            return true
        } catch {
            Counter(label: ProxyMetrics.configReloadsTotal, dimensions: [("outcome", "rejected")]).increment()
            logger.error(
                "configuration reload rejected; the previous configuration stays in force",
                metadata: ["reason": "\(reason)", "file": "\(path)", "errors": "\(error)"])
            return false
        }
    }

    /// Modification time and size: enough to notice an edit or an atomic rename over the file.
    private static func stamp(of path: String) -> [String] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return [] }
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        let inode = (attributes[.systemFileNumber] as? NSNumber)?.intValue ?? 0
        return ["\(modified)", "\(size)", "\(inode)"]
    }
}
