import DatabaseClients

/// Applies MySQL records to a MariaDB/MySQL mirror through the libmariadb wrapper: `SET INSERT_ID`, `LAST_INSERT_ID`
/// and `TIMESTAMP` before each statement so auto-increment values and `NOW()` match the primary, `USE` for the
/// statement's database, server-side prepared statements for records that carry typed parameters (kept open per
/// statement text, so a statement the log repeats costs one round trip, not a prepare, an execute and a close).
final class MariaDBMirrorSession: MirrorSession {
    private var connection: MariaDBConnection?
    private var currentSchema: String?
    private var progressTable: String?
    /// Prepared statements by SQL text. Emptied when full: a workload repeats a few texts; one that never repeats
    /// would otherwise hold a server-side statement per text.
    private var statements: [String: MariaDBStatement] = [:]
    static let statementCacheLimit = 128
    /// A batch's text is sent once it holds this many bytes (far below the server's 16 MiB `max_allowed_packet`).
    static let scriptLimit = 1 << 20

    init(_ p: MirrorConnectionParameters) throws(MirrorFailure) {
        do {
            var configuration = MariaDBConnection.Configuration(
                host: p.host, port: p.port, user: p.user, password: p.password,
                database: p.database.isEmpty ? nil : p.database, timeouts: .init(connect: 5))
            // Captured LOAD DATA LOCAL INFILE statements replay with the file from the record.
            configuration.localInfile = true
            // A batch of row writes goes out as one text (see `apply`).
            configuration.multiStatements = true
            connection = try MariaDBConnection(configuration: configuration)
        } catch {
            throw .unavailable("connect to \(p.host):\(p.port) as \(p.user): \(Self.message(of: error))")
        }
        currentSchema = p.database.isEmpty ? nil : p.database
        try query("SET SESSION autocommit = 0", statement: -1)
        if p.progressTable != nil {
            guard let table = p.quotedProgressTable else {
                throw .rejected(statement: 0, message: "progress table name '\(p.progressTable ?? "")' must be lower-case letters, digits and '_'")
            }
            try query(
                "CREATE TABLE IF NOT EXISTS \(table) (target VARCHAR(255) PRIMARY KEY, lsn BIGINT UNSIGNED NOT NULL)",
                statement: -1)
            progressTable = table
        }
    }

    func appliedLSN(target: String) throws(MirrorFailure) -> LSN {
        guard let progressTable else { return 0 }
        try query("COMMIT", statement: -1)  // read the latest committed value, not an old snapshot
        let result = try query(
            "SELECT lsn FROM \(progressTable) WHERE target = \(MirrorConnectionParameters.literal(target))", statement: -1)
        return result.rows.first?.first?.flatMap { LSN($0) } ?? 0
    }

    deinit { close() }

    func close() {
        for statement in statements.values { statement.close() }
        statements = [:]
        connection?.close()
        connection = nil
    }

    /// Client-side errors (2xxx: lost connection, server gone away, cannot connect) and a closed connection mean
    /// the mirror is unavailable; anything the server answered is a rejection.
    private static func failure(_ error: any Error, statement: Int) -> MirrorFailure {
        guard let error = error as? DatabaseClientError else { return .unavailable("\(error)") }
        let text = Self.message(of: error)
        if error.code == .invalidArgument { return .rejected(statement: max(statement, 0), message: text) }
        guard let number = error.serverErrorNumber, !(2000..<3000).contains(number), error.code != .connectionClosed else {
            return .unavailable(text)
        }
        return .rejected(statement: max(statement, 0), message: text)
    }

    private static func message(of error: any Error) -> String {
        guard let error = error as? DatabaseClientError else { return "\(error)" }
        return error.serverErrorNumber.map { "\(error.message) (error \($0))" } ?? error.message
    }

    @discardableResult
    private func query(_ sql: String, statement: Int) throws(MirrorFailure) -> QueryResult {
        guard let connection else { throw .unavailable("connection closed") }
        do {
            return try connection.query(sql)
        } catch {
            throw Self.failure(error, statement: statement)
        }
    }

    /// Row writes go out as one multi-statement text per batch (``MySQLReplayScript``); a statement that cannot
    /// share a text (``MySQLStatementText``), a `LOAD … LOCAL INFILE` and anything that is not a plain row write run
    /// on their own as before, after what the text holds so far.
    func apply(_ records: [ReplayRecord]) throws(MirrorFailure) {
        guard let last = records.last else { return }
        let lastIndex = last.statements.count - 1
        var script = MySQLReplayScript()
        do {
            for record in records {
                for (index, statement) in record.statements.enumerated() {
                    if Self.localInfileData(statement) == nil, ReplayApplier.startsWithRowWrite(statement.sql),
                        let text = MySQLStatementText.inlined(statement.sql, parameters: statement.parameters),
                        // Large values stay bound: written in as hex they would take twice their size, and a text
                        // must stay below the mirror's max_allowed_packet.
                        statement.parameters == nil || text.count <= Self.scriptLimit
                    {
                        if script.bytes.count + text.count > Self.scriptLimit { try run(&script) }
                        if let use = useStatement(statement.context) { script.append(use, statementIndex: index) }
                        script.append(contextAssignments(statement.context), statementIndex: index)
                        script.append(text, statementIndex: index)
                        if script.bytes.count >= Self.scriptLimit { try run(&script) }
                        continue
                    }
                    try run(&script)
                    try prepareContext(statement.context, index: index)
                    if let file = Self.localInfileData(statement) {
                        try loadLocalInfile(statement.sql, file, index: index)
                    } else if let parameters = statement.parameters {
                        try executePrepared(statement.sql, parameters, index: index)
                    } else {
                        try query(statement.sql, statement: index)
                    }
                }
            }
            if let progressTable {
                script.append(
                    "INSERT INTO \(progressTable) (target, lsn) VALUES (\(MirrorConnectionParameters.literal(last.target)), \(last.lsn)) "
                        + "ON DUPLICATE KEY UPDATE lsn = VALUES(lsn)", statementIndex: lastIndex)
            }
            script.append("COMMIT", statementIndex: lastIndex)
            try run(&script)
        } catch {
            if case .rejected = error { _ = try? query("ROLLBACK", statement: -1) }
            throw error
        }
    }

    /// Runs what the script holds in one round trip and empties it.
    private func run(_ script: inout MySQLReplayScript) throws(MirrorFailure) {
        guard !script.isEmpty else { return }
        guard let connection else { throw .unavailable("connection closed") }
        defer { script.removeAll() }
        do {
            _ = try connection.queryAll(script.bytes)
        } catch {
            // A `USE` in the text may or may not have run.
            currentSchema = nil
            let completed = (error as? DatabaseClientError)?.completedStatements ?? 0
            throw Self.failure(error, statement: script.statementIndex(ofPiece: completed))
        }
    }

    /// `USE` for a statement's database when the session is elsewhere (it then is there, as far as the text goes).
    private func useStatement(_ context: ReplayContext) -> String? {
        guard let schema = context.schema, schema != currentSchema else { return nil }
        currentSchema = schema
        return "USE `\(schema.replacingOccurrences(of: "`", with: "``"))`"
    }

    private func prepareContext(_ context: ReplayContext, index: Int) throws(MirrorFailure) {
        if let use = useStatement(context) { try query(use, statement: index) }
        try query(contextAssignments(context), statement: index)
    }

    /// `SET INSERT_ID …, LAST_INSERT_ID …, TIMESTAMP …` as the primary ran the statement.
    private func contextAssignments(_ context: ReplayContext) -> String {
        var assignments: [String] = []
        if let id = context.insertID { assignments.append("INSERT_ID = \(id)") }
        if let id = context.lastInsertID { assignments.append("LAST_INSERT_ID = \(id)") }
        if let micros = context.timestampMicros {
            let seconds = micros / 1_000_000, fraction = micros % 1_000_000
            let padded = String(fraction)
            assignments.append("TIMESTAMP = \(seconds).\(String(repeating: "0", count: 6 - padded.count))\(padded)")
        } else {
            assignments.append("TIMESTAMP = DEFAULT")
        }
        return "SET " + assignments.joined(separator: ", ")
    }

    /// The file of a captured `LOAD … LOCAL INFILE`: the statement's one value.
    static func localInfileData(_ statement: ReplayStatement) -> [UInt8]? { statement.bulkData(keyword: "load") }

    private func loadLocalInfile(_ sql: String, _ file: [UInt8], index: Int) throws(MirrorFailure) {
        guard let connection else { throw .unavailable("connection closed") }
        do {
            try connection.loadLocalInfile(sql, data: file)
        } catch {
            throw Self.failure(error, statement: index)
        }
    }

    private func executePrepared(_ sql: String, _ parameters: [ReplayValue], index: Int) throws(MirrorFailure) {
        guard let connection else { throw .unavailable("connection closed") }
        do {
            let statement: MariaDBStatement
            if let cached = statements[sql] {
                statement = cached
            } else {
                statement = try connection.prepare(sql)
                if statements.count >= Self.statementCacheLimit {
                    for old in statements.values { old.close() }
                    statements = [:]
                }
                statements[sql] = statement
            }
            guard statement.parameterCount == parameters.count else {
                throw MirrorFailure.rejected(
                    statement: index,
                    message: "statement has \(statement.parameterCount) placeholders, record has \(parameters.count) values")
            }
            do {
                try statement.execute(params: parameters.map(\.databaseValue))
            } catch {
                // Prepared again next time: the failure may have been the statement's (a changed table).
                statements[sql] = nil
                statement.close()
                throw error
            }
        } catch let failure as MirrorFailure {
            throw failure
        } catch {
            throw Self.failure(error, statement: index)
        }
    }
}

extension ReplayValue {
    /// The value as the wrappers bind it (MariaDB binary protocol types: LONGLONG, DOUBLE, STRING, BLOB).
    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .int64(let value): .int(value)
        case .double(let value): .double(value)
        case .text(let value): .text(value)
        case .bytes(let value): .bytes(value)
        }
    }
}
