import DatabaseClients

/// Applies PostgreSQL records to a PostgreSQL mirror through the libpq wrapper: one `BEGIN … COMMIT` per batch of
/// records, `SET LOCAL search_path` whenever the statement's schema differs from the one before it, `PQexecParams`
/// for records with typed parameters (text format, bytes in binary format). A batch of plain row writes goes in
/// libpq's pipeline mode: one round trip for the batch.
final class PostgresMirrorSession: MirrorSession {
    private var connection: PostgresConnection?
    private var progressTable: String?

    init(_ p: MirrorConnectionParameters) throws(MirrorFailure) {
        do {
            connection = try PostgresConnection(
                configuration: .init(
                    host: p.host, port: p.port, user: p.user, password: p.password, database: p.database,
                    applicationName: "shadowgate-replay", sslMode: .prefer, connectTimeoutSeconds: 5))
        } catch {
            throw .unavailable("connect to \(p.host):\(p.port) as \(p.user): \((error as? DatabaseClientError)?.message ?? "\(error)")")
        }
        if p.progressTable != nil {
            guard let table = p.quotedProgressTable else {
                throw .rejected(statement: 0, message: "progress table name '\(p.progressTable ?? "")' must be lower-case letters, digits and '_'")
            }
            try exec("CREATE TABLE IF NOT EXISTS \(table) (target TEXT PRIMARY KEY, lsn BIGINT NOT NULL)", statement: -1)
            progressTable = table
        }
    }

    func appliedLSN(target: String) throws(MirrorFailure) -> LSN {
        guard let progressTable else { return 0 }
        let result = try exec("SELECT lsn FROM \(progressTable) WHERE target = \(MirrorConnectionParameters.literal(target))", statement: -1)
        return result.rows.first?.first?.flatMap { LSN($0) } ?? 0
    }

    deinit { close() }

    func close() {
        connection?.close()
        connection = nil
    }

    /// A broken connection, connection-class SQLSTATEs (08…) and shutdown ones (57P…) mean the mirror is
    /// unavailable; anything else the server answered is a rejection.
    private func failure(_ error: any Error, statement: Int) -> MirrorFailure {
        guard let error = error as? DatabaseClientError else { return .unavailable("\(error)") }
        let sqlState = error.sqlState ?? ""
        if error.code == .connectionClosed || connection?.transactionStatus == .unknown || sqlState.hasPrefix("08")
            || sqlState.hasPrefix("57P")
        {
            return .unavailable(error.message)
        }
        return .rejected(statement: max(statement, 0), message: sqlState.isEmpty ? error.message : "\(error.message) (SQLSTATE \(sqlState))")
    }

    @discardableResult
    private func exec(_ sql: String, statement: Int) throws(MirrorFailure) -> QueryResult {
        guard let connection else { throw .unavailable("connection closed") }
        do {
            return try connection.simpleQuery(sql)
        } catch {
            throw failure(error, statement: statement)
        }
    }

    func apply(_ records: [ReplayRecord]) throws(MirrorFailure) {
        guard let last = records.last else { return }
        if records.allSatisfy({ $0.statements.allSatisfy(Self.canPipeline) }) { return try applyPipelined(records) }
        let lastIndex = last.statements.count - 1
        do {
            try exec("BEGIN", statement: -1)
            // The schema in force inside this transaction: nil is the session's own search_path.
            var schemaInForce: String? = nil
            for record in records {
                for (index, statement) in record.statements.enumerated() {
                    if statement.context.schema != schemaInForce {
                        try exec("SET LOCAL search_path TO \(Self.searchPath(statement.context.schema))", statement: index)
                        schemaInForce = statement.context.schema
                    }
                    if let rows = Self.copyRows(statement) {
                        try copyIn(statement.sql, rows, index: index)
                    } else if let parameters = statement.parameters {
                        try execParams(statement.sql, parameters, index: index)
                    } else {
                        try exec(statement.sql, statement: index)
                    }
                }
            }
            if let progressTable {
                try exec(
                    "INSERT INTO \(progressTable) (target, lsn) VALUES (\(MirrorConnectionParameters.literal(last.target)), \(last.lsn)) "
                        + "ON CONFLICT (target) DO UPDATE SET lsn = EXCLUDED.lsn", statement: lastIndex)
            }
            try exec("COMMIT", statement: lastIndex)
        } catch {
            if case .rejected = error { _ = try? exec("ROLLBACK", statement: -1) }
            throw error
        }
    }

    /// Whether a statement can go in a pipeline (extended protocol, one command): a plain row write that is not a
    /// COPY, and, when it came as simple-query text, one without a semicolon (such a text may hold several commands,
    /// which the extended protocol refuses).
    static func canPipeline(_ statement: ReplayStatement) -> Bool {
        guard ReplayApplier.startsWithRowWrite(statement.sql), copyRows(statement) == nil else { return false }
        return statement.parameters != nil || !statement.sql.utf8.contains(UInt8(ascii: ";"))
    }

    /// A batch of row writes in one round trip: `BEGIN`, each statement with its values (and `SET LOCAL
    /// search_path` where the schema changes), the progress row and `COMMIT` sent in pipeline mode, then read.
    /// Statement by statement, each waited for its answer: over a network to a mirror elsewhere the round trips,
    /// not the statements, bound how fast a mirror catches up.
    private func applyPipelined(_ records: [ReplayRecord]) throws(MirrorFailure) {
        guard let connection else { throw .unavailable("connection closed") }
        guard let last = records.last else { return }
        let lastIndex = last.statements.count - 1
        var steps: [PostgresPipelineStep] = [.query("BEGIN")]
        // The record statement each step belongs to, for the error of the first step that fails.
        var owners: [Int] = [0]
        var schemaInForce: String? = nil
        for record in records {
            for (index, statement) in record.statements.enumerated() {
                if statement.context.schema != schemaInForce {
                    steps.append(.query("SET LOCAL search_path TO \(Self.searchPath(statement.context.schema))"))
                    owners.append(index)
                    schemaInForce = statement.context.schema
                }
                steps.append(.queryParameters(statement.sql, (statement.parameters ?? []).map(Self.parameter)))
                owners.append(index)
            }
        }
        if let progressTable {
            steps.append(
                .query(
                    "INSERT INTO \(progressTable) (target, lsn) VALUES (\(MirrorConnectionParameters.literal(last.target)), \(last.lsn)) "
                        + "ON CONFLICT (target) DO UPDATE SET lsn = EXCLUDED.lsn"))
            owners.append(lastIndex)
        }
        steps.append(.query("COMMIT"))
        owners.append(lastIndex)
        var failed: MirrorFailure?
        do {
            let outcomes = try connection.pipeline(steps)
            for (step, outcome) in outcomes.enumerated() {
                guard case .failure(let error) = outcome else { continue }
                failed = failure(error, statement: owners[step])
                break
            }
        } catch {
            failed = failure(error, statement: lastIndex)
        }
        guard let failed else { return }
        // As in the statement-by-statement path: a rejection leaves the mirror transaction to roll back.
        if case .rejected = failed { _ = try? exec("ROLLBACK", statement: -1) }
        throw failed
    }

    /// `search_path` for a statement's schema (nil: the session's default).
    private static func searchPath(_ schema: String?) -> String {
        schema.map { "\"\($0.replacingOccurrences(of: "\"", with: "\"\""))\"" } ?? "DEFAULT"
    }

    /// The rows of a captured `COPY … FROM STDIN`: the statement's one value, sent as copy data.
    static func copyRows(_ statement: ReplayStatement) -> [UInt8]? { statement.bulkData(keyword: "copy") }

    private func copyIn(_ sql: String, _ rows: [UInt8], index: Int) throws(MirrorFailure) {
        guard let connection else { throw .unavailable("connection closed") }
        do {
            // Chunks of 64 KiB, as a client would send them.
            let chunkSize = 64 << 10
            let chunks = stride(from: 0, to: rows.count, by: chunkSize).lazy.map { Array(rows[$0..<min($0 + chunkSize, rows.count)]) }
            try connection.copyIn(sql, chunks: chunks)
        } catch {
            throw failure(error, statement: index)
        }
    }

    private func execParams(_ sql: String, _ parameters: [ReplayValue], index: Int) throws(MirrorFailure) {
        guard let connection else { throw .unavailable("connection closed") }
        do {
            try connection.query(sql, parameters: parameters.map(Self.parameter))
        } catch {
            throw failure(error, statement: index)
        }
    }

    /// A value as the server receives it: text for numbers and text (the server types it from the statement),
    /// binary for bytes.
    static func parameter(_ value: ReplayValue) -> PostgresParameter {
        switch value {
        case .null: .null
        case .int64(let number): .text(String(number))
        case .double(let number): .text("\(number)")
        case .text(let text): .text(text)
        case .bytes(let bytes): .binary(bytes)
        }
    }
}
