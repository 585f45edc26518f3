// Fuzz target config: the configuration loader on arbitrary bytes (as YAML text). Loading must either succeed or
// throw a ConfigError; a loaded configuration must build a RoutingTable whose lanes rewrite a statement without
// trapping. Traps, hangs and runaway memory are findings.
import ShadowConfig
import ShadowSQL

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let configuration = try? ShadowgateConfiguration.load(yaml: text, fileName: "fuzz.yaml", baseDirectory: "/nonexistent")
    else { return 0 }
    let routing = RoutingTable(configuration: configuration)
    _ = routing.lane(forUser: "gray_app")
    for lane in configuration.lanes {
        _ = routing.lane(named: lane.name)
        for dialect in SQLDialect.allCases {
            var rewriter = SQLRewriter(dialect: dialect)
            _ = rewriter.rewrite("INSERT INTO mse_demo.mse_demo_table (id) SELECT id FROM t JOIN u USING (id)", lane: lane.mapping)
        }
    }
    return 0
}
