internal import CLibPQ

extension PostgresConnection {
    /// Runs one statement with the extended protocol (`PQexecParams`): `$1`, `$2`… take `params` as text,
    /// `nil` is NULL. Results come back as text.
    @discardableResult
    public func query(_ sql: String, params: [String?] = []) throws -> QueryResult {
        let connection = try live(for: "query")
        let result = withCStrings(params) { values in
            PQexecParams(connection, sql, Int32(params.count), nil, values, nil, nil, 0)
        }
        return try consume(result, context: "query on PostgreSQL \(endpoint)")
    }

    /// Runs a simple-protocol query (`PQexec`): the text may hold several statements; returns the last result
    /// (as psql does). Use `simpleQueryAll` for every result.
    @discardableResult
    public func simpleQuery(_ sql: String) throws -> QueryResult {
        let connection = try live(for: "simple query")
        return try consume(PQexec(connection, sql), context: "simple query on PostgreSQL \(endpoint)")
    }

    /// Runs a simple-protocol query and returns one result per statement, in order. The first error is thrown
    /// after the connection has read everything the server sent, so it stays usable.
    public func simpleQueryAll(_ sql: String) throws -> [QueryResult] {
        let connection = try live(for: "simple query")
        let context = "simple query on PostgreSQL \(endpoint)"
        guard PQsendQuery(connection, sql) == 1 else { throw connectionError(.queryFailed, context: context) }
        var results: [QueryResult] = []
        var firstError: DatabaseClientError?
        while let result = PQgetResult(connection) {
            do {
                results.append(try consume(result, context: context))
            } catch let error as DatabaseClientError {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
        return results
    }

    /// Runs a statement that returns no rows and returns its affected-row count.
    @discardableResult
    public func execute(_ sql: String, params: [String?] = []) throws -> UInt64 {
        try query(sql, params: params).affectedRows
    }

    /// Prepares a named statement (Parse). `parameterCount` parameters get types inferred by the server.
    public func prepare(name: String, sql: String) throws {
        let connection = try live(for: "prepare")
        _ = try consume(PQprepare(connection, name, sql, 0, nil),
                        context: "prepare of '\(name)' on PostgreSQL \(endpoint)")
    }

    /// Executes a named prepared statement (Bind/Execute) with text parameters.
    @discardableResult
    public func executePrepared(name: String, params: [String?] = []) throws -> QueryResult {
        let connection = try live(for: "execute prepared")
        let result = withCStrings(params) { values in
            PQexecPrepared(connection, name, Int32(params.count), values, nil, nil, 0)
        }
        return try consume(result, context: "execute of '\(name)' on PostgreSQL \(endpoint)")
    }

    /// Turns a `PGresult` into a `QueryResult` (or the error it carries) and frees it.
    func consume(_ result: OpaquePointer?, context: String) throws -> QueryResult {
        guard let result else {
            let connection = try live(for: "result")
            throw connectionError(.queryFailed, context: context, connection: connection)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY, PGRES_TUPLES_OK, PGRES_SINGLE_TUPLE:
            return Self.queryResult(result)
        case PGRES_PIPELINE_ABORTED:
            throw DatabaseClientError(code: .pipelineFailed,
                                      message: "not run: an earlier statement in the pipeline failed",
                                      context: context)
        default:
            throw Self.resultError(result, code: .queryFailed, context: context)
        }
    }

    /// Copies the columns, rows and command tag out of a successful result.
    static func queryResult(_ result: OpaquePointer) -> QueryResult {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        let columns = (0..<columnCount).map { index in
            PQfname(result, Int32(index)).map { String(cString: $0) } ?? ""
        }
        var rows: [[[UInt8]?]] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<Int32(rowCount) {
            rows.append((0..<Int32(columnCount)).map { column -> [UInt8]? in
                if PQgetisnull(result, row, column) == 1 { return nil }
                guard let value = PQgetvalue(result, row, column) else { return [] }
                return Array(UnsafeRawBufferPointer(start: value, count: Int(PQgetlength(result, row, column))))
            })
        }
        let tag = PQcmdStatus(result).map { String(cString: $0) }
        let affected = PQcmdTuples(result).flatMap { UInt64(String(cString: $0)) } ?? 0
        return QueryResult(columns: columns, rawRows: rows, affectedRows: affected,
                           commandTag: tag?.isEmpty == true ? nil : tag)
    }

    /// The error a failed result carries: primary message, SQLSTATE, and detail/hint when present.
    static func resultError(
        _ result: OpaquePointer, code: DatabaseClientError.Code, context: String
    ) -> DatabaseClientError {
        var message = errorField(result, "M") ?? trimmed(PQresultErrorMessage(result))
        if message.isEmpty {
            message = "unexpected result status \(String(cString: PQresStatus(PQresultStatus(result))))"
        }
        if let detail = errorField(result, "D") { message += " — detail: \(detail)" }
        if let hint = errorField(result, "H") { message += " — hint: \(hint)" }
        return DatabaseClientError(code: code, message: message, context: context, sqlState: errorField(result, "C"))
    }

    /// One field of an ErrorResponse/NoticeResponse (`C` SQLSTATE, `M` message, `D` detail, `H` hint, `V` severity).
    static func errorField(_ result: OpaquePointer, _ field: Unicode.Scalar) -> String? {
        guard let value = PQresultErrorField(result, Int32(field.value)) else { return nil }
        return String(cString: value)
    }

    /// The connection-level error libpq recorded (`PQerrorMessage`).
    func connectionError(
        _ code: DatabaseClientError.Code, context: String, connection: OpaquePointer? = nil
    ) -> DatabaseClientError {
        DatabaseClientError(code: code, message: Self.trimmed(PQerrorMessage(connection ?? self.connection)),
                            context: context)
    }
}
