import Foundation
import NIOPosix
import Prometheus
import ShadowConfig
import ShadowSQL
import Testing

@testable import ShadowProxy

@Suite struct AdminRouterTests {
    static func makeRouter() -> (AdminRouter, ConnectionRegistry, LaneStatistics, PrometheusCollectorRegistry) {
        let config = ShadowgateConfiguration(
            listeners: [
                ListenerConfiguration(
                    name: "orders-mysql", wireProtocol: .mysql, listen: Endpoint(host: "127.0.0.1", port: 3307),
                    backend: Endpoint(host: "127.0.0.1", port: 3306))
            ],
            lanes: [
                LaneConfiguration(
                    name: "gray",
                    mapping: LaneMapping(lane: "gray", tables: ["mse_demo_table": "mse_demo_table_gray"], tableSuffix: "_gray"))
            ])
        let connections = ConnectionRegistry()
        let statistics = LaneStatistics()
        let registry = PrometheusCollectorRegistry()
        let router = AdminRouter(
            version: "test", routing: RoutingSource(RoutingTable(configuration: config)), connections: connections,
            statistics: statistics, registry: registry, readiness: ReadinessProbe(), startedAt: 0)
        return (router, connections, statistics, registry)
    }

    @Test("healthz answers 200 ok")
    func healthz() {
        let (router, _, _, _) = Self.makeRouter()
        #expect(router.respond(method: "GET", path: "/healthz") == AdminResponse(status: 200, contentType: "text/plain; charset=utf-8", body: "ok\n"))
    }

    @Test("readyz is 503 until a probe has found every server reachable")
    func readyzBeforeProbe() {
        let (router, _, _, _) = Self.makeRouter()
        #expect(router.respond(method: "GET", path: "/readyz").status == 503)
    }

    @Test("readyz turns 503 when a server is unreachable and reports it by address")
    func readyzUnreachable() async {
        let (router, _, _, _) = Self.makeRouter()
        let group = MultiThreadedEventLoopGroup.singleton
        // Port 1 on loopback refuses connections.
        let config = ShadowgateConfiguration(listeners: [
            ListenerConfiguration(name: "x", wireProtocol: .postgres, listen: Endpoint(host: "127.0.0.1", port: 0),
                                  backend: Endpoint(host: "127.0.0.1", port: 1))
        ])
        await router.readiness.probe(RoutingTable(configuration: config), group: group)
        let response = router.respond(method: "GET", path: "/readyz")
        #expect(response.status == 503)
        #expect(response.body.contains("\"127.0.0.1:1\" : false"))
    }

    @Test("metrics renders the Prometheus registry in text format")
    func metrics() {
        let (router, _, _, registry) = Self.makeRouter()
        registry.makeCounter(name: "shadowgate_test_total", labels: [("lane", "gray")]).increment(by: Int64(3))
        let response = router.respond(method: "GET", path: "/metrics")
        #expect(response.status == 200)
        #expect(response.body.contains("shadowgate_test_total{lane=\"gray\"} 3"))
    }

    @Test("the status JSON lists lanes, listeners and live connections with their lanes")
    func statusJSON() throws {
        let (router, connections, statistics, _) = Self.makeRouter()
        let id = connections.register(listener: "orders-mysql", wireProtocol: "mysql", client: "127.0.0.1:5555", lane: "gray", now: 10)
        connections.update(id) { $0.user = "app" }
        statistics.recordRefusal(lane: "gray", message: "lane 'gray': INSERT into unmapped table 'orders' refused")
        let response = router.respond(method: "GET", path: "/api/status")
        let status = try JSONDecoder().decode(AdminStatus.self, from: Data(response.body.utf8))
        #expect(status.connections.map(\.lane) == ["gray"])
        #expect(status.connections.first?.user == "app")
        #expect(status.listeners.first?.connections == 1)
        #expect(status.lanes.first?.statistics.refusals == 1)
        #expect(status.lanes.first?.tables == ["mse_demo_table": "mse_demo_table_gray"])
    }

    @Test("the status page escapes HTML from statements and refreshes itself without scripts")
    func statusPageEscapes() {
        let (router, _, statistics, _) = Self.makeRouter()
        statistics.recordRefusal(lane: "gray", message: "<script>alert(1)</script>")
        let page = router.respond(method: "GET", path: "/").body
        #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!page.contains("<script"))
        #expect(page.contains("http-equiv=\"refresh\""))
    }

    @Test("unknown paths are 404 and writes are 405")
    func unknownPaths() {
        let (router, _, _, _) = Self.makeRouter()
        #expect(router.respond(method: "GET", path: "/nope").status == 404)
        #expect(router.respond(method: "POST", path: "/metrics").status == 405)
    }
}
