import ShadowConfig
import ShadowSQL
import Testing

@testable import ShadowDiff

@Suite struct NamingTests {
    @Test("explicit map entries win over the suffix rule; the database map moves the table")
    func naming() {
        let mapping = LaneMapping(lane: "gray", tables: ["orders": "orders_shadow"], tableSuffix: "_gray", databases: ["shop": "shop_gray"])
        let naming = ShadowNaming(mapping: mapping, hasOwnBackend: false)
        #expect(naming.shadow(of: TableName(schema: "shop", name: "orders")) == TableName(schema: "shop_gray", name: "orders_shadow"))
        #expect(naming.shadow(of: TableName(schema: "shop", name: "items")) == TableName(schema: "shop_gray", name: "items_gray"))
    }

    @Test("all-table selection skips shadows and shared tables")
    func selection() throws {
        let mapping = LaneMapping(lane: "gray", tableSuffix: "_gray", sharedTables: ["countries"])
        let pairs = try TableSelection.pairs(
            naming: ShadowNaming(mapping: mapping, hasOwnBackend: false), requested: [], baseSchema: "db", laneName: "gray",
            baseTables: ["countries", "orders", "orders_gray"]
        )
        #expect(pairs == [TablePair(base: TableName(schema: "db", name: "orders"), shadow: TableName(schema: "db", name: "orders_gray"))])
    }

    @Test("a table the lane does not map is an error naming the lane")
    func unmapped() {
        let naming = ShadowNaming(mapping: LaneMapping(lane: "gray"), hasOwnBackend: false)
        #expect(throws: DataToolError.unmappedTable("db.t", lane: "gray")) {
            try TableSelection.pairs(naming: naming, requested: ["t"], baseSchema: "db", laneName: "gray", baseTables: [])
        }
    }

    @Test("a configuration without credentials is refused with what to add")
    func missingCredentials() throws {
        let configuration = try ShadowgateConfiguration.load(
            yaml: """
                listeners:
                  - { name: m, protocol: mysql, listen: 127.0.0.1:3307, backend: 127.0.0.1:3306 }
                lanes:
                  gray: { tables: { suffix: _gray } }
                """
        )
        #expect(throws: DataToolError.missingCredentials(listener: "m")) {
            try DataToolTarget.resolve(configuration: configuration, lane: "gray", listener: nil)
        }
    }

    @Test("credentials are read from the listener, the lane's override its own backend, and unknown lanes are named")
    func credentials() throws {
        let configuration = try ShadowgateConfiguration.load(
            yaml: """
                listeners:
                  - name: m
                    protocol: mysql
                    listen: 127.0.0.1:3307
                    backend: 127.0.0.1:3306
                    credentials: { user: u, password: p, database: shop }
                lanes:
                  gray:
                    backends: { m: 127.0.0.1:3316 }
                    credentials: { user: g, password: q, database: shop }
                """
        )
        let target = try DataToolTarget.resolve(configuration: configuration, lane: "gray", listener: nil)
        #expect(target.baseCredentials == DatabaseCredentials(user: "u", password: "p", database: "shop"))
        #expect(target.shadowCredentials.user == "g")
        #expect(target.shadowEndpoint == Endpoint(host: "127.0.0.1", port: 3316))
        #expect(!target.sameServer)
        #expect(throws: DataToolError.unknownLane("blue", known: ["gray"])) {
            try DataToolTarget.resolve(configuration: configuration, lane: "blue", listener: nil)
        }
    }

    @Test("password_env naming an unset variable is a configuration error at its line")
    func passwordEnvironment() {
        #expect(throws: ConfigErrors.self) {
            try ShadowgateConfiguration.load(
                yaml: """
                    listeners:
                      - name: m
                        protocol: mysql
                        listen: 127.0.0.1:3307
                        backend: 127.0.0.1:3306
                        credentials: { user: u, password_env: SHADOWGATE_SURELY_UNSET_VARIABLE, database: shop }
                    """
            )
        }
    }

    @Test("SHOW CREATE TABLE text is renamed and loses its foreign keys for another server")
    func replayableCreate() {
        let text = """
            CREATE TABLE `child` (
              `id` int(11) NOT NULL,
              `p` int(11) DEFAULT NULL,
              PRIMARY KEY (`id`),
              CONSTRAINT `fk` FOREIGN KEY (`p`) REFERENCES `parent` (`id`)
            ) ENGINE=InnoDB
            """
        let result = ShadowDDLPlanner.replayableCreate(text, as: "`db`.`child_gray`")
        #expect(result.hasPrefix("CREATE TABLE `db`.`child_gray` ("))
        #expect(!result.contains("FOREIGN KEY"))
        #expect(result.contains("PRIMARY KEY (`id`)\n)"))
    }
}
