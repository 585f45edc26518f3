import ArgumentParser
import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import ShadowConfig
import ShadowProxy

/// `shadowgate serve`: runs the proxy with every listener of the configuration, the admin endpoint, and hot reload.
public struct ServeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the proxy: every listener of the configuration, the admin endpoint, and hot reload.",
        discussion: """
            SIGHUP or an edit of the configuration file reloads it (an invalid file keeps the running configuration). \
            SIGTERM or SIGINT stops accepting, lets in-flight statements finish for --drain-timeout seconds, \
            flushes the replay log, and exits 0. A second signal exits at once.
            """
    )

    @Option(name: .long, help: "Path to the YAML configuration file.")
    var config: String

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(name: .long, help: "Seconds to let in-flight statements finish on SIGTERM before closing connections.")
    var drainTimeout: Double = 30

    @Option(name: .long, help: "Event-loop threads (default: one per core).")
    var threads: Int = System.coreCount

    public init() {}

    public func run() async throws {
        let io = CommandIO.current
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        let configuration = try loadConfigurationOrExit(path: config, io: io)
        ProcessBootstrap.bootstrapOnce(level: level)
        var logger = Logger(label: "shadowgate")
        logger.logLevel = level

        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        let runtime = try ProxyRuntime(
            configuration: configuration, registry: ProcessBootstrap.registry, group: group,
            drainTimeout: .milliseconds(Int64(drainTimeout * 1000)), logger: logger,
            configurationDirectory: (config as NSString).deletingLastPathComponent)
        let reloader = ConfigReloader(
            path: config, routing: runtime.routing, logger: logger,
            load: { try ShadowgateConfiguration.load(path: $0, reloading: configuration) })
        // The group stops services in reverse order: dual-write (first here) flushes and closes after the
        // listeners drained.
        var members: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let dualWrite = runtime.dualWrite { members.append(.init(service: dualWrite)) }
        members += [.init(service: runtime.server), .init(service: reloader)]
        let services = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: members,
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: logger
            ))
        do {
            try await services.run()
        } catch {
            logger.error("shadowgate stopped with an error", metadata: ["error": "\(error)"])
            try? await group.shutdownGracefully()
            throw ExitCode(1)
        }
        try? await group.shutdownGracefully()
    }
}

/// Process-wide logging and metrics backends: bootstrapped once, even when `serve` runs in-process several times.
enum ProcessBootstrap {
    /// The Prometheus registry behind swift-metrics; the admin endpoint renders it.
    static let registry = PrometheusCollectorRegistry()

    private static let once: Void = {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .trace  // each Logger sets its own level
            return handler
        }
        // Statement latency is not a swift-metrics timer: ``StatementMetrics`` keeps and renders it.
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }()

    static func bootstrapOnce(level: Logger.Level) {
        _ = once
    }
}
