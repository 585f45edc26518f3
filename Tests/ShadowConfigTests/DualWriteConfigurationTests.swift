import ShadowConfig
import Testing

@Suite struct DualWriteConfigurationTests {
    static let twoListeners = """
        listeners:
          - { name: orders-mysql, protocol: mysql, listen: 127.0.0.1:3307, backend: 127.0.0.1:3306 }
          - { name: orders-pg, protocol: postgres, listen: 127.0.0.1:5433, backend: 127.0.0.1:5432 }

        """

    @Test("base_dual_write with every key is read into a stream for the base lane")
    func fullBaseStream() throws {
        let yaml = Self.twoListeners + """
            replay_log:
              dir: ./var/replay
              segment_size: 1MiB
              concurrent_syncs: 1
              max_copy_bytes: 1MiB
              retention: { max_bytes: 2GiB, max_age: 48h, hard_limit: 4GiB }
            base_dual_write:
              listener: orders-pg
              mirror:
                backend: 10.0.0.9:5432
                database: orders_v2
                credentials: { user: applier, password: secret }
              tables: { orders: orders_v2 }
              columns: { orders: { amount: amount_cents, note: remark } }
              durability: async
              flush_interval: 5ms
            """
        let configuration = try ShadowgateConfiguration.load(yaml: yaml)
        let stream = try #require(configuration.dualWrites.first)
        #expect(configuration.dualWrites.count == 1)
        #expect(stream.lane == "base" && stream.listener == "orders-pg")
        #expect(stream.mirror == MirrorConfiguration(backend: Endpoint(host: "10.0.0.9", port: 5432), database: "orders_v2", user: "applier", password: "secret"))
        #expect(stream.tables == ["orders": "orders_v2"])
        #expect(stream.columns == ["orders": ["amount": "amount_cents", "note": "remark"]])
        #expect(stream.durability == .async && stream.flushInterval == .milliseconds(5))
        let log = try #require(configuration.replayLog)
        #expect(log.segmentSize == 1 << 20)
        #expect(log.concurrentSyncs == 1)
        #expect(log.maxCopyBytes == 1 << 20)
        #expect(log.retention == ReplayLogConfiguration.Retention(maximumBytes: 2 << 30, maximumAgeSeconds: 48 * 3600, hardLimitBytes: 4 << 30))
        #expect(log.durability == .async, "no sync stream and no explicit durability: the log flushes in the background")
    }

    @Test("a lane's dual_write defaults to sync, the only listener, and a sync log")
    func laneStreamDefaults() throws {
        let yaml = oneMySQLListener + """
            replay_log: { dir: ./r }
            lanes:
              gray:
                tables: { suffix: _gray }
                dual_write:
                  mirror: { backend: 127.0.0.1:3310, database: mirror_db, credentials: { user: root } }
            """
        let configuration = try ShadowgateConfiguration.load(yaml: yaml)
        let stream = try #require(configuration.dualWrites.first)
        #expect(stream.lane == "gray" && stream.listener == "orders-mysql")
        #expect(stream.durability == .sync && stream.flushIntervalSeconds == 0.01)
        #expect(stream.mirror.password == "")
        #expect(configuration.replayLog?.durability == .sync)
    }

    @Test("dual-write without a replay log is refused with a fix")
    func needsReplayLog() {
        let errors = loadErrors(oneMySQLListener + "base_dual_write: { mirror: { backend: 127.0.0.1:1, database: d, credentials: { user: u } } }\n")
        #expect(errors.map(\.path) == ["replay_log"])
        #expect(errors.first?.fix?.contains("add replay_log") == true)
    }

    @Test("with several listeners the stream must name one, and an unknown name gets a suggestion")
    func listenerChoice() {
        let mirror = "mirror: { backend: 127.0.0.1:1, database: d, credentials: { user: u } }"
        let missing = loadErrors(Self.twoListeners + "replay_log: { dir: r }\nbase_dual_write: { \(mirror) }\n")
        #expect(missing.map(\.path) == ["base_dual_write.listener"])
        let typo = loadErrors(Self.twoListeners + "replay_log: { dir: r }\nbase_dual_write: { listener: orders-pgg, \(mirror) }\n")
        #expect(typo.map(\.code) == [.unknownListener])
        #expect(typo.first?.message.contains("did you mean 'orders-pg'") == true)
        #expect(typo.first?.location?.line == 5)
    }

    @Test("a sync stream on an explicitly async log is a conflict located at the stream's durability")
    func syncOnAsyncLog() {
        let yaml = oneMySQLListener + """
            replay_log: { dir: r, durability: async }
            base_dual_write:
              mirror: { backend: 127.0.0.1:1, database: d, credentials: { user: u } }
              durability: sync
            """
        let errors = loadErrors(yaml)
        #expect(errors.map(\.path) == ["base_dual_write.durability"])
        #expect(errors.map(\.code) == [.conflictingKeys])
    }

    @Test("missing mirror keys, a column map that is not a map, bad sizes, zero concurrent syncs and a hard limit below max_bytes are each reported")
    func invalidPieces() {
        let yaml = oneMySQLListener + """
            replay_log: { dir: r, segment_size: 1KiB, concurrent_syncs: 0, retention: { max_bytes: 2GiB, hard_limit: 1GiB } }
            base_dual_write:
              mirror: { backend: 127.0.0.1:1, credentials: { user: u, password: a, password_env: B } }
              columns: { orders: [amount] }
              flush_interval: fast
            """
        let paths = Set(loadErrors(yaml).map(\.path))
        #expect(paths == [
            "replay_log.segment_size", "replay_log.concurrent_syncs", "replay_log.retention.hard_limit", "base_dual_write.mirror.database",
            "base_dual_write.mirror.credentials.password_env", "base_dual_write.columns.orders", "base_dual_write.flush_interval",
        ])
    }

    @Test("a typo in a dual_write key is an unknown key with a suggestion")
    func unknownKey() {
        let errors = loadErrors(oneMySQLListener + "replay_log: { dir: r }\nbase_dual_write: { mirorr: {} }\n")
        #expect(errors.contains { $0.code == .unknownKey && $0.message.contains("mirror") })
    }
}
