import Foundation
import Logging
import ShadowConfig
import ShadowProxy
import Testing

/// Hot reload with dual-write, through the reloader `serve` runs: lane changes apply, stream changes are refused and
/// the running configuration stays in force.
@Suite struct DualWriteReloadTests {
    /// Absolute, so the running file and the reloaded one (in another folder) name the same log directory.
    static let logDirectory = NSTemporaryDirectory() + "dw-reload-log"

    static func yaml(mirrorDatabase: String? = "orders_v2", extraLane: Bool = false) -> String {
        var text = """
            listeners:
              - { name: orders-mysql, protocol: mysql, listen: 127.0.0.1:3307, backend: 127.0.0.1:3306 }
            replay_log: { dir: \(logDirectory), durability: sync }
            lanes:
              gray: { tables: { suffix: _gray } }

            """
        if extraLane { text += "  stress: { tables: { suffix: _stress } }\n" }
        if let mirrorDatabase {
            text += """
                base_dual_write:
                  mirror: { backend: 127.0.0.1:3316, database: \(mirrorDatabase), credentials: { user: replay } }
                  tables: { orders: orders_v2 }

                """
        }
        return text
    }

    /// A reloader over a file in a fresh folder, as `serve` builds it, and the routing it swaps.
    static func reloader(_ running: ShadowgateConfiguration) throws -> (ConfigReloader, RoutingSource, String) {
        let folder = NSTemporaryDirectory() + "dw-reload-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/shadowgate.yaml"
        let routing = RoutingSource(RoutingTable(configuration: running))
        var logger = Logger(label: "dw-reload-test")
        logger.logLevel = .critical
        let reloader = ConfigReloader(
            path: path, routing: routing, logger: logger, load: { try ShadowgateConfiguration.load(path: $0, reloading: running) })
        return (reloader, routing, path)
    }

    @Test("a reload that leaves dual-write alone applies; one that changes, adds or removes a stream is refused and the old configuration stays")
    func reloadRules() throws {
        let running = try ShadowgateConfiguration.load(yaml: Self.yaml(), fileName: "shadowgate.yaml", baseDirectory: ".")
        let (reloader, routing, path) = try Self.reloader(running)
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }

        try Self.yaml(extraLane: true).write(toFile: path, atomically: true, encoding: .utf8)
        #expect(reloader.reload(reason: "test"))
        #expect(routing.current.configuration.lanes.map(\.name).sorted() == ["gray", "stress"])
        let generation = routing.generation

        for refused in [Self.yaml(mirrorDatabase: "orders_v3", extraLane: false), Self.yaml(mirrorDatabase: nil)] {
            try refused.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(!reloader.reload(reason: "test"))
            #expect(routing.generation == generation)
            #expect(routing.current.configuration.lanes.map(\.name).sorted() == ["gray", "stress"], "routing stays as it was")
            #expect(routing.current.configuration.dualWrites == running.dualWrites)
        }
    }

    @Test("the refusal names the stream, what would happen to it, and that a restart applies it")
    func refusalMessage() throws {
        let running = try ShadowgateConfiguration.load(yaml: Self.yaml(), fileName: "shadowgate.yaml", baseDirectory: ".")
        let changed = try ShadowgateConfiguration.load(yaml: Self.yaml(mirrorDatabase: "orders_v3"), fileName: "shadowgate.yaml", baseDirectory: ".")
        let removed = try ShadowgateConfiguration.load(yaml: Self.yaml(mirrorDatabase: nil), fileName: "shadowgate.yaml", baseDirectory: ".")
        #expect(changed.dualWriteReloadProblems(running: running).map(\.description) == [
            "error: base_dual_write: dual-write stream base@orders-mysql would change (mirror, maps or durability), but streams are set up when serve starts; the reload is refused"
        ])
        let problems = removed.dualWriteReloadProblems(running: running)
        #expect(problems.map(\.path) == ["base_dual_write"])
        #expect(problems.allSatisfy { $0.code == .reloadNotPossible && $0.fix?.contains("restart shadowgate serve") == true })
        #expect(running.dualWriteReloadProblems(running: running).isEmpty)
        // Adding a stream where none ran is refused too.
        #expect(running.dualWriteReloadProblems(running: removed).map(\.message).contains { $0.contains("would be added") })
    }
}
