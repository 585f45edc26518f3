import ReplayLog
import ShadowProxy
import Testing

@Suite struct TransactionCaptureTests {
    typealias Machine = TransactionCaptureStateMachine

    static func write(_ sql: String, _ context: ReplayContext = ReplayContext()) -> ExecutedStatement {
        ExecutedStatement(sql: sql, context: context, kind: .write)
    }

    static func ok(_ statement: ExecutedStatement, inTransaction: Bool) -> Machine.Event {
        .statementExecuted(statement, succeeded: true, serverSaysInTransaction: inTransaction)
    }

    @Test("an autocommit write becomes one record after its OK, with its context and no transaction flag")
    func autocommit() throws {
        var machine = Machine(dialect: .mysql, target: "base", connectionID: 7)
        let context = ReplayContext(insertID: 42, timestampMicros: 1_700_000_000_000_000)
        let recordOutput = machine.handle(Self.ok(Self.write("INSERT INTO t VALUES (1)", context), inTransaction: false), nowMicros: 5)
        let record = try #require(recordOutput)
        #expect(record.statements == [ReplayStatement(sql: "INSERT INTO t VALUES (1)", context: context)])
        #expect(record.connectionID == 7 && record.transactionID == 0 && record.target == "base")
        #expect(record.flags == [] && record.timestampMicros == 5 && record.dialect == .mysql)
    }

    @Test("reads and session statements are not captured")
    func readsIgnored() {
        var machine = Machine(dialect: .postgres, target: "m", connectionID: 1)
        #expect(machine.handle(Self.ok(ExecutedStatement(sql: "SELECT 1", kind: .read), inTransaction: false), nowMicros: 0) == nil)
        #expect(machine.handle(Self.ok(ExecutedStatement(sql: "SET search_path = x", kind: .session), inTransaction: false), nowMicros: 0) == nil)
        #expect(machine.handle(Self.ok(ExecutedStatement(sql: "LOCK TABLE t", kind: .other), inTransaction: true), nowMicros: 0) == nil)
        #expect(machine.pendingStatementCount == 0)
    }

    @Test("a transaction's writes become one record when COMMIT succeeds, flagged explicit")
    func commit() throws {
        var machine = Machine(dialect: .postgres, target: "m", connectionID: 1)
        #expect(machine.handle(.began, nowMicros: 0) == nil)
        #expect(machine.handle(Self.ok(Self.write("INSERT INTO a VALUES (1)"), inTransaction: true), nowMicros: 0) == nil)
        #expect(machine.handle(Self.ok(ExecutedStatement(sql: "SELECT * FROM a", kind: .read), inTransaction: true), nowMicros: 0) == nil)
        #expect(machine.handle(Self.ok(Self.write("UPDATE a SET x = 2"), inTransaction: true), nowMicros: 0) == nil)
        let recordOutput = machine.handle(.committed, nowMicros: 9)
        let record = try #require(recordOutput)
        #expect(record.statements.map(\.sql) == ["INSERT INTO a VALUES (1)", "UPDATE a SET x = 2"])
        #expect(record.flags.contains(.explicitTransaction) && record.transactionID == 1)
        #expect(!machine.isInTransaction)
    }

    @Test("ROLLBACK discards the transaction's writes and an empty COMMIT yields nothing")
    func rollback() {
        var machine = Machine(dialect: .mysql, target: "m", connectionID: 1)
        _ = machine.handle(.began, nowMicros: 0)
        _ = machine.handle(Self.ok(Self.write("DELETE FROM a"), inTransaction: true), nowMicros: 0)
        #expect(machine.handle(.rolledBack, nowMicros: 0) == nil)
        _ = machine.handle(.began, nowMicros: 0)
        #expect(machine.handle(.committed, nowMicros: 0) == nil)
    }

    @Test("ROLLBACK TO SAVEPOINT discards only what it undoes; RELEASE keeps the writes")
    func savepoints() throws {
        var machine = Machine(dialect: .postgres, target: "m", connectionID: 1)
        _ = machine.handle(.began, nowMicros: 0)
        _ = machine.handle(Self.ok(Self.write("INSERT INTO a VALUES (1)"), inTransaction: true), nowMicros: 0)
        _ = machine.handle(.savepoint("s1"), nowMicros: 0)
        _ = machine.handle(Self.ok(Self.write("INSERT INTO a VALUES (2)"), inTransaction: true), nowMicros: 0)
        _ = machine.handle(.savepoint("s2"), nowMicros: 0)
        _ = machine.handle(Self.ok(Self.write("INSERT INTO a VALUES (3)"), inTransaction: true), nowMicros: 0)
        _ = machine.handle(.rolledBackToSavepoint("s1"), nowMicros: 0)
        _ = machine.handle(Self.ok(Self.write("INSERT INTO a VALUES (4)"), inTransaction: true), nowMicros: 0)
        _ = machine.handle(.savepoint("s3"), nowMicros: 0)
        _ = machine.handle(Self.ok(Self.write("INSERT INTO a VALUES (5)"), inTransaction: true), nowMicros: 0)
        _ = machine.handle(.releasedSavepoint("s3"), nowMicros: 0)
        // s2 was destroyed by rolling back to s1: rolling back to it does nothing (the server refused it).
        _ = machine.handle(.rolledBackToSavepoint("s2"), nowMicros: 0)
        let recordOutput = machine.handle(.committed, nowMicros: 0)
        let record = try #require(recordOutput)
        #expect(record.statements.map(\.sql) == ["INSERT INTO a VALUES (1)", "INSERT INTO a VALUES (4)", "INSERT INTO a VALUES (5)"])
    }

    @Test("rolling back to a savepoint also forgets a non-deterministic flag raised after it")
    func savepointFlags() throws {
        var machine = Machine(dialect: .mysql, target: "m", connectionID: 1)
        _ = machine.handle(.began, nowMicros: 0)
        _ = machine.handle(Self.ok(Self.write("INSERT INTO a VALUES (1)"), inTransaction: true), nowMicros: 0)
        _ = machine.handle(.savepoint("s"), nowMicros: 0)
        _ = machine.handle(Self.ok(Self.write("INSERT INTO a VALUES (RAND())"), inTransaction: true), nowMicros: 0)
        _ = machine.handle(.rolledBackToSavepoint("s"), nowMicros: 0)
        let recordOutput = machine.handle(.committed, nowMicros: 0)
        let record = try #require(recordOutput)
        #expect(!record.flags.contains(.nonDeterministic))
    }

    @Test("MySQL DDL inside a transaction implicitly commits the pending writes together with the DDL")
    func implicitCommitOnDDL() throws {
        var machine = Machine(dialect: .mysql, target: "m", connectionID: 1)
        _ = machine.handle(.began, nowMicros: 0)
        _ = machine.handle(Self.ok(Self.write("INSERT INTO a VALUES (1)"), inTransaction: true), nowMicros: 0)
        let ddl = ExecutedStatement(sql: "ALTER TABLE a ADD c INT", kind: .ddl)
        let recordOutput = machine.handle(Self.ok(ddl, inTransaction: false), nowMicros: 0)
        let record = try #require(recordOutput)
        #expect(record.statements.map(\.sql) == ["INSERT INTO a VALUES (1)", "ALTER TABLE a ADD c INT"])
        #expect(record.flags.contains(.explicitTransaction))
    }

    @Test("BEGIN while a MySQL transaction is open commits it; on PostgreSQL it stays open")
    func beginInsideTransaction() throws {
        var mysql = Machine(dialect: .mysql, target: "m", connectionID: 1)
        _ = mysql.handle(.began, nowMicros: 0)
        _ = mysql.handle(Self.ok(Self.write("INSERT INTO a VALUES (1)"), inTransaction: true), nowMicros: 0)
        let committed = mysql.handle(.began, nowMicros: 0)
        #expect(committed?.statements.count == 1)
        #expect(mysql.isInTransaction && mysql.pendingStatementCount == 0)

        var postgres = Machine(dialect: .postgres, target: "m", connectionID: 1)
        _ = postgres.handle(.began, nowMicros: 0)
        _ = postgres.handle(Self.ok(Self.write("INSERT INTO a VALUES (1)"), inTransaction: true), nowMicros: 0)
        #expect(postgres.handle(.began, nowMicros: 0) == nil)
        #expect(postgres.pendingStatementCount == 1)
    }

    @Test("a failed statement is not captured; one that ends the transaction (deadlock) discards it")
    func failures() {
        var machine = Machine(dialect: .mysql, target: "m", connectionID: 1)
        _ = machine.handle(.began, nowMicros: 0)
        _ = machine.handle(Self.ok(Self.write("INSERT INTO a VALUES (1)"), inTransaction: true), nowMicros: 0)
        _ = machine.handle(.statementExecuted(Self.write("INSERT INTO a VALUES (1)"), succeeded: false, serverSaysInTransaction: nil), nowMicros: 0)
        #expect(machine.pendingStatementCount == 1)
        _ = machine.handle(.statementExecuted(Self.write("UPDATE a SET x = 1"), succeeded: false, serverSaysInTransaction: false), nowMicros: 0)
        #expect(machine.pendingStatementCount == 0 && !machine.isInTransaction)
        #expect(machine.handle(Self.ok(ExecutedStatement(sql: "SELECT 1", kind: .read), inTransaction: false), nowMicros: 0) == nil)
    }

    @Test("autocommit=0 on MySQL: writes wait for COMMIT because the server reports a transaction")
    func autocommitOff() throws {
        var machine = Machine(dialect: .mysql, target: "m", connectionID: 1)
        #expect(machine.handle(Self.ok(Self.write("INSERT INTO a VALUES (1)"), inTransaction: true), nowMicros: 0) == nil)
        let record = machine.handle(.committed, nowMicros: 0)
        #expect(record?.statements.count == 1)
    }

    @Test("prepared statement parameters are kept in the record")
    func parameters() throws {
        var machine = Machine(dialect: .postgres, target: "m", connectionID: 1)
        let statement = ExecutedStatement(sql: "INSERT INTO a VALUES ($1, $2)", parameters: [.int64(1), .text("x")], kind: .write)
        let recordOutput = machine.handle(Self.ok(statement, inTransaction: false), nowMicros: 0)
        let record = try #require(recordOutput)
        #expect(record.statements[0].parameters == [.int64(1), .text("x")])
    }

    @Test("non-deterministic calls flag the record", arguments: [
        ("INSERT INTO a VALUES (RAND())", ReplayDialect.mysql, true),
        ("INSERT INTO a VALUES (UUID())", .mysql, true),
        ("INSERT INTO a VALUES (NOW())", .mysql, false),
        ("INSERT INTO a VALUES (CURRENT_TIMESTAMP)", .mysql, false),
        ("INSERT INTO a VALUES ('rand()')", .mysql, false),
        ("INSERT INTO a VALUES (now())", .postgres, true),
        ("INSERT INTO a VALUES (CURRENT_TIMESTAMP)", .postgres, true),
        ("INSERT INTO a VALUES (nextval('s'))", .postgres, true),
        ("INSERT INTO a VALUES (gen_random_uuid())", .postgres, true),
        ("INSERT INTO a (random) VALUES (1)", .postgres, false),
        ("INSERT INTO a VALUES (1) -- random()", .postgres, false),
    ])
    func nonDeterministic(_ sql: String, _ dialect: ReplayDialect, _ flagged: Bool) throws {
        var machine = Machine(dialect: dialect, target: "m", connectionID: 1)
        let recordOutput = machine.handle(Self.ok(Self.write(sql), inTransaction: false), nowMicros: 0)
        let record = try #require(recordOutput)
        #expect(record.flags.contains(.nonDeterministic) == flagged)
    }

    @Test("transaction-control statements are recognised from their keywords", arguments: [
        ("BEGIN", TransactionControl.begin), ("start transaction read write", .begin), ("COMMIT", .commit),
        ("end", .commit), ("ROLLBACK", .rollback), ("rollback work", .rollback), ("ABORT", .rollback),
        ("/* lane=gray */ SAVEPOINT sp_1", .savepoint("sp_1")), ("ROLLBACK TO SAVEPOINT Sp_1", .rollbackToSavepoint("sp_1")),
        ("rollback work to s", .rollbackToSavepoint("s")), ("RELEASE SAVEPOINT s", .releaseSavepoint("s")),
        ("release s", .releaseSavepoint("s")),
    ])
    func transactionControl(_ sql: String, _ expected: TransactionControl) {
        #expect(TransactionControl.parse(sql, dialect: .postgres) == expected)
    }

    @Test("other statements are not transaction control")
    func notTransactionControl() {
        #expect(TransactionControl.parse("BEGIN NOT ATOMIC SELECT 1; END", dialect: .mysql) == nil)
        #expect(TransactionControl.parse("INSERT INTO commit VALUES (1)", dialect: .mysql) == nil)
        #expect(TransactionControl.parse("XA START 'x'", dialect: .mysql) == nil)
        #expect(TransactionControl.parse("", dialect: .mysql) == nil)
    }
}
