// swift-tools-version:6.1
import PackageDescription

// Replay-log append benchmark (sync mode, group commit), kept out of the main package and its test suite.
// Run: Benchmarks/ReplayLogAppend/run.sh [DIR] (release build; medians over rounds, variants interleaved).
let package = Package(
    name: "ReplayLogAppend",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "Shadowgate", path: "../.."),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "replay-append-bench",
            dependencies: [
                .product(name: "ReplayLog", package: "Shadowgate"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: [.unsafeFlags(["-wmo"])]
        )
    ],
    swiftLanguageModes: [.v5]
)
