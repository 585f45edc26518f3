// swift-tools-version:6.1
import PackageDescription

// Rewrite-engine micro-benchmark, kept out of the main package and its test suite.
// Run: scripts/bench/rewrite.sh (release build; prints medians, throughput and allocations per statement).
let package = Package(
    name: "RewriteBenchmark",
    dependencies: [.package(name: "Shadowgate", path: "../..")],
    targets: [
        .executableTarget(
            name: "rewrite-bench",
            dependencies: [.product(name: "ShadowSQL", package: "Shadowgate")],
            swiftSettings: [.unsafeFlags(["-wmo"])]
        )
    ]
)
