import Foundation
import Logging
import Prometheus
import ReplayLog
import ShadowConfig
import Testing

@testable import ShadowProxy

@Suite struct DualWriteAdminTests {
    @Test("/api/status and the status page show each stream's LSNs, lag and applier state")
    func statusShowsReplayLag() async throws {
        let (service, folder) = try ConnectionCaptureTests.service()
        defer {
            service.close()
            try? FileManager.default.removeItem(atPath: folder)
        }
        let stream = try #require(service.streams.first)
        for _ in 0..<2 {
            let outcome = await withCheckedContinuation { continuation in
                stream.append(
                    ReplayRecord(timestampMicros: 1, connectionID: 1, transactionID: 0, dialect: .postgres, target: stream.target,
                        statements: [ReplayStatement(sql: "INSERT INTO t VALUES (1)")])
                ) { continuation.resume(returning: $0) }
            }
            guard case .logged = outcome else { Issue.record("append failed: \(outcome)"); return }
        }
        let configuration = ShadowgateConfiguration(listeners: [], dualWrites: [stream.configuration])
        let router = AdminRouter(
            version: "test", routing: RoutingSource(RoutingTable(configuration: configuration)), connections: ConnectionRegistry(),
            statistics: LaneStatistics(), registry: PrometheusCollectorRegistry(), readiness: ReadinessProbe(), startedAt: 0,
            dualWrite: service)
        let json = router.respond(method: "GET", path: "/api/status", now: 10)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.body.utf8)) as? [String: Any])
        let streams = try #require(object["dualWrite"] as? [[String: Any]])
        #expect(streams.first?["target"] as? String == "base@pg")
        #expect(streams.first?["lastLSN"] as? Int == 2)
        #expect(streams.first?["lagRecords"] as? Int == 2)
        #expect(streams.first?["applierState"] as? String == "idle")
        let page = router.respond(method: "GET", path: "/", now: 10)
        #expect(page.body.contains("<h2>Dual-write</h2>") && page.body.contains("base@pg"))
    }
}
