import DatabaseClients

/// Applies PostgreSQL records to a PostgreSQL mirror through the libpq wrapper: one `BEGIN … COMMIT` per batch of
/// records, `SET LOCAL search_path` whenever the statement's schema differs from the one before it, `PQexecParams` for records with typed parameters
/// (text format, bytes in binary format).
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
        let lastIndex = last.statements.count - 1
        do {
            try exec("BEGIN", statement: -1)
            // The schema in force inside this transaction: nil is the session's own search_path.
            var schemaInForce: String? = nil
            for record in records {
                for (index, statement) in record.statements.enumerated() {
                    if statement.context.schema != schemaInForce {
                        let target = statement.context.schema.map { "\"\($0.replacingOccurrences(of: "\"", with: "\"\""))\"" } ?? "DEFAULT"
                        try exec("SET LOCAL search_path TO \(target)", statement: index)
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
        let values = parameters.map { parameter -> PostgresParameter in
            switch parameter {
            case .null: .null
            case .int64(let value): .text(String(value))
            case .double(let value): .text("\(value)")
            case .text(let value): .text(value)
            case .bytes(let value): .binary(value)
            }
        }
        do {
            try connection.query(sql, parameters: values)
        } catch {
            throw failure(error, statement: index)
        }
    }
}
