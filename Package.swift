// swift-tools-version:6.1
import PackageDescription

// Dependency direction (see docs/architecture.md):
//   ShadowSQL ← ShadowConfig ← {MySQLWire, PostgresWire} ← ShadowProxy ← ShadowgateCLI ← shadowgate
//   CMariaDB, CLibPQ ← DatabaseClients ← {ReplayLog (the applier's mirror sessions), ShadowDiff, ShadowgateCLI}
//   (blocking clients: control plane and applier threads only, never on an event loop)
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]
// The data path (wire codecs and state machines, relay handlers) runs without dynamic exclusivity checks
// in release builds: each access to a handler's stored state otherwise costs a runtime call, a measurable share of
// the relay's CPU per statement. Debug builds, which run the test suite, keep the checks (docs/benchmarks.md).
let dataPathSettings: [SwiftSetting] =
    swiftSettings + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "Shadowgate",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "shadowgate", targets: ["shadowgate"]),
        .library(name: "ShadowSQL", targets: ["ShadowSQL"]),
        // For Benchmarks/ReplayLogAppend (append throughput), kept out of the main package.
        .library(name: "ReplayLog", targets: ["ReplayLog"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // Pure SQL engine: lexers, hints, classification, table references, rewriting. No NIO, no Foundation.
        // On the data path (every statement is scanned, and rewritten in a lane): no dynamic exclusivity checks in
        // release builds either.
        .target(name: "ShadowSQL", swiftSettings: dataPathSettings),
        // Lanes, listeners, backends and policies: YAML → validated model → immutable routing table.
        .target(
            name: "ShadowConfig",
            dependencies: ["ShadowSQL", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // MySQL/MariaDB wire protocol: framing, messages and the session state machine. NIOCore only.
        .target(
            name: "MySQLWire",
            dependencies: ["ShadowSQL", "ShadowConfig", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: dataPathSettings
        ),
        // PostgreSQL wire protocol: message codecs and the session state machine. NIOCore only.
        .target(
            name: "PostgresWire",
            dependencies: ["ShadowSQL", "ShadowConfig", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: dataPathSettings
        ),
        // System C client libraries, for control-plane clients only (diff, applier, tests).
        .systemLibrary(name: "CMariaDB", pkgConfig: "libmariadb", providers: [.apt(["libmariadb-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .target(name: "DatabaseClients", dependencies: ["CMariaDB", "CLibPQ"], swiftSettings: swiftSettings),
        // Durable replay log for dual-write: segments, CRC32C records, group commit, reader, checkpoint, applier.
        .target(
            name: "ReplayLog",
            dependencies: [
                "DatabaseClients",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Data tools: shadow DDL generation and the chunked, bisecting diff with report and repair.
        .target(
            name: "ShadowDiff",
            dependencies: ["ShadowSQL", "ShadowConfig", "DatabaseClients"],
            swiftSettings: swiftSettings
        ),
        // SwiftNIO glue: listeners, relay handlers, backend connections, TLS.
        .target(
            name: "ShadowProxy",
            dependencies: [
                "ShadowSQL", "ShadowConfig", "MySQLWire", "PostgresWire",
                "ReplayLog",  // dual-write: capture, writer and applier service
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: dataPathSettings
        ),
        // The command line as a library, so commands can be tested in-process.
        .target(
            name: "ShadowgateCLI",
            dependencies: [
                "ShadowSQL", "ShadowConfig", "ShadowProxy", "DatabaseClients", "ShadowDiff", "ReplayLog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "shadowgate", dependencies: ["ShadowgateCLI"], swiftSettings: swiftSettings),

        // Helpers shared by test targets (subprocesses); never linked into the product.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "ShadowSQLTests", dependencies: ["ShadowSQL"], swiftSettings: swiftSettings),
        .testTarget(name: "ShadowConfigTests", dependencies: ["ShadowConfig"], swiftSettings: swiftSettings),
        .testTarget(
            name: "MySQLWireTests",
            dependencies: ["MySQLWire", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PostgresWireTests",
            dependencies: ["PostgresWire", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        // Real servers (MariaDB, PostgreSQL) started by scripts/servers.sh; real clients; the proxy in-process.
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "ShadowSQL", "ShadowConfig", "ShadowProxy", "DatabaseClients", "ShadowDiff", "ShadowgateCLI", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                // Metrics tests read the proxy's counters from a Prometheus registry (Support/TestMetrics.swift).
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ShadowProxyTests",
            dependencies: [
                "ShadowProxy", "ShadowConfig", "ShadowSQL",
                "ReplayLog",  // dual-write capture tests
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ReplayLogTests", dependencies: ["ReplayLog"], swiftSettings: swiftSettings),
        .testTarget(name: "ShadowDiffTests", dependencies: ["ShadowDiff"], swiftSettings: swiftSettings),
        .testTarget(name: "ShadowgateCLITests", dependencies: ["ShadowgateCLI", "TestSupport"], swiftSettings: swiftSettings),
    ],
    swiftLanguageModes: [.v5]
)
