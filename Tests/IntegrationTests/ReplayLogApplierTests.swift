import Foundation
import Logging
import ReplayLog
import Testing
import TestSupport

/// The applier against the real shadow servers started by scripts/servers.sh (missing env vars fail the tests).
@Suite(.serialized) struct ReplayLogApplierTests {
    private static let logger = Logger(label: "replay-applier-tests")

    private func env(_ name: String) throws -> String {
        try #require(ProcessInfo.processInfo.environment[name], "\(name) is not set: source the env.sh of scripts/servers.sh")
    }

    private func mirror(_ dialect: ReplayDialect, port: Int? = nil) throws -> MirrorConnectionParameters {
        switch dialect {
        case .mysql:
            MirrorConnectionParameters(
                host: try env("SHADOWGATE_MYSQL_HOST"), port: try port ?? Int(env("SHADOWGATE_MYSQL_SHADOW_PORT"))!,
                user: try env("SHADOWGATE_MYSQL_USER"), password: try env("SHADOWGATE_MYSQL_PASSWORD"),
                database: "mse_demo", dialect: .mysql)
        case .postgres:
            MirrorConnectionParameters(
                host: try env("SHADOWGATE_PG_HOST"), port: try port ?? Int(env("SHADOWGATE_PG_SHADOW_PORT"))!,
                user: try env("SHADOWGATE_PG_USER"), password: try env("SHADOWGATE_PG_PASSWORD"),
                database: "mse_demo", dialect: .postgres)
        }
    }

    /// Runs a query with the server's own command-line client and returns its tab-separated output.
    private func query(_ dialect: ReplayDialect, _ sql: String) throws -> String {
        let output: Subprocess.Output
        switch dialect {
        case .mysql:
            output = try Subprocess.run("mariadb", [
                "--no-defaults", "-h", try env("SHADOWGATE_MYSQL_HOST"), "-P",
                try env("SHADOWGATE_MYSQL_SHADOW_PORT"), "-u", try env("SHADOWGATE_MYSQL_USER"),
                "-p" + (try env("SHADOWGATE_MYSQL_PASSWORD")), "-N", "-B", "mse_demo", "-e", sql,
            ])
        case .postgres:
            output = try Subprocess.run("psql", [
                "-X", "-A", "-t", "-F", "\t", "-h", try env("SHADOWGATE_PG_HOST"), "-p",
                try env("SHADOWGATE_PG_SHADOW_PORT"), "-U", try env("SHADOWGATE_PG_USER"), "-d", "mse_demo", "-c", sql,
            ], environment: ["PGPASSWORD": try env("SHADOWGATE_PG_PASSWORD")])
        }
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func write(_ records: [ReplayRecord], to dir: String) async throws {
        let writer = try ReplayLogWriter(configuration: .init(directory: dir), logger: Self.logger)
        for record in records { _ = try await writer.append(record) }
        writer.close()
    }

    private func record(
        _ dialect: ReplayDialect, target: String = "mirror", _ statements: [ReplayStatement], flags: ReplayRecordFlags = []
    ) -> ReplayRecord {
        ReplayRecord(
            timestampMicros: Int64(Date().timeIntervalSince1970 * 1e6), connectionID: 1, transactionID: 1,
            dialect: dialect, target: target, flags: flags, statements: statements)
    }

    @Test("MySQL records replay into the shadow MariaDB with INSERT_ID, TIMESTAMP and prepared parameters")
    func mysqlReplay() async throws {
        let dir = ReplayTestDirectory()
        defer { dir.cleanup() }
        let tag = "replay-\(UInt32.random(in: 0...UInt32.max))"
        let baseID = UInt64.random(in: 1_000_000...9_000_000)
        try await write([
            record(.mysql, [
                ReplayStatement(
                    sql: "INSERT INTO mse_demo_table (location) VALUES ('\(tag)-a')",
                    context: ReplayContext(insertID: baseID, timestampMicros: 1_600_000_000_250_000, schema: "mse_demo")),
                ReplayStatement(
                    sql: "INSERT INTO mse_demo_table (location, created_at) VALUES (?, NOW())",
                    parameters: [.text("\(tag)-b")],
                    context: ReplayContext(insertID: baseID + 1, timestampMicros: 1_600_000_100_000_000)),
            ], flags: .nonDeterministic),
            record(.mysql, [
                ReplayStatement(
                    sql: "UPDATE mse_demo_table SET location = ? WHERE id = ?",
                    parameters: [.text("\(tag)-c"), .int64(Int64(baseID))])
            ]),
        ], to: dir.path)

        let applier = try ReplayApplier(
            configuration: .init(directory: dir.path, mirror: try mirror(.mysql)), logger: Self.logger)
        let status = applier.run(untilCaughtUp: true)
        #expect(status.lastError == nil)
        #expect(status.checkpointLSN == 2)
        #expect(status.flaggedRecords == 1)
        #expect(try Checkpoint.read(directory: dir.path) == 2)
        let rows = try query(
            .mysql, "SELECT id, location, UNIX_TIMESTAMP(created_at) FROM mse_demo_table WHERE location LIKE '\(tag)%' ORDER BY id")
        #expect(rows == "\(baseID)\t\(tag)-c\t1600000000\n\(baseID + 1)\t\(tag)-b\t1600000100")
    }

    @Test("PostgreSQL records replay into the shadow PostgreSQL with typed parameters, in order")
    func postgresReplay() async throws {
        let dir = ReplayTestDirectory()
        defer { dir.cleanup() }
        let tag = "replay-\(UInt32.random(in: 0...UInt32.max))"
        try await write([
            record(.postgres, [
                ReplayStatement(sql: "CREATE TABLE IF NOT EXISTS replay_probe (id bigint PRIMARY KEY, note text, score double precision, raw bytea)")
            ]),
            record(.postgres, [
                ReplayStatement(
                    sql: "INSERT INTO replay_probe VALUES ($1, $2, $3, $4)",
                    parameters: [.int64(Int64(UInt32.random(in: 1...UInt32.max))), .text(tag), .double(2.5), .bytes([0, 1, 255])],
                    context: ReplayContext(schema: "public"))
            ]),
            record(.postgres, [ReplayStatement(sql: "UPDATE replay_probe SET note = note || '-done' WHERE note = $1", parameters: [.text(tag)])]),
        ], to: dir.path)
        let applier = try ReplayApplier(
            configuration: .init(directory: dir.path, mirror: try mirror(.postgres)), logger: Self.logger)
        let status = applier.run(untilCaughtUp: true)
        #expect(status.lastError == nil)
        #expect(status.checkpointLSN == 3)
        #expect(try query(.postgres, "SELECT note, score, encode(raw, 'hex') FROM replay_probe WHERE note LIKE '\(tag)%'")
            == "\(tag)-done\t2.5\t0001ff")
    }

    @Test("while the mirror is down the applier retries with backoff and catches up when it returns")
    func mirrorDownThenUp() async throws {
        let dir = ReplayTestDirectory()
        defer { dir.cleanup() }
        let tag = "replay-\(UInt32.random(in: 0...UInt32.max))"
        try await write([record(.mysql, [ReplayStatement(sql: "INSERT INTO mse_orders (item) VALUES ('\(tag)')")])], to: dir.path)
        // The first attempts go to a port nothing listens on (a real refused connection), later ones to the mirror.
        let deadPort = 1
        let real = try mirror(.mysql)
        let attempts = ReplayAttemptCounter()
        // What the applier said and when, seen from its own thread at each attempt (a poll from the test's task can
        // be starved past the whole backoff on a loaded machine).
        let seen = ReplayAttemptLog()
        let holder = ReplayApplierHolder()
        let applier = try ReplayApplier(
            configuration: .init(
                directory: dir.path, mirror: real, initialBackoff: .milliseconds(200), maximumBackoff: .milliseconds(400)),
            logger: Self.logger,
            connect: { (p) throws(MirrorFailure) in
                seen.append(state: holder.applier?.status.state, at: Date())
                var target = p
                if attempts.increment() <= 3 { target.port = deadPort }
                return try MirrorSessions.connect(target)
            })
        holder.applier = applier
        applier.start()
        for _ in 0..<1000 {
            if applier.status.checkpointLSN == 1 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        applier.stop()
        let entries = seen.entries
        #expect(entries.dropFirst().allSatisfy { $0.state == .waitingForMirror }, "\(entries)")
        // Backoff: 200 ms, then 400 ms, then 400 ms (the maximum) between the refused attempts.
        let gaps = zip(entries.dropFirst(), entries).map { $0.at.timeIntervalSince($1.at) }
        #expect(gaps.count >= 3 && gaps[0] >= 0.19 && gaps[1] >= 0.39 && gaps[2] >= 0.39, "\(gaps)")
        #expect(attempts.value >= 4)
        #expect(applier.status.checkpointLSN == 1)
        #expect(try query(.mysql, "SELECT COUNT(*) FROM mse_orders WHERE item = '\(tag)'") == "1")
    }

    @Test("a record the mirror rejects stops the applier with a status naming its LSN and the error")
    func rejectedRecordStops() async throws {
        let dir = ReplayTestDirectory()
        defer { dir.cleanup() }
        try await write([
            record(.mysql, [ReplayStatement(sql: "DO 1")]),
            record(.mysql, [ReplayStatement(sql: "INSERT INTO no_such_table_for_replay VALUES (1)")]),
            record(.mysql, [ReplayStatement(sql: "DO 2")]),
        ], to: dir.path)
        let applier = try ReplayApplier(
            configuration: .init(directory: dir.path, mirror: try mirror(.mysql)), logger: Self.logger)
        let status = applier.run(untilCaughtUp: true)
        #expect(status.state == .stoppedOnError)
        #expect(status.checkpointLSN == 1)
        let error = try #require(status.lastError)
        #expect(error.contains("LSN 2"))
        #expect(error.contains("no_such_table_for_replay"))
        #expect(FileManager.default.fileExists(atPath: dir.path + "/" + ReplayApplier.errorFileName))

        let deadLettering = try ReplayApplier(
            configuration: .init(directory: dir.path, mirror: try mirror(.mysql), onRejected: .deadLetter),
            logger: Self.logger)
        let after = deadLettering.run(untilCaughtUp: true)
        #expect(after.checkpointLSN == 3)
        #expect(after.deadLettered == 1)
        #expect(FileManager.default.fileExists(atPath: dir.path + "/" + ReplayApplier.deadLetterFileName))
    }

    @Test("a batch of row writes the mirror rejects is retried record by record: the ones before the bad record stay applied, the applier stops on it")
    func rejectedRecordInsideBatch() async throws {
        let dir = ReplayTestDirectory()
        defer { dir.cleanup() }
        let tag = "batch-\(UInt32.random(in: 0...UInt32.max))"
        let id = Int64.random(in: 10_000_000...90_000_000)
        try await write([
            record(.mysql, [ReplayStatement(sql: "INSERT INTO mse_demo_table (id, location) VALUES (?, ?)", parameters: [.int64(id), .text("\(tag)-a")])]),
            record(.mysql, [ReplayStatement(sql: "UPDATE mse_demo_table SET location = ? WHERE id = ?", parameters: [.text("\(tag)-b"), .int64(id)])]),
            // The same key again: a duplicate-key rejection in the middle of the batch.
            record(.mysql, [ReplayStatement(sql: "INSERT INTO mse_demo_table (id, location) VALUES (?, ?)", parameters: [.int64(id), .text("\(tag)-c")])]),
            record(.mysql, [ReplayStatement(sql: "INSERT INTO mse_demo_table (id, location) VALUES (?, ?)", parameters: [.int64(id + 1), .text("\(tag)-d")])]),
        ], to: dir.path)
        let applier = try ReplayApplier(
            configuration: .init(directory: dir.path, mirror: try mirror(.mysql)), logger: Self.logger)
        let status = applier.run(untilCaughtUp: true)
        #expect(status.state == .stoppedOnError)
        #expect(status.checkpointLSN == 2)
        #expect(try #require(status.lastError).contains("LSN 3"))
        #expect(try query(.mysql, "SELECT location FROM mse_demo_table WHERE location LIKE '\(tag)%' ORDER BY id") == "\(tag)-b")
    }

    @Test("PostgreSQL: a pipelined batch the mirror rejects in its middle is retried record by record; the applier stops on the bad record")
    func rejectedRecordInsidePipelinedBatch() async throws {
        let dir = ReplayTestDirectory()
        defer { dir.cleanup() }
        let tag = "pbatch-\(UInt32.random(in: 0...UInt32.max))"
        let id = Int64.random(in: 10_000_000...90_000_000)
        try await write([
            record(.postgres, [ReplayStatement(sql: "INSERT INTO mse_demo_table (id, location) VALUES ($1, $2)", parameters: [.int64(id), .text("\(tag)-a")])]),
            record(.postgres, [
                ReplayStatement(sql: "UPDATE mse_demo_table SET location = $1 WHERE id = $2", parameters: [.text("\(tag)-b"), .int64(id)]),
                ReplayStatement(sql: "UPDATE mse_demo_table SET location = location || '?' WHERE id = \(id)"),
            ]),
            // The same key again: a duplicate-key rejection in the middle of the batch.
            record(.postgres, [ReplayStatement(sql: "INSERT INTO mse_demo_table (id, location) VALUES ($1, $2)", parameters: [.int64(id), .text("\(tag)-c")])]),
            record(.postgres, [ReplayStatement(sql: "INSERT INTO mse_demo_table (id, location) VALUES ($1, $2)", parameters: [.int64(id + 1), .text("\(tag)-d")])]),
        ], to: dir.path)
        let applier = try ReplayApplier(
            configuration: .init(directory: dir.path, mirror: try mirror(.postgres)), logger: Self.logger)
        let status = applier.run(untilCaughtUp: true)
        #expect(status.state == .stoppedOnError)
        #expect(status.checkpointLSN == 2)
        let error = try #require(status.lastError)
        #expect(error.contains("LSN 3") && error.contains("23505"), "\(error)")
        #expect(try query(.postgres, "SELECT location FROM mse_demo_table WHERE location LIKE '\(tag)%' ORDER BY id") == "\(tag)-b?")
        _ = try query(.postgres, "DELETE FROM mse_demo_table WHERE location LIKE '\(tag)%'")
    }

    @Test("row writes are applied in batches and DDL alone; the progress table ends at the last LSN, and a restart applies nothing twice")
    func batchesWithProgressTable() async throws {
        let dir = ReplayTestDirectory()
        defer { dir.cleanup() }
        let table = "replay_batch_\(UInt32.random(in: 0...UInt32.max))"
        let target = "mirror-\(table)"
        var records = [record(.postgres, target: target, [ReplayStatement(sql: "CREATE TABLE \(table) (id int PRIMARY KEY, v text)")])]
        for i in 1...150 {
            records.append(record(.postgres, target: target, [ReplayStatement(sql: "INSERT INTO \(table) VALUES ($1, $2)", parameters: [.int64(Int64(i)), .text("v\(i)")])]))
        }
        records.append(record(.postgres, target: target, [ReplayStatement(sql: "ALTER TABLE \(table) ADD COLUMN w int DEFAULT 7")]))
        records.append(record(.postgres, target: target, [
            ReplayStatement(sql: "  update \(table) SET w = 8 WHERE id <= 10"),
            ReplayStatement(sql: "DELETE FROM \(table) WHERE id > 140"),
        ]))
        try await write(records, to: dir.path)
        var parameters = try mirror(.postgres)
        parameters.progressTable = "shadowgate_replay_progress"
        let applier = try ReplayApplier(configuration: .init(directory: dir.path, mirror: parameters), logger: Self.logger)
        let status = applier.run(untilCaughtUp: true)
        #expect(status.lastError == nil)
        #expect(status.checkpointLSN == 153)
        #expect(try query(.postgres, "SELECT count(*), sum(w) FROM \(table)") == "140\t990")
        #expect(try query(.postgres, "SELECT lsn FROM shadowgate_replay_progress WHERE target = '\(target)'") == "153")
        // A lost checkpoint: the progress table keeps every record from being applied twice.
        try FileManager.default.removeItem(atPath: dir.path + "/checkpoint")
        let again = try ReplayApplier(configuration: .init(directory: dir.path, mirror: parameters), logger: Self.logger)
        #expect(again.run(untilCaughtUp: true).lastError == nil)
        #expect(try query(.postgres, "SELECT count(*) FROM \(table)") == "140")
        _ = try query(.postgres, "DROP TABLE \(table); DELETE FROM shadowgate_replay_progress WHERE target = '\(target)'")
    }
}

/// The applier under test, for its own connect closure (set once it exists).
final class ReplayApplierHolder: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: ReplayApplier?
    var applier: ReplayApplier? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

/// The applier's state at each connect attempt, and when.
final class ReplayAttemptLog: @unchecked Sendable {
    struct Entry { var state: ReplayApplier.State?; var at: Date }
    private let lock = NSLock()
    private var stored: [Entry] = []
    func append(state: ReplayApplier.State?, at: Date) { lock.withLock { stored.append(Entry(state: state, at: at)) } }
    var entries: [Entry] { lock.withLock { stored } }
}

/// A thread-safe counter for the connect closure.
final class ReplayAttemptCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        count += 1
        return count
    }
    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}

struct ReplayTestDirectory {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "replay-it-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}
