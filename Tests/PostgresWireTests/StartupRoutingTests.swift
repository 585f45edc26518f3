import NIOCore
import ShadowConfig
import ShadowSQL
import Testing

@testable import PostgresWire

@Suite("Startup options and connection routing")
struct StartupRoutingTests {
    static let listener = ListenerConfiguration(
        name: "orders-pg", wireProtocol: .postgres, listen: Endpoint(host: "127.0.0.1", port: 6432),
        backend: Endpoint(host: "127.0.0.1", port: 5432))

    static func routing(setting: String? = nil) -> RoutingTable {
        RoutingTable(
            configuration: ShadowgateConfiguration(
                label: LabelConfiguration(postgresSetting: setting),
                listeners: [listener],
                lanes: [
                    LaneConfiguration(
                        name: "gray", mapping: LaneMapping(lane: "gray", tableSuffix: "_gray"),
                        users: ["gray_app"], applicationNamePrefixes: ["gray-"]),
                    LaneConfiguration(
                        name: "graydb", mapping: LaneMapping(lane: "graydb", databases: ["mse_demo": "mse_demo_gray"])),
                    LaneConfiguration(
                        name: "stress", mapping: LaneMapping(lane: "stress"),
                        backends: ["orders-pg": Endpoint(host: "10.0.0.2", port: 5432)]),
                ]))
    }

    func decide(_ parameters: [(String, String)], setting: String? = nil) -> Result<StartupRouting, Refusal> {
        StartupRouting.decide(
            startup: StartupMessage(parameters: parameters.map { (name: $0.0, value: $0.1) }),
            listener: Self.listener, routing: Self.routing(setting: setting))
    }

    @Test("options accept -c name=value, -cname=value and --name=value with backslash escapes")
    func optionsForms() {
        #expect(StartupOptions(parsing: "-c shadow.lane=gray").value(of: "shadow.lane") == "gray")
        #expect(StartupOptions(parsing: "-cshadow.lane=gray").value(of: "shadow.lane") == "gray")
        #expect(StartupOptions(parsing: "--shadow.lane=gray").value(of: "shadow.lane") == "gray")
        #expect(StartupOptions(parsing: "--search-path=x").value(of: "search_path") == "x")
        let escaped = StartupOptions(parsing: #"-c application_name=a\ b -c shadow.lane=gr\\ay"#)
        #expect(escaped.value(of: "application_name") == "a b")
        #expect(escaped.value(of: "SHADOW.LANE") == #"gr\ay"#)
    }

    @Test("removing a setting keeps the other options re-escaped")
    func optionsRemoval() {
        let options = StartupOptions(parsing: #"-c lane=gray -c application_name=a\ b --work-mem=4MB"#)
        #expect(options.removing("lane") == #"-c application_name=a\ b --work-mem=4MB"#)
    }

    @Test("the lane comes from options, then a startup parameter, then application_name, then the user")
    func lanePrecedence() throws {
        #expect(try decide([("user", "u"), ("options", "-c shadow.lane=gray")]).get().laneName == "gray")
        #expect(try decide([("user", "u"), ("shadow.lane", "gray")]).get().laneName == "gray")
        #expect(try decide([("user", "u"), ("application_name", "gray-orders")]).get().laneName == "gray")
        #expect(try decide([("user", "gray_app")]).get().laneName == "gray")
        #expect(try decide([("user", "gray_app"), ("options", "-c shadow.lane=base")]).get().laneName == "base")
        #expect(try decide([("user", "u")]).get().laneName == "base")
    }

    @Test("an unknown lane is refused with the list of configured lanes")
    func unknownLane() {
        guard case .failure(let refusal) = decide([("user", "u"), ("options", "-c shadow.lane=purple")]) else {
            Issue.record("unknown lane accepted")
            return
        }
        #expect(refusal.message.contains("purple"))
        #expect(refusal.message.contains("base, gray, graydb, stress"))
    }

    @Test("a dotted lane setting is forwarded; a dotless one is stripped because the server would reject it")
    func stripping() throws {
        let dotted = try decide([("user", "u"), ("options", "-c shadow.lane=gray")]).get()
        #expect(dotted.startup.value(of: "options") == "-c shadow.lane=gray")
        let dotless = try decide([("user", "u"), ("options", "-c lane=gray -c x.y=1"), ("lane", "gray")], setting: "lane")
            .get()
        #expect(dotless.laneName == "gray")
        #expect(dotless.startup.value(of: "options") == "-c x.y=1")
        #expect(dotless.startup.value(of: "lane") == nil)
    }

    @Test("a lane's database map redirects the startup database, and a lane backend redirects the server")
    func redirects() throws {
        let db = try decide([("user", "u"), ("database", "mse_demo"), ("options", "-c shadow.lane=graydb")]).get()
        #expect(db.startup.value(of: "database") == "mse_demo_gray")
        #expect(db.backend == Self.listener.backend)
        let server = try decide([("user", "u"), ("options", "-c shadow.lane=stress")]).get()
        #expect(server.backend == Endpoint(host: "10.0.0.2", port: 5432))
    }

    @Test("protocol 3.x minors and _pq_ options are pinned to 3.0 and negotiated")
    func protocolNegotiation() throws {
        let routing = try StartupRouting.decide(
            startup: StartupMessage(protocolVersion: 0x0003_0002, parameters: [("user", "u"), ("_pq_.x", "1")]),
            listener: Self.listener, routing: Self.routing()
        ).get()
        #expect(routing.startup.protocolVersion == 0x0003_0000)
        #expect(routing.mustNegotiateProtocolVersion)
        #expect(routing.unsupportedProtocolOptions == ["_pq_.x"])
        #expect(routing.startup.value(of: "_pq_.x") == nil)
    }
}
