import ShadowConfig
import Testing

@Suite struct EndpointTests {
    @Test("host:port parses into host and port")
    func parsesHostPort() {
        #expect(Endpoint(parsing: "127.0.0.1:3307") == Endpoint(host: "127.0.0.1", port: 3307))
    }

    @Test("bracketed IPv6 parses and prints back bracketed")
    func parsesIPv6() {
        let endpoint = Endpoint(parsing: "[::1]:5432")
        #expect(endpoint == Endpoint(host: "::1", port: 5432))
        #expect(endpoint?.description == "[::1]:5432")
    }

    @Test("missing or out-of-range ports are rejected", arguments: ["localhost", "h:", "h:70000", ":5432", "[::1]5432"])
    func rejectsBadEndpoints(_ text: String) {
        #expect(Endpoint(parsing: text) == nil)
    }
}
