import ShadowConfig
import ShadowSQL
import Testing

@testable import ShadowDiff

@Suite struct MirrorPairingTests {
    func stream(lane: String) -> DualWriteConfiguration {
        DualWriteConfiguration(
            lane: lane, listener: "base",
            mirror: MirrorConfiguration(backend: Endpoint(host: "127.0.0.1", port: 1), database: "shop_v2", user: "u"),
            tables: ["orders_gray": "orders_v2", "Items": "items_v2"],
            columns: ["orders_gray": ["note": "remark"], "items": ["qty": "quantity"]]
        )
    }

    @Test("a lane's stream pairs the lane's shadow table with its mirror name and the column map keyed by the shadow name")
    func laneStream() throws {
        let pairing = MirrorPairing(stream: stream(lane: "gray"), isBaseStream: false, caseSensitiveNames: false, dialect: .mysql)
        let naming = ShadowNaming(mapping: LaneMapping(lane: "gray", tableSuffix: "_gray"), hasOwnBackend: false)
        let pair = try pairing.pair(base: TableName(schema: "shop", name: "orders"), naming: naming)
        #expect(pair.base == TableName(schema: "shop", name: "orders_gray"))
        #expect(pair.shadow == TableName(schema: "shop_v2", name: "orders_v2"))
        #expect(pair.shadowColumn("NOTE") == "remark")
        #expect(pair.shadowColumn("qty") == "qty")
    }

    @Test("the base stream pairs base tables directly; MySQL names match regardless of case; PostgreSQL keeps the schema")
    func baseStream() throws {
        let naming = ShadowNaming(mapping: LaneMapping(lane: "base"), hasOwnBackend: false)
        let mysql = MirrorPairing(stream: stream(lane: "base"), isBaseStream: true, caseSensitiveNames: false, dialect: .mysql)
        let items = try mysql.pair(base: TableName(schema: "shop", name: "items"), naming: naming)
        #expect(items.shadow == TableName(schema: "shop_v2", name: "items_v2"))
        #expect(items.shadowColumn("qty") == "quantity")
        let postgres = MirrorPairing(stream: stream(lane: "base"), isBaseStream: true, caseSensitiveNames: true, dialect: .postgres)
        let unlisted = try postgres.pair(base: TableName(schema: "public", name: "items"), naming: naming)
        #expect(unlisted.shadow == TableName(schema: "public", name: "items"))
        #expect(unlisted.columns == ["qty": "quantity"])
        let all = try postgres.pairs(naming: naming, requested: [], baseSchema: "public", baseTables: ["a", "b"])
        #expect(all.map(\.base.name) == ["a", "b"])
    }
}
