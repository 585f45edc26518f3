import NIOCore
import ShadowConfig
import ShadowSQL
import Testing

@testable import PostgresWire

/// Drives a session state machine the way a client and server would, one message at a time.
struct SessionDriver {
    var m: PostgresSessionStateMachine

    init(lane: String? = nil, database: String? = nil) {
        m = PostgresSessionStateMachineTests.machine()
        var parameters = [(name: "user", value: "u")]
        if let database { parameters.append(("database", database)) }
        if let lane { parameters.append(("options", "-c shadow.lane=\(lane)")) }
        _ = m.startupPacketReceived(.startup(StartupMessage(parameters: parameters)))
        _ = m.backendFrameReceived(PostgresSessionStateMachineTests.backend("R", [0, 0, 0, 0]))
        _ = m.backendFrameReceived(PostgresSessionStateMachineTests.backend("Z", [UInt8(ascii: "I")]))
    }

    /// Sends a client message; returns the refusal if the proxy refused it, nil if it went to the server.
    @discardableResult
    mutating func send(_ message: ByteBuffer) -> Refusal? {
        let action = m.frontendFrameReceived(PostgresSessionStateMachineTests.frame(message))
        switch action {
        case .forward:
            return nil
        case .send:
            if case .refused(let refusal) = m.lastStatement?.outcome { return refusal }
            return nil
        default:
            Issue.record("unexpected action \(action)")
            return nil
        }
    }

    mutating func server(_ id: Character, _ body: [UInt8] = []) {
        _ = m.backendFrameReceived(PostgresSessionStateMachineTests.backend(id, body))
    }

    mutating func complete(_ tag: String) { server("C", Array(tag.utf8) + [0]) }
    mutating func ready(_ status: Character = "I") { server("Z", [status.asciiValue!]) }
    mutating func error(_ state: String = "42000") {
        _ = m.backendFrameReceived(
            PostgresSessionStateMachineTests.frame(PostgresMessageEncoder.errorResponse(sqlState: state, message: "x")))
    }

    /// A simple Query answered by the server with `tags` (an ErrorResponse after them when `fails`), then
    /// ReadyForQuery `status`. Returns the proxy's refusal, if any (then the server answers with an error).
    @discardableResult
    mutating func query(_ sql: String, tags: [String] = [], status: Character = "I", fails: Bool = false) -> Refusal? {
        let refusal = send(PostgresMessageEncoder.query(sql: Array(sql.utf8)))
        if refusal != nil {
            error()
        } else {
            for tag in tags { complete(tag) }
            if fails { error() }
        }
        ready(status)
        return refusal
    }

    static func parse(_ name: String, _ sql: String) -> ByteBuffer {
        PostgresMessageEncoder.parse(statement: name, sql: Array(sql.utf8), parameterTypes: ByteBuffer(bytes: [0, 0]))
    }
    static func bind(_ portal: String, _ statement: String) -> ByteBuffer {
        PostgresMessageEncoder.bind(portal: portal, statement: statement)
    }
    static func execute(_ portal: String) -> ByteBuffer { PostgresMessageEncoder.execute(portal: portal) }
    static func close(_ kind: Character, _ name: String) -> ByteBuffer {
        PostgresMessageEncoder.describeOrClose(id: UInt8(ascii: "C"), kind: kind.asciiValue!, name: name)
    }
    static var sync: ByteBuffer {
        var b = ByteBuffer()
        b.writeInteger(UInt8(ascii: "S"))
        b.writeInteger(Int32(4))
        return b
    }

    /// Parse + Sync answered ParseComplete, ReadyForQuery.
    mutating func prepare(_ name: String, _ sql: String, status: Character = "I") -> Refusal? {
        let refusal = send(Self.parse(name, sql))
        send(Self.sync)
        if refusal != nil { error() } else { server("1") }
        ready(status)
        return refusal
    }
}

@Suite("PostgreSQL prepared statements and portals stay in their lane")
struct PostgresPreparedLaneTests {
    // MARK: SQL PREPARE / EXECUTE (C4, H2)

    @Test("SQL EXECUTE of a statement PREPAREd in the base lane is refused after the session switched to a lane")
    func sqlExecuteBasePreparedInLane() {
        var d = SessionDriver()
        #expect(d.query("PREPARE p1 AS INSERT INTO a VALUES (1)", tags: ["PREPARE"]) == nil)
        #expect(d.query("SET shadow.lane = gray", tags: ["SET"]) == nil)
        #expect(d.m.currentLane == "gray")
        let refusal = d.query("EXECUTE p1")
        #expect(refusal?.message.contains("prepared statement \"p1\" was prepared in lane base") == true)
        #expect(refusal?.message.contains("cannot run in lane gray") == true)
        // Also inside CREATE TABLE AS and EXPLAIN, and after other statements of a multi-statement query.
        #expect(d.query("CREATE TABLE x AS EXECUTE p1") != nil)
        #expect(d.query("EXPLAIN ANALYZE EXECUTE p1") != nil)
        #expect(d.query("SELECT 1; EXECUTE p1") != nil)
    }

    @Test("SQL EXECUTE of a statement PREPAREd in a lane is refused in the base lane (it would write shadow tables)")
    func sqlExecuteLanePreparedInBase() {
        var d = SessionDriver(lane: "gray")
        #expect(d.query("PREPARE p11 AS INSERT INTO a VALUES (1)", tags: ["PREPARE"]) == nil)
        #expect(d.query("EXECUTE p11", tags: ["INSERT 0 1"]) == nil)
        #expect(d.query("SET shadow.lane = base", tags: ["SET"]) == nil)
        let refusal = d.query("EXECUTE p11")
        #expect(refusal?.message.contains("base lane must not write that lane's shadow tables") == true)
    }

    @Test("SQL EXECUTE of a statement prepared under SET LOCAL is refused once the transaction ended")
    func sqlExecuteAfterSetLocal() {
        var d = SessionDriver(lane: "gray")
        d.query("BEGIN", tags: ["BEGIN"], status: "T")
        d.query("SET LOCAL shadow.lane = base", tags: ["SET"], status: "T")
        #expect(d.query("PREPARE p9 AS INSERT INTO a VALUES (1)", tags: ["PREPARE"], status: "T") == nil)
        d.query("COMMIT", tags: ["COMMIT"])
        #expect(d.m.currentLane == "gray")
        #expect(d.query("EXECUTE p9")?.message.contains("was prepared in lane base") == true)
    }

    @Test("a hinted SQL PREPARE does not carry its lane to an unhinted EXECUTE; a hinted EXECUTE in that lane runs")
    func hintedPrepare() {
        var d = SessionDriver(lane: "gray")
        #expect(d.query("/* lane=base */ PREPARE p10 AS INSERT INTO a VALUES (1)", tags: ["PREPARE"]) == nil)
        #expect(d.query("EXECUTE p10") != nil)
        #expect(d.query("/* lane=base */ EXECUTE p10", tags: ["INSERT 0 1"]) == nil)
    }

    @Test("PREPARE then EXECUTE in one query runs; DEALLOCATE forgets the name, which a lane then refuses as unknown")
    func prepareExecuteDeallocate() {
        var d = SessionDriver(lane: "gray")
        #expect(d.query("PREPARE q AS SELECT 1; EXECUTE q", tags: ["PREPARE", "SELECT 1"]) == nil)
        #expect(d.query("EXECUTE q", tags: ["SELECT 1"]) == nil)
        #expect(d.query("DEALLOCATE q", tags: ["DEALLOCATE"]) == nil)
        #expect(d.query("EXECUTE q")?.message.contains("is not known to Shadowgate") == true)
        // DEALLOCATE ALL and DISCARD ALL forget every statement.
        d.query("PREPARE r AS SELECT 1", tags: ["PREPARE"])
        d.query("DEALLOCATE ALL", tags: ["DEALLOCATE ALL"])
        #expect(d.query("EXECUTE r") != nil)
        d.query("PREPARE s AS SELECT 1", tags: ["PREPARE"])
        d.query("DISCARD ALL", tags: ["DISCARD ALL"])
        #expect(d.query("EXECUTE s") != nil)
    }

    @Test("a base statement re-prepared in the lane in the same query as its EXECUTE runs")
    func deallocateAndReprepareInOneQuery() {
        var d = SessionDriver()
        d.query("PREPARE p AS SELECT 1", tags: ["PREPARE"])
        d.query("SET shadow.lane = gray", tags: ["SET"])
        #expect(d.query("DEALLOCATE p; PREPARE p AS SELECT 2; EXECUTE p", tags: ["DEALLOCATE", "PREPARE", "SELECT 1"]) == nil)
        #expect(d.query("EXECUTE p", tags: ["SELECT 1"]) == nil)
    }

    @Test("EXECUTE of a name the proxy does not know is refused outside the base lane and forwarded in base")
    func unknownExecute() {
        var gray = SessionDriver(lane: "gray")
        #expect(gray.query("EXECUTE nobody")?.message.contains("prepare it in lane gray first") == true)
        var base = SessionDriver()
        #expect(base.query("EXECUTE nobody") == nil)
    }

    @Test("a PREPARE the server rejects is not recorded")
    func failedPrepare() {
        var d = SessionDriver()
        d.query("PREPARE p AS INSERT INTO a VALUES (1)", tags: ["PREPARE"])
        d.query("SET shadow.lane = gray", tags: ["SET"])
        // 42P05: p exists; the record of the base statement must stay.
        d.query("PREPARE p AS SELECT 1", fails: true)
        #expect(d.query("EXECUTE p") != nil)
    }

    // MARK: protocol Parse / Bind / Execute (C4, H2)

    @Test("a protocol Bind of an SQL-PREPAREd statement is checked against the lane it was prepared in")
    func bindOfSQLPrepared() {
        var d = SessionDriver()
        d.query("PREPARE p2 AS INSERT INTO a VALUES (1)", tags: ["PREPARE"])
        d.query("SET shadow.lane = gray", tags: ["SET"])
        #expect(d.send(SessionDriver.bind("", "p2"))?.message.contains("was prepared in lane base") == true)
    }

    @Test("a Parse the server rejects (duplicate name) does not overwrite the record of the existing statement")
    func rejectedParseKeepsRecord() {
        var d = SessionDriver()
        #expect(d.prepare("s3", "INSERT INTO a VALUES (1)") == nil)
        d.query("SET shadow.lane = gray", tags: ["SET"])
        #expect(d.send(SessionDriver.parse("s3", "SELECT 1")) == nil)
        d.send(SessionDriver.sync)
        d.error("42P05")
        d.ready()
        #expect(d.send(SessionDriver.bind("", "s3"))?.message.contains("was prepared in lane base") == true)
    }

    @Test("a Parse the proxy refuses keeps the record of the statement the server still has")
    func refusedParseKeepsRecord() {
        var d = SessionDriver()
        #expect(d.prepare("s4", "INSERT INTO a VALUES (1)") == nil)
        d.query("SET shadow.lane = gray", tags: ["SET"])
        #expect(d.prepare("s4", "DO $$BEGIN END$$") != nil)
        #expect(d.send(SessionDriver.bind("", "s4"))?.message.contains("was prepared in lane base") == true)
    }

    @Test("a statement prepared in a lane cannot be bound in the base lane")
    func bindLaneStatementInBase() {
        var d = SessionDriver(lane: "gray")
        #expect(d.prepare("g", "INSERT INTO a VALUES (1)") == nil)
        d.query("SET shadow.lane = base", tags: ["SET"])
        #expect(d.send(SessionDriver.bind("", "g"))?.message.contains("shadow tables") == true)
    }

    @Test("Parse, Bind, Execute in one pipeline run in the lane; Bind of an unknown statement is refused in a lane")
    func pipelineInLane() {
        var d = SessionDriver(lane: "gray")
        #expect(d.send(SessionDriver.parse("", "INSERT INTO a VALUES (1)")) == nil)
        #expect(d.send(SessionDriver.bind("", "")) == nil)
        #expect(d.send(SessionDriver.execute("")) == nil)
        d.send(SessionDriver.sync)
        d.server("1")
        d.server("2")
        d.complete("INSERT 0 1")
        d.ready()
        #expect(d.send(SessionDriver.bind("", "nope"))?.message.contains("is not known to Shadowgate") == true)
        var base = SessionDriver()
        #expect(base.send(SessionDriver.bind("", "nope")) == nil)
    }

    @Test("a Close and re-Parse in the same pipeline as the Bind lets a statement be prepared again after a switch")
    func reprepareInPipeline() {
        var d = SessionDriver()
        #expect(d.prepare("s", "SELECT 1") == nil)
        d.query("SET shadow.lane = gray", tags: ["SET"])
        d.send(SessionDriver.close("S", "s"))
        d.send(SessionDriver.parse("s", "SELECT 1"))
        #expect(d.send(SessionDriver.bind("", "s")) == nil)
        // With a Sync between, the Parse may have failed and left the base statement: refused.
        var e = SessionDriver()
        #expect(e.prepare("s", "SELECT 1") == nil)
        e.query("SET shadow.lane = gray", tags: ["SET"])
        e.send(SessionDriver.parse("s", "SELECT 1"))
        e.send(SessionDriver.sync)
        #expect(e.send(SessionDriver.bind("", "s")) != nil)
    }

    @Test("executing a named portal bound in another lane is refused, in both directions")
    func portalAcrossLanes() {
        var d = SessionDriver()
        d.query("BEGIN", tags: ["BEGIN"], status: "T")
        d.send(SessionDriver.parse("s7", "INSERT INTO a VALUES (1) RETURNING *"))
        d.send(SessionDriver.bind("pp", "s7"))
        d.send(SessionDriver.sync)
        d.server("1")
        d.server("2")
        d.ready("T")
        d.query("SET shadow.lane = gray", tags: ["SET"], status: "T")
        let refusal = d.send(SessionDriver.execute("pp"))
        #expect(refusal?.message.contains("portal \"pp\" was bound in lane base") == true)
        d.send(SessionDriver.sync)
        d.error("34000")
        d.ready("E")

        var g = SessionDriver(lane: "gray")
        g.query("BEGIN", tags: ["BEGIN"], status: "T")
        g.send(SessionDriver.parse("s", "INSERT INTO a VALUES (1)"))
        g.send(SessionDriver.bind("gp", "s"))
        g.send(SessionDriver.sync)
        g.server("1")
        g.server("2")
        g.ready("T")
        g.query("SET LOCAL shadow.lane = base", tags: ["SET"], status: "T")
        #expect(g.send(SessionDriver.execute("gp"))?.message.contains("shadow tables") == true)
    }

    @Test("portals are forgotten at transaction end and at Close: executing them later in a lane is refused")
    func portalsDie() {
        var d = SessionDriver(lane: "gray")
        d.query("BEGIN", tags: ["BEGIN"], status: "T")
        d.send(SessionDriver.parse("s", "SELECT 1"))
        d.send(SessionDriver.bind("p", "s"))
        d.send(SessionDriver.sync)
        d.server("1")
        d.server("2")
        d.ready("T")
        #expect(d.send(SessionDriver.execute("p")) == nil)
        d.send(SessionDriver.sync)
        d.complete("SELECT 1")
        d.ready("T")
        d.query("COMMIT", tags: ["COMMIT"])
        #expect(d.send(SessionDriver.execute("p"))?.message.contains("portal \"p\" is not known") == true)
        d.send(SessionDriver.sync)
        d.error()
        d.ready()

        d.query("BEGIN", tags: ["BEGIN"], status: "T")
        d.send(SessionDriver.bind("q", "s"))
        d.send(SessionDriver.close("P", "q"))
        d.send(SessionDriver.sync)
        d.server("2")
        d.server("3")
        d.ready("T")
        #expect(d.send(SessionDriver.execute("q")) != nil)
    }

    @Test("a batch of 20,000 Bind/Execute pairs before one Sync is checked without rescanning the pipeline")
    func largeBatch() {
        var d = SessionDriver(lane: "gray")
        #expect(d.send(SessionDriver.parse("ins", "INSERT INTO a VALUES ($1)")) == nil)
        let bind = SessionDriver.bind("", "ins")
        let execute = SessionDriver.execute("")
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for _ in 0..<20_000 {
                if d.send(bind) != nil || d.send(execute) != nil {
                    Issue.record("a batch step was refused")
                    return
                }
            }
        }
        d.send(SessionDriver.sync)
        #expect(elapsed < .seconds(20))
    }

    @Test("an extended-protocol SET of the lane still switches the lane when its Bind and Execute are pipelined")
    func extendedSetStillFollowed() {
        var d = SessionDriver()
        d.send(SessionDriver.parse("", "SET shadow.lane = gray"))
        d.send(SessionDriver.bind("", ""))
        d.send(SessionDriver.execute(""))
        d.send(SessionDriver.sync)
        d.server("1")
        d.server("2")
        d.complete("SET")
        d.ready()
        #expect(d.m.currentLane == "gray")
    }

    // MARK: savepoints (H3)

    @Test("ROLLBACK TO SAVEPOINT keeps a lane SET made before the savepoint and undoes one made after it")
    func rollbackToSavepoint() {
        var d = SessionDriver()
        d.query("BEGIN", tags: ["BEGIN"], status: "T")
        d.query("SET shadow.lane = gray", tags: ["SET"], status: "T")
        d.query("SAVEPOINT s", tags: ["SAVEPOINT"], status: "T")
        d.query("ROLLBACK TO SAVEPOINT s", tags: ["ROLLBACK"], status: "T")
        #expect(d.m.currentLane == "gray")
        d.query("SET shadow.lane = base", tags: ["SET"], status: "T")
        #expect(d.m.currentLane == "base")
        d.query("ROLLBACK TO s", tags: ["ROLLBACK"], status: "T")
        #expect(d.m.currentLane == "gray")
        d.query("COMMIT", tags: ["COMMIT"])
        #expect(d.m.currentLane == "gray")
    }

    @Test("RELEASE keeps a lane SET made after the savepoint; a later ROLLBACK TO an outer savepoint undoes it")
    func releaseAndOuterRollback() {
        var d = SessionDriver()
        d.query("BEGIN; SAVEPOINT a; SAVEPOINT b; SET LOCAL shadow.lane = gray; RELEASE b",
            tags: ["BEGIN", "SAVEPOINT", "SAVEPOINT", "SET", "RELEASE"], status: "T")
        #expect(d.m.currentLane == "gray")
        d.query("ROLLBACK TO a", tags: ["ROLLBACK"], status: "T")
        #expect(d.m.currentLane == "base")
        d.query("SET shadow.lane = gray", tags: ["SET"], status: "T")
        d.query("ROLLBACK", tags: ["ROLLBACK"])
        #expect(d.m.currentLane == "base")
    }

    @Test("ROLLBACK TO a savepoint the proxy cannot match after a lane SET refuses statements until the transaction ends")
    func unmatchedRollbackTo() {
        var d = SessionDriver()
        d.query("BEGIN", tags: ["BEGIN"], status: "T")
        d.query("SET shadow.lane = gray", tags: ["SET"], status: "T")
        d.query(#"ROLLBACK TO U&"s""#, tags: ["ROLLBACK"], status: "T")
        #expect(d.query("INSERT INTO a VALUES (1)", status: "E")?.message.contains("end the transaction") == true)
        #expect(d.query("ROLLBACK", tags: ["ROLLBACK"]) == nil)
        #expect(d.query("INSERT INTO a VALUES (1)", tags: ["INSERT 0 1"]) == nil)
        // Bind of a statement prepared before is refused too while the lane is unknown.
        #expect(d.prepare("s", "INSERT INTO a VALUES (1)") == nil)
        d.query("BEGIN; SET shadow.lane = gray; ROLLBACK TO U&\"x\"", tags: ["BEGIN", "SET", "ROLLBACK"], status: "T")
        #expect(d.send(SessionDriver.bind("", "s"))?.message.contains("unknown after ROLLBACK TO SAVEPOINT") == true)
    }

    // MARK: set_config (H3)

    @Test("set_config of the lane setting is refused in every lane; set_config of other settings is forwarded")
    func setConfig() {
        var base = SessionDriver()
        #expect(base.query("SELECT set_config('shadow.lane', 'gray', false)")?.message.contains("set_config") == true)
        #expect(base.query("select pg_catalog.SET_CONFIG('Shadow.Lane', 'gray', true)") != nil)
        #expect(base.query("SELECT set_config('search_path', 'x', false)", tags: ["SELECT 1"]) == nil)
        var gray = SessionDriver(lane: "gray")
        #expect(gray.query("SELECT set_config('shadow.lane', 'base', false)") != nil)
        #expect(gray.send(SessionDriver.parse("", "SELECT set_config('shadow.lane', $1, false)")) != nil)
    }

    // MARK: database-redirect lanes (C5)

    @Test("a switch or hint to a database-redirect lane on a connection not redirected at startup is refused")
    func databaseLaneNotRedirected() {
        var d = SessionDriver(database: "mse_demo")
        let hinted = d.query("/* lane=graydb */ INSERT INTO a VALUES (1)")
        #expect(hinted?.message.contains("lane graydb runs in database mse_demo_gray") == true)
        d.query("SET shadow.lane = graydb", tags: ["SET"])
        #expect(d.query("INSERT INTO a VALUES (1)") != nil)
        // A connection labelled graydb is redirected and runs; base statements on it would run in the shadow
        // database and are refused.
        var labelled = SessionDriver(lane: "graydb", database: "mse_demo")
        #expect(labelled.m.database == "mse_demo_gray")
        #expect(labelled.query("SELECT 1", tags: ["SELECT 1"]) == nil)
        #expect(labelled.query("/* lane=base */ INSERT INTO a VALUES (1)")?.message.contains("runs in database mse_demo") == true)
    }

    @Test("a session switched to a lane whose database or server it is not on can still switch back, and only that")
    func switchBackFromElsewhere() {
        var d = SessionDriver(database: "mse_demo")
        d.query("SET shadow.lane = graydb", tags: ["SET"])
        #expect(d.query("SELECT 1") != nil)
        #expect(d.query("RESET shadow.lane", tags: ["RESET"]) == nil)
        #expect(d.m.currentLane == "base")
        d.query("SET shadow.lane = stress", tags: ["SET"])
        #expect(d.query("SELECT 1")?.message.contains("lives on another server") == true)
        #expect(d.query("SET shadow.lane = gray", tags: ["SET"]) == nil)
        #expect(d.m.currentLane == "gray")
    }

    @Test("a StartupMessage carrying a parameter twice is rejected with FATAL")
    func duplicateStartupParameter() {
        var m = PostgresSessionStateMachineTests.machine()
        let action = m.startupPacketReceived(
            .startup(
                StartupMessage(parameters: [
                    ("user", "u"), ("database", "mse_demo"), ("options", "-c shadow.lane=graydb"),
                    ("database", "mse_demo"),
                ])))
        guard case .reject(let bytes) = action else {
            Issue.record("expected reject, got \(action)")
            return
        }
        let fields = try? PostgresErrorFields(frame: PostgresSessionStateMachineTests.frame(bytes))
        #expect(fields?["S"] == "FATAL")
        #expect(fields?["M"]?.contains("startup parameter \"database\" is given more than once") == true)
    }

    @Test("the lane setting given twice with different values is rejected; the same value twice is accepted")
    func duplicateLaneSetting() {
        func decide(_ parameters: [(String, String)]) -> Result<StartupRouting, Refusal> {
            StartupRouting.decide(
                startup: StartupMessage(parameters: parameters.map { (name: $0.0, value: $0.1) }),
                listener: StartupRoutingTests.listener, routing: StartupRoutingTests.routing())
        }
        guard case .failure(let refusal) = decide([("user", "u"), ("shadow.lane", "base"), ("options", "-c shadow.lane=gray")])
        else {
            Issue.record("expected a refusal")
            return
        }
        #expect(refusal.message.contains("\"shadow.lane\" is given more than once"))
        guard case .failure = decide([("user", "u"), ("options", "-c shadow.lane=gray -c shadow.lane=base")]) else {
            Issue.record("expected a refusal")
            return
        }
        #expect((try? decide([("user", "u"), ("shadow.lane", "gray"), ("options", "-c shadow.lane=gray")]).get().laneName) == "gray")
    }

    // MARK: scanner

    @Test("the scanner reads PREPARE, EXECUTE, DEALLOCATE, savepoints and transaction ends")
    func scanner() {
        let scan = PreparedStatementScanner.scan(
            #"PREPARE "P" (int) AS SELECT $1; execute "P"(1); DEALLOCATE PREPARE x; deallocate all; "#
                + "SAVEPOINT s; RELEASE SAVEPOINT s; ROLLBACK WORK TO SAVEPOINT S; ROLLBACK; PREPARE TRANSACTION 'g'; "
                + "CREATE TRIGGER t AFTER INSERT ON a EXECUTE FUNCTION f(); SELECT 'execute x'",
            lane: "gray")
        #expect(
            scan.items == [
                .operation(.prepare(name: "P", lane: "gray")), .execute("P"), .operation(.deallocate("x")),
                .operation(.deallocateAll), .operation(.savepoint("s")), .operation(.release("s")),
                .operation(.rollbackTo("s")), .operation(.endTransaction), .operation(.endTransaction),
            ])
        #expect(PreparedStatementScanner.scan("COMMIT; ROLLBACK", lane: "base").onlyEndsTransaction)
        #expect(!PreparedStatementScanner.scan("ROLLBACK TO s", lane: "base").onlyEndsTransaction)
        #expect(PreparedStatementScanner.scan("SELECT 1", lane: "base").items.isEmpty)
    }
}

@Suite("Session lane switch and savepoints")
struct SessionLaneSavepointTests {
    let setting = "shadow.lane"

    @Test("ROLLBACK TO restores the values at the savepoint and keeps it; RELEASE drops it and keeps the values")
    func stack() {
        var s = SessionLaneSetting()
        s.savepoint("a")
        s.apply(.setVariable(name: setting, value: "gray", scope: .session), setting: setting)
        s.savepoint("b")
        s.apply(.setVariable(name: setting, value: "x", scope: .local), setting: setting)
        s.rollback(toSavepoint: "b")
        #expect(s.effectiveLane == "gray")
        s.rollback(toSavepoint: "b")
        #expect(s.effectiveLane == "gray")
        s.release("b")
        s.rollback(toSavepoint: "a")
        #expect(s.effectiveLane == nil)
        #expect(!s.uncertain)
        s.commit()
        #expect(s.savepoints.isEmpty)
    }

    @Test("an unmatched ROLLBACK TO is uncertain only when the transaction set the lane")
    func uncertain() {
        var s = SessionLaneSetting()
        s.rollback(toSavepoint: "nope")
        #expect(!s.uncertain)
        s.apply(.setVariable(name: setting, value: "gray", scope: .session), setting: setting)
        s.rollback(toSavepoint: "nope")
        #expect(s.uncertain)
        s.rollback()
        #expect(!s.uncertain)
    }
}
