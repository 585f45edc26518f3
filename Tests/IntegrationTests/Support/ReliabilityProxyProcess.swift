import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The real `shadowgate serve` binary as a subprocess, so memory and descriptor figures are the proxy's alone
/// (the test process also holds clients and servers' helpers). Built by `swift build --build-tests`.
final class ReliabilityProxyProcess: @unchecked Sendable {
    struct Listener {
        var name: String
        var wireProtocol: String  // mysql | postgres
        var port: Int
        var backendPort: Int
        var maxMessageSize: Int? = nil
    }

    let child: ReliabilityChild
    let listeners: [Listener]
    let configPath: String

    var pid: Int32 { child.pid }

    static var binary: String { reliabilityPackageRoot.appendingPathComponent(".build/debug/shadowgate").path }

    /// Lanes: gray (suffix `_gray`, user gray_app) and stress (suffix `_stress`).
    static func start(listeners: [(name: String, wireProtocol: String, backendPort: Int, maxMessageSize: Int?)]) throws
        -> ReliabilityProxyProcess
    {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ReliabilityRawSocket.Failure(description: "\(binary) is missing: run `swift build --build-tests` first")
        }
        let resolved = listeners.map {
            Listener(name: $0.name, wireProtocol: $0.wireProtocol, port: reliabilityFreePort(), backendPort: $0.backendPort, maxMessageSize: $0.maxMessageSize)
        }
        var yaml = "label:\n  key: lane\nlisteners:\n"
        for listener in resolved {
            yaml += """
                  - name: \(listener.name)
                    protocol: \(listener.wireProtocol)
                    listen: 127.0.0.1:\(listener.port)
                    backend: 127.0.0.1:\(listener.backendPort)
                    connect_timeout: 2s

                """
            if let max = listener.maxMessageSize { yaml += "    max_message_size: \(max)\n" }
        }
        yaml += """
            lanes:
              gray:
                tables: { suffix: _gray }
                users: [gray_app]
              stress:
                tables: { suffix: _stress }

            """
        let directory = NSTemporaryDirectory() + "rel-proxy-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let configPath = directory + "/shadowgate.yaml"
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
        let child = try ReliabilityChild(
            binary, ["serve", "--config", configPath, "--log-level", "warning", "--drain-timeout", "1"],
            log: directory + "/proxy.log")
        let proxy = ReliabilityProxyProcess(child: child, listeners: resolved, configPath: configPath)
        let up = ReliabilityProcessStats.waitUntil(timeout: 20) {
            resolved.allSatisfy { reliabilityCanConnect(port: $0.port) } || !child.process.isRunning
        }
        guard up, child.process.isRunning else {
            child.stop()
            throw ReliabilityRawSocket.Failure(description: "shadowgate serve did not start: \(child.log.suffix(2000))")
        }
        return proxy
    }

    private init(child: ReliabilityChild, listeners: [Listener], configPath: String) {
        self.child = child
        self.listeners = listeners
        self.configPath = configPath
    }

    func port(_ name: String) -> Int { listeners.first { $0.name == name }?.port ?? 0 }

    var isRunning: Bool { child.process.isRunning }
    var residentBytes: Int { ReliabilityProcessStats.residentBytes(pid: pid) ?? 0 }
    var openDescriptors: Int { ReliabilityProcessStats.openDescriptors(pid: pid) ?? 0 }

    /// Waits until the proxy's descriptor count is at most `baseline + tolerance`; returns the last count.
    func settleDescriptors(baseline: Int, tolerance: Int = 2, timeout: Double = 5) -> Int {
        _ = ReliabilityProcessStats.waitUntil(timeout: timeout) { openDescriptors <= baseline + tolerance }
        return openDescriptors
    }

    func stop() {
        child.stop()
        try? FileManager.default.removeItem(atPath: (configPath as NSString).deletingLastPathComponent)
    }
}
