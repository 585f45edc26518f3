// swift-tools-version:6.1
import PackageDescription

// The cost floor of a SwiftNIO relay: a TCP relay that moves bytes between a client and a server and looks at none
// of them, with the socket options Shadowgate's listeners use. scripts/bench/proxy_bench.py (--nio-floor) runs it
// beside Shadowgate, haproxy and pgbouncer, so a benchmark separates what Shadowgate's protocol work costs (against
// this relay) from what the event-loop library costs (this relay against the C proxies). Kept out of the main
// package and its test suite.
let package = Package(
    name: "RelayFloor",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2")
    ],
    targets: [
        .executableTarget(
            name: "relay-floor",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]
        )
    ],
    swiftLanguageModes: [.v5]
)
