import ShadowConfig
import ShadowSQL
import Testing

@Suite struct ConfigurationLoadingTests {
    @Test("the demo configuration loads with both listeners and both lanes")
    func loadsDemo() throws {
        let configuration = try ShadowgateConfiguration.load(path: repositoryRoot + "/fixtures/configs/demo.yaml")
        #expect(configuration.listeners.map(\.name) == ["demo-mysql", "demo-pg"])
        #expect(configuration.listeners[0].listen == Endpoint(host: "127.0.0.1", port: 13307))
        #expect(configuration.listeners[1].backend == Endpoint(host: "127.0.0.1", port: 15432))
        #expect(configuration.listeners[1].wireProtocol == .postgres)
        let gray = try #require(configuration.lanes.first { $0.name == "gray" })
        #expect(gray.mapping.tables == ["mse_demo_table": "mse_demo_table_gray"])
        #expect(gray.mapping.tableSuffix == nil)
        #expect(gray.users == ["gray_app"])
        #expect(configuration.admin?.listen == Endpoint(host: "127.0.0.1", port: 19901))
        #expect(gray.mapping.unmappedWrites == .reject)
        #expect(configuration.lanes.map(\.name) == ["gray", "stress"])
        #expect(configuration.lanes[1].mapping.tableSuffix == "_shadow")
    }

    @Test("defaults apply when keys are absent: label, policies, timeouts and message size")
    func defaults() throws {
        let configuration = try ShadowgateConfiguration.load(yaml: oneMySQLListener + "lanes:\n  gray: { tables: { suffix: _g } }\n")
        #expect(configuration.label == LabelConfiguration(key: "lane", postgresSetting: "shadow.lane", mysqlSessionVariable: "lane", baseLane: "base"))
        let listener = configuration.listeners[0]
        #expect(listener.maxMessageSize == 64 << 20)
        #expect(listener.handshakeTimeout == .seconds(10))
        #expect(listener.connectTimeout == .seconds(5))
        #expect(listener.caseSensitiveNames)
        #expect(listener.tls == nil && !listener.backendTLS)
        #expect(configuration.lanes[0].mapping.unmappedReads == .pass)
        #expect(configuration.lanes[0].mapping.unmappedWrites == .reject)
        #expect(configuration.admin == nil && configuration.replayLog == nil)
    }

    @Test("a custom label key moves the PostgreSQL setting and MySQL variable defaults with it")
    func labelDefaultsFollowKey() throws {
        let configuration = try ShadowgateConfiguration.load(yaml: "label: { key: color, base_lane: prod }\n" + oneMySQLListener)
        #expect(configuration.label.postgresSetting == "shadow.color")
        #expect(configuration.label.mysqlSessionVariable == "color")
        #expect(configuration.label.baseLane == "prod")
    }

    @Test("every lane key is read into the lane's mapping and membership")
    func fullLane() throws {
        let yaml = oneMySQLListener + """
            lanes:
              gray:
                tables: { suffix: _gray, map: { mse_demo.orders: mse_demo.orders_g } }
                databases: { mse_demo: mse_demo_gray }
                default_database: shadow_db
                backends: { orders-mysql: 127.0.0.1:3316 }
                users: [ gray_app, gray_batch ]
                application_names: [ gray- ]
                unmapped_writes: pass
                unmapped_reads: reject
                routines: [ audit_log ]
                shared_tables: [ countries ]
            admin: { listen: 127.0.0.1:9901 }
            replay_log: { dir: ./var/replay, durability: async }
            """
        let configuration = try ShadowgateConfiguration.load(yaml: yaml)
        let lane = configuration.lanes[0]
        #expect(lane.mapping.tables == ["mse_demo.orders": "mse_demo.orders_g"])
        #expect(lane.mapping.databases == ["mse_demo": "mse_demo_gray"])
        #expect(lane.mapping.defaultDatabase == "shadow_db")
        #expect(lane.backends == ["orders-mysql": Endpoint(host: "127.0.0.1", port: 3316)])
        #expect(lane.users == ["gray_app", "gray_batch"])
        #expect(lane.applicationNamePrefixes == ["gray-"])
        #expect(lane.mapping.unmappedWrites == .pass && lane.mapping.unmappedReads == .reject)
        #expect(lane.mapping.allowedRoutines == ["audit_log"])
        #expect(lane.mapping.sharedTables == ["countries"])
        #expect(configuration.admin?.listen == Endpoint(host: "127.0.0.1", port: 9901))
        #expect(configuration.replayLog == ReplayLogConfiguration(directory: "./var/replay", durability: .async))
    }

    @Test("durations and sizes take units", arguments: [
        ("500ms", "1KiB", 0.5, 1024), ("10s", "64MiB", 10, 64 << 20), ("2m", "1GiB", 120, 1 << 30), ("1.5s", "4096", 1.5, 4096),
    ])
    func unitValues(_ duration: String, _ size: String, _ seconds: Double, _ bytes: Int) throws {
        let yaml = oneMySQLListener + "    handshake_timeout: \(duration)\n    max_message_size: \(size)\n"
        let listener = try ShadowgateConfiguration.load(yaml: yaml).listeners[0]
        #expect(listener.handshakeTimeoutSeconds == seconds)
        #expect(listener.maxMessageSize == bytes)
    }

    @Test("lower_case_table_names 1 makes a MySQL listener's mappings compare names case-insensitively")
    func caseRules() throws {
        let yaml = oneMySQLListener + "    lower_case_table_names: 1\nlanes:\n  gray: { tables: { suffix: _g } }\n"
        let configuration = try ShadowgateConfiguration.load(yaml: yaml)
        let routing = RoutingTable(configuration: configuration)
        let lane = try #require(routing.lane(named: "gray"))
        #expect(!routing.mapping(for: lane, listener: configuration.listeners[0]).caseSensitiveNames)
        #expect(!routing.mapping(for: lane, dialect: .mysql).caseSensitiveNames)
        #expect(routing.mapping(for: lane, dialect: .postgres).caseSensitiveNames)
    }

    @Test("case_sensitive_names is the direct spelling of the same rule")
    func caseSensitiveKey() throws {
        let configuration = try ShadowgateConfiguration.load(yaml: oneMySQLListener + "    case_sensitive_names: false\n")
        #expect(!configuration.listeners[0].caseSensitiveNames)
    }

    @Test("a TLS file that exists relative to the configuration's folder is accepted")
    func tlsRelativeToFolder() throws {
        let yaml = oneMySQLListener + "    tls: { cert: demo.yaml, key: demo.yaml }\n"
        let configuration = try ShadowgateConfiguration.load(yaml: yaml, baseDirectory: repositoryRoot + "/fixtures/configs")
        #expect(configuration.listeners[0].tls == TLSFiles(certificatePath: "demo.yaml", privateKeyPath: "demo.yaml"))
    }

    @Test("the routing table finds lanes by name, user and application_name prefix")
    func routingLookups() throws {
        let yaml = oneMySQLListener + "lanes:\n  gray: { tables: { suffix: _g }, users: [u1], application_names: [svc-gray] }\n"
        let routing = RoutingTable(configuration: try ShadowgateConfiguration.load(yaml: yaml))
        #expect(routing.lane(forUser: "u1")?.name == "gray")
        #expect(routing.lane(forApplicationName: "svc-gray-7")?.name == "gray")
        #expect(routing.lane(forApplicationName: "svc") == nil)
        #expect(routing.isBase("base"))
    }
}
