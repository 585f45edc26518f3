import Foundation
import ShadowConfig
import ShadowDiff
import ShadowSQL
import Testing

/// `shadowgate diff` on bad input and failing servers: each stops with exit 2, a message naming what is wrong and
/// what to do, and nothing written to the shadow. Also the re-check of a keyless table after a delay.
@Suite struct DiffFaultTests {
    /// `items` (40 rows) and its shadow `items_gray`, which lacks row 7 (so `--repair apply` would write).
    func makeItems(_ h: DataToolHarness, rows: Int = 40, shadowKey: String = "id") throws {
        let source = h.dialect == .mysql ? "seq_1_to_\(rows)" : "generate_series(1, \(rows)) AS g(seq)"
        for (table, key) in [("items", "id"), ("items_gray", shadowKey)] {
            try h.run(
                "CREATE TABLE \(h.t(table)) (id INT NOT NULL, name VARCHAR(20) NOT NULL, PRIMARY KEY (\(key)))",
                "INSERT INTO \(h.t(table)) SELECT seq, CONCAT('n', seq) FROM \(source)"
            )
        }
        try h.run("DELETE FROM \(h.t("items_gray")) WHERE id = 7")
    }

    func shadowRows(_ h: DataToolHarness) throws -> String? {
        try h.scalar("SELECT COUNT(*) FROM \(h.t("items_gray"))")
    }

    @Test("different key columns on base and shadow: exit 2, both keys named, nothing repaired", arguments: SQLDialect.allCases)
    func differentKeys(dialect: SQLDialect) async throws {
        let h = try DataToolHarness(dialect)
        defer { h.drop() }
        try makeItems(h, shadowKey: "id, name")
        let result = await h.diff([h.t("items")], config: try h.configuration(), extra: ["--repair", "apply"])
        #expect(result.code == 2)
        #expect(result.err.contains("base is keyed by (id) but the shadow by (id, name)"), "\(result.err)")
        #expect(result.err.contains("same primary key"))
        #expect(try shadowRows(h) == "39")
    }

    @Test("a login that may read base but not the shadow: exit 2, a permission error saying what to grant, nothing written", arguments: SQLDialect.allCases)
    func noPermissionOnShadow(dialect: SQLDialect) async throws {
        let h = try DataToolHarness(dialect)
        let user = "ro_\(h.schema)".suffix(60).lowercased()
        defer {
            if dialect == .mysql {
                try? h.run("DROP USER IF EXISTS '\(user)'@'%'")
            } else {
                try? h.run("DROP OWNED BY \(user)", "DROP ROLE IF EXISTS \(user)")
            }
            h.drop()
        }
        try makeItems(h)
        switch dialect {
        case .mysql:
            try h.run("CREATE USER '\(user)'@'%' IDENTIFIED BY 'ro-pass'", "GRANT SELECT ON \(h.t("items")) TO '\(user)'@'%'")
        case .postgres:
            try h.run(
                "CREATE ROLE \(user) LOGIN PASSWORD 'ro-pass'", "GRANT USAGE ON SCHEMA \(h.schema) TO \(user)",
                "GRANT SELECT ON \(h.t("items")) TO \(user)"
            )
        }
        let config = try h.configuration(login: (String(user), "ro-pass"))
        let result = await h.diff([h.t("items")], config: config, extra: ["--repair", "apply"])
        #expect(result.code == 2)
        #expect(result.err.contains("permission denied on 127.0.0.1:"), "\(result.err)")
        #expect(result.err.contains("items_gray"))
        #expect(result.err.contains("grant the login SELECT"))
        #expect(try shadowRows(h) == "39")
    }

    @Test("the diff's session killed mid-run: exit 2, the lost server named, nothing written", arguments: SQLDialect.allCases)
    func sessionKilledMidRun(dialect: SQLDialect) async throws {
        let h = try DataToolHarness(dialect)
        defer { h.drop() }
        try makeItems(h, rows: 20_000)
        let config = try h.configuration()
        // Many small chunks, kept small (no adaptive growth), keep the diff busy long enough to be found and killed.
        // The killer polls on a thread of its own, so the blocking diff cannot starve it (or the other way round) on
        // the cooperative pool.
        let finished = Flag()
        let killed = startKiller(h, until: finished)
        let result = await h.diff(
            [h.t("items")], config: config, extra: ["--chunk-rows", "5", "--target-chunk-time", "0", "--repair", "apply"])
        finished.set()
        #expect(killed(), "no diff session was found to kill; last error: \(finished.lastNote ?? "none")")
        #expect(result.code == 2)
        #expect(result.err.contains("lost the connection to 127.0.0.1:"), "\(result.err)")
        #expect(result.err.contains("re-run"))
        #expect(try shadowRows(h) == "19999")
    }

    /// Starts a thread that finds the diff's sessions (by their database or application name) and ends them from
    /// another session until the diff has finished; returns a function that waits for it and says whether it killed.
    /// It keeps killing after the first: on a loaded machine one kill can land on a session the diff has just
    /// finished with, and the run would then complete. A thread of its own, started before the diff, so the blocking
    /// diff cannot starve it.
    func startKiller(_ h: DataToolHarness, until finished: Flag) -> () -> Bool {
        let done = DispatchSemaphore(value: 0)
        let outcome = Flag()
        Thread {
            var killed = false
            while !finished.isSet {
                do { if try killOnce(h) { killed = true } } catch { finished.note("\(error)") }
                usleep(20_000)
            }
            if killed { outcome.set() }
            done.signal()
        }.start()
        return {
            done.wait()
            return outcome.isSet
        }
    }

    func killOnce(_ h: DataToolHarness) throws -> Bool {
        switch h.dialect {
        case .mysql:
            let id = try h.scalar(
                // A session running a query: the diff's, never one of the harness's idle ones.
                "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '\(h.schema)' AND ID <> CONNECTION_ID() "
                    + "AND COMMAND = 'Query' ORDER BY ID LIMIT 1"
            )
            if let id { try h.run("KILL \(id)") }
            return id != nil
        case .postgres:
            return try h.scalar(
                "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE application_name = "
                    + "'shadowgate-data-tools' AND query LIKE '%\(h.schema)%' LIMIT 1"
            ) != nil
        }
    }

    @Test("a keyless table's differences are counted again after the delay; those that resolved are not reported", arguments: SQLDialect.allCases)
    func keylessRecheck(dialect: SQLDialect) throws {
        let h = try DataToolHarness(dialect)
        defer { h.drop() }
        try h.makeLogs()
        // Three differences: 'b' missing, 'c' missing, one extra 'a'.
        try h.run("DELETE FROM \(h.t("logs_gray")) WHERE msg IN ('b', 'c')", "INSERT INTO \(h.t("logs_gray")) VALUES ('a', 1)")
        let environment = h.environment
        let (port, user, password) = dialect == .mysql
            ? (environment.mysql.port, environment.mysql.user, environment.mysql.password)
            : (environment.postgres.port, environment.postgres.user, environment.postgres.password)
        let credentials = DatabaseCredentials(user: user, password: password, database: dialect == .mysql ? h.schema : "mse_demo")
        let endpoint = Endpoint(host: "127.0.0.1", port: port)
        let base = try ServerConnector.connect(dialect: dialect, endpoint: endpoint, credentials: credentials)
        // The data moves between the scan and the re-check: 'b' arrives in the shadow, the extra 'a' goes.
        let shadow = RecheckHook(
            try ServerConnector.connect(dialect: dialect, endpoint: endpoint, credentials: credentials),
            marker: "GROUP BY d"
        ) {
            try h.run(
                "INSERT INTO \(h.t("logs_gray")) VALUES ('b', 2)",
                dialect == .mysql
                    ? "DELETE FROM \(h.t("logs_gray")) WHERE msg = 'a' LIMIT 1"
                    : "DELETE FROM \(h.t("logs_gray")) WHERE ctid IN (SELECT ctid FROM \(h.t("logs_gray")) WHERE msg = 'a' LIMIT 1)"
            )
        }
        var options = DiffOptions()
        options.recheckDelaySeconds = 0
        let pair = TablePair(base: TableName(schema: h.schema, name: "logs"), shadow: TableName(schema: h.schema, name: "logs_gray"))
        let report = try TableDiffer(base: base, shadow: shadow, options: options).diff(pair, recheck: true).report
        #expect(shadow.fired)
        #expect(report.rechecked)
        #expect(report.resolvedOnRecheck == 2)
        #expect(report.missingInShadow == 1)
        #expect(report.extraInShadow == 0)
        #expect(report.examples.first?.baseValues?.contains("c") == true)
    }
}

/// A flag one thread sets and another reads, with a note for diagnostics.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    private var note: String?
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
    /// The last thing worth telling about (an error while polling, say).
    func note(_ text: String) { lock.withLock { note = text } }
    var lastNote: String? { lock.withLock { note } }
}

/// A real session that runs `action` (on another session) just before the first statement containing `marker` and no
/// `ORDER BY` — the re-check's count of the differing digests — then forwards every statement unchanged.
final class RecheckHook: DiffConnection {
    let inner: any DiffConnection
    let marker: String
    let action: () throws -> Void
    private(set) var fired = false
    var dialect: SQLDialect { inner.dialect }

    init(_ inner: any DiffConnection, marker: String, action: @escaping () throws -> Void) {
        self.inner = inner
        self.marker = marker
        self.action = action
    }

    func query(_ sql: String) throws -> [[String?]] {
        if !fired, sql.contains(marker), !sql.contains("ORDER BY") {
            fired = true
            try action()
        }
        return try inner.query(sql)
    }

    func execute(_ sql: String) throws -> Int { try inner.execute(sql) }
}
