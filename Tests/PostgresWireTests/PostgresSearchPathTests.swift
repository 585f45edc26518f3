import NIOCore
import ShadowConfig
import ShadowSQL
import Testing

@testable import PostgresWire

/// A search_path that names pg_catalog after another schema lets a user function shadow a built-in of the same
/// name; the session follows search_path and a lane then stops trusting unqualified catalogue names.
@Suite struct PostgresSearchPathTests {
    typealias Helpers = PostgresSessionStateMachineTests

    static func run(_ m: inout PostgresSessionStateMachine, _ sql: String, tag: String) {
        _ = m.frontendFrameReceived(PostgresSessionOperationsTests.query(sql))
        _ = m.backendFrameReceived(Helpers.backend("C", Array(tag.utf8) + [0]))
        _ = m.backendFrameReceived(Helpers.backend("Z", [UInt8(ascii: "I")]))
    }

    static func refused(_ m: inout PostgresSessionStateMachine, _ sql: String) -> Refusal? {
        guard case .refused(let refusal) = PostgresLexingSettingsTests.outcome(&m, sql) else { return nil }
        return refusal
    }

    @Test("after SET search_path with pg_catalog behind another schema an unqualified built-in is refused in a lane; pg_catalog-qualified and RESET pass")
    func shadowingPathRefusesUnqualifiedBuiltins() throws {
        var m = Helpers.ready(lane: "gray")
        #expect(Self.refused(&m, "SELECT lower(a) FROM t") == nil)
        Self.run(&m, "SET search_path = public, pg_catalog", tag: "SET")
        let refusal = try #require(Self.refused(&m, "SELECT lower(a) FROM t"))
        #expect(refusal.rule == .routines && refusal.table == "lower")
        #expect(Self.refused(&m, "SELECT pg_catalog.lower(a) FROM t") == nil)
        #expect(Self.refused(&m, "SELECT count(*) FROM t WHERE a IN (1)") != nil, "count is a catalogue name too")
        Self.run(&m, "RESET search_path", tag: "RESET")
        #expect(Self.refused(&m, "SELECT lower(a) FROM t") == nil)
    }

    @Test("a path inside a transaction that rolls back does not stick; pg_catalog first or absent keeps the catalogue trusted")
    func transactionsAndHarmlessPaths() {
        var m = Helpers.ready(lane: "gray")
        Self.run(&m, "BEGIN", tag: "BEGIN")
        _ = m.frontendFrameReceived(PostgresSessionOperationsTests.query("SET search_path = app, pg_catalog"))
        _ = m.backendFrameReceived(Helpers.backend("C", Array("SET".utf8) + [0]))
        _ = m.backendFrameReceived(Helpers.backend("Z", [UInt8(ascii: "T")]))
        Self.run(&m, "ROLLBACK", tag: "ROLLBACK")
        #expect(Self.refused(&m, "SELECT lower(a) FROM t") == nil)
        for path in ["pg_catalog, public", "app, \"$user\"", "'app'"] {
            Self.run(&m, "SET search_path TO \(path)", tag: "SET")
            #expect(Self.refused(&m, "SELECT lower(a) FROM t") == nil, "\(path)")
        }
    }

    @Test("a startup search_path (parameter or options) that shadows the catalogue applies from the first statement")
    func startupPath() {
        var m = Helpers.machine()
        _ = m.startupPacketReceived(.startup(StartupMessage(parameters: [
            ("user", "u"), ("options", "-c shadow.lane=gray -c search_path=app,pg_catalog"),
        ])))
        _ = m.backendFrameReceived(Helpers.backend("R", [0, 0, 0, 0]))
        _ = m.backendFrameReceived(Helpers.backend("Z", [UInt8(ascii: "I")]))
        #expect(Self.refused(&m, "SELECT lower(a) FROM t")?.rule == .routines)
    }

    @Test("set_config of search_path makes the path unknown: unqualified built-ins are refused from then on")
    func setConfigMakesThePathUnknown() {
        var m = Helpers.ready(lane: "gray")
        Self.run(&m, "/* lane=base */ SELECT set_config('search_path', 'app, pg_catalog', false)", tag: "SELECT 1")
        #expect(Self.refused(&m, "SELECT lower(a) FROM t")?.rule == .routines)
        #expect(Self.refused(&m, "SELECT pg_catalog.lower(a) FROM t") == nil)
    }

    @Test("search_path values: pg_catalog is searched first unless another entry comes before it")
    func pathReading() {
        #expect(PostgresSessionStateMachine.searchesCatalogFirst("public"))
        #expect(PostgresSessionStateMachine.searchesCatalogFirst(" pg_catalog , public"))
        #expect(PostgresSessionStateMachine.searchesCatalogFirst("\"$user\", public"))
        #expect(!PostgresSessionStateMachine.searchesCatalogFirst("public, pg_catalog"))
        #expect(!PostgresSessionStateMachine.searchesCatalogFirst("app, PG_CATALOG"))
        #expect(!PostgresSessionStateMachine.searchesCatalogFirst("\"$user\", \"pg_catalog\""))
    }
}
