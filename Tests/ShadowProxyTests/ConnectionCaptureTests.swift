import Foundation
import Logging
import PostgresWire
import ReplayLog
import ShadowConfig
import ShadowProxy
import Testing

@Suite struct ConnectionCaptureTests {
    typealias Statement = PostgresStatementCapture.Statement
    static let idle = UInt8(ascii: "I")
    static let inTransaction = UInt8(ascii: "T")

    /// A service with one base stream on listener `pg` (or a MySQL one); its writers live in a temporary folder.
    static func service(
        _ wireProtocol: WireProtocol = .postgres, columns: [String: [String: String]] = [:]
    ) throws -> (DualWriteService, String) {
        let folder = NSTemporaryDirectory() + "capture-" + UUID().uuidString
        let configuration = ShadowgateConfiguration(
            listeners: [ListenerConfiguration(name: "pg", wireProtocol: wireProtocol, listen: Endpoint(host: "127.0.0.1", port: 1), backend: Endpoint(host: "127.0.0.1", port: 2))],
            replayLog: ReplayLogConfiguration(directory: folder),
            dualWrites: [
                DualWriteConfiguration(
                    lane: "base", listener: "pg", mirror: MirrorConfiguration(backend: Endpoint(host: "127.0.0.1", port: 3), database: "m", user: "u"),
                    tables: ["orders": "orders_v2"], columns: columns)
            ])
        return (try DualWriteService(configuration: configuration, logger: Logger(label: "test")), folder)
    }

    static func statement(_ sql: String, lane: String = "base", tags: [String], failed: Bool = false, parameters: [PostgresStatementCapture.Parameter]? = nil) -> Statement {
        var statement = Statement(sql: sql, lane: lane, parameters: parameters)
        statement.tags = tags
        statement.failed = failed
        statement.finished = true
        return statement
    }

    func run(_ body: (inout ConnectionCapture) throws -> Void) throws {
        let (service, folder) = try Self.service()
        defer {
            service.close()
            try? FileManager.default.removeItem(atPath: folder)
        }
        var capture = try #require(ConnectionCapture(service: service, listener: "pg", dialect: .postgres))
        try body(&capture)
    }

    @Test("a write is renamed for the mirror and becomes one record")
    func renamed() throws {
        try run { capture in
            let batch = PostgresStatementCapture.Batch(
                statements: [Self.statement("INSERT INTO orders VALUES (1)", tags: ["INSERT 0 1"])], statusBefore: Self.idle,
                status: Self.idle, errorSeen: false)
            let records = capture.batchFinished(batch, nowMicros: 1)
            #expect(records.map(\.record.statements.first?.sql) == ["INSERT INTO orders_v2 VALUES (1)"])
        }
    }

    @Test("an implicit transaction that failed (several statements, or an Execute pipeline) mirrors nothing")
    func implicitTransactionFailed() throws {
        try run { capture in
            let batch = PostgresStatementCapture.Batch(
                statements: [
                    Self.statement("INSERT INTO orders VALUES ($1)", tags: ["INSERT 0 1"], parameters: [.text("1")]),
                    Self.statement("INSERT INTO orders VALUES ($1)", tags: [], failed: true, parameters: [.text("1")]),
                ], statusBefore: Self.idle, status: Self.idle, errorSeen: true)
            #expect(capture.batchFinished(batch, nowMicros: 1).isEmpty)
        }
    }

    @Test("BEGIN; INSERT; COMMIT in one Query is one explicit transaction record")
    func controlInsideQuery() throws {
        try run { capture in
            let batch = PostgresStatementCapture.Batch(
                statements: [Self.statement("BEGIN; INSERT INTO orders VALUES (1); COMMIT", tags: ["BEGIN", "INSERT 0 1", "COMMIT"])],
                statusBefore: Self.idle, status: Self.idle, errorSeen: false)
            let records = capture.batchFinished(batch, nowMicros: 1)
            #expect(records.count == 1)
            #expect(records.first?.record.flags.contains(.explicitTransaction) == true)
        }
    }

    @Test("a COMMIT answered with ROLLBACK (aborted transaction) discards the transaction")
    func commitAnsweredRollback() throws {
        try run { capture in
            _ = capture.batchFinished(.init(statements: [Self.statement("BEGIN", tags: ["BEGIN"])], statusBefore: Self.idle, status: Self.inTransaction, errorSeen: false), nowMicros: 1)
            _ = capture.batchFinished(.init(statements: [Self.statement("INSERT INTO orders VALUES (1)", tags: ["INSERT 0 1"])], statusBefore: Self.inTransaction, status: Self.inTransaction, errorSeen: false), nowMicros: 1)
            let commit = capture.batchFinished(.init(statements: [Self.statement("COMMIT", tags: ["ROLLBACK"])], statusBefore: UInt8(ascii: "E"), status: Self.idle, errorSeen: false), nowMicros: 1)
            #expect(commit.isEmpty)
        }
    }

    @Test("a lane's statements are not mirrored by the base stream")
    func otherLane() throws {
        try run { capture in
            let batch = PostgresStatementCapture.Batch(
                statements: [Self.statement("INSERT INTO orders_gray VALUES (1)", lane: "gray", tags: ["INSERT 0 1"])],
                statusBefore: Self.idle, status: Self.idle, errorSeen: false)
            #expect(capture.batchFinished(batch, nowMicros: 1).isEmpty)
        }
    }

    @Test("an undecodable write stops the stream's mirroring and writes the resync marker")
    func uncapturable() throws {
        let (service, folder) = try Self.service()
        defer {
            service.close()
            try? FileManager.default.removeItem(atPath: folder)
        }
        var capture = try #require(ConnectionCapture(service: service, listener: "pg", dialect: .postgres))
        var outcome = ConnectionCapture.Outcome(sql: "", lane: "base", succeeded: true, inTransaction: false)
        outcome.capturable = false
        #expect(capture.statementFinished(outcome, nowMicros: 1).isEmpty)
        let stream = try #require(service.streams.first)
        #expect(stream.status.mirroringStopped != nil)
        #expect(FileManager.default.fileExists(atPath: stream.directory + "/" + ReplayLogWriter.resyncMarkerName))
    }

    @Test("a column map renames columns before tables; a statement whose columns cannot be attributed stops the stream")
    func columnMap() throws {
        let (service, folder) = try Self.service(.mysql, columns: ["orders": ["qty": "quantity"]])
        defer {
            service.close()
            try? FileManager.default.removeItem(atPath: folder)
        }
        var capture = try #require(ConnectionCapture(service: service, listener: "pg", dialect: .mysql))
        let update = ConnectionCapture.Outcome(sql: "UPDATE orders SET qty = orders.qty + 1", lane: "base", succeeded: true, inTransaction: false)
        #expect(capture.statementFinished(update, nowMicros: 1).map(\.record.statements.first?.sql)
            == ["UPDATE orders_v2 SET quantity = orders_v2.quantity + 1"])
        let stream = try #require(service.streams.first)
        #expect(stream.status.mirroringStopped == nil)
        // A failed statement changed nothing: no reason to stop.
        let failed = ConnectionCapture.Outcome(sql: "INSERT INTO orders VALUES (1)", lane: "base", succeeded: false, inTransaction: false)
        _ = capture.statementFinished(failed, nowMicros: 2)
        #expect(stream.status.mirroringStopped == nil)
        let positional = ConnectionCapture.Outcome(sql: "INSERT INTO orders VALUES (1)", lane: "base", succeeded: true, inTransaction: false)
        _ = capture.statementFinished(positional, nowMicros: 3)
        #expect(stream.status.mirroringStopped?.contains("INSERT without a column list into 'orders'") == true)
        #expect(FileManager.default.fileExists(atPath: stream.directory + "/" + ReplayLogWriter.resyncMarkerName))
    }

    @Test("the connection reports the lanes it mirrors, so the session can refuse uncapturable writes there")
    func mirroredLanes() throws {
        try run { capture in #expect(capture.mirroredLanes == ["base"]) }
    }

    @Test("a MySQL multi-statement text is replayed statement by statement; BEGIN…COMMIT inside it is one record")
    func mysqlMultiStatements() throws {
        let (service, folder) = try Self.service(.mysql)
        defer {
            service.close()
            try? FileManager.default.removeItem(atPath: folder)
        }
        var capture = try #require(ConnectionCapture(service: service, listener: "pg", dialect: .mysql))
        let autocommit = capture.statementFinished(
            .init(sql: "INSERT INTO orders VALUES (1); UPDATE orders SET x = 2", lane: "base", succeeded: true, inTransaction: false, insertID: 9),
            nowMicros: 1)
        #expect(autocommit.map { $0.record.statements.map(\.sql) } == [["INSERT INTO orders_v2 VALUES (1)"], [" UPDATE orders_v2 SET x = 2"]])
        #expect(autocommit.last?.record.statements.first?.context.insertID == 9)
        let transaction = capture.statementFinished(
            .init(sql: "BEGIN; INSERT INTO orders VALUES (3); COMMIT", lane: "base", succeeded: true, inTransaction: false), nowMicros: 1)
        #expect(transaction.count == 1 && transaction.first?.record.flags.contains(.explicitTransaction) == true)
        // A procedure definition is one statement whatever its body holds.
        #expect(ConnectionCapture.multiStatementParts("CREATE PROCEDURE p() BEGIN INSERT INTO t VALUES (1); END") == nil)
        // A failed multi-statement write: what ran is unknown, so the stream stops.
        _ = capture.statementFinished(
            .init(sql: "INSERT INTO orders VALUES (4); INSERT INTO orders VALUES (4)", lane: "base", succeeded: false, inTransaction: nil),
            nowMicros: 1)
        #expect(service.streams.first?.status.mirroringStopped != nil)
    }
}
