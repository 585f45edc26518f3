internal import CMariaDB

/// A server-side prepared statement (COM_STMT_PREPARE / EXECUTE / CLOSE) on a `MariaDBConnection`.
///
/// Parameters travel in the binary protocol with their own types (see `DatabaseValue`); result cells come back
/// converted to text by libmariadb, as bytes, so BLOBs round-trip exactly. Same threading rules as its connection.
/// The statement keeps its connection alive; `close()` (or deinit) deallocates it on the server.
public final class MariaDBStatement {
    /// The connection the statement belongs to.
    public let connection: MariaDBConnection
    /// The SQL text that was prepared.
    public let sql: String
    private var statement: UnsafeMutablePointer<MYSQL_STMT>?

    init(connection: MariaDBConnection, handle: UnsafeMutablePointer<MYSQL>, sql: String) throws {
        self.connection = connection
        self.sql = sql
        let context = "prepare on MariaDB \(connection.configuration.endpoint)"
        guard let statement = mysql_stmt_init(handle) else {
            throw MariaDBConnection.error(from: handle, code: .statementFailed, context: context)
        }
        let bytes = Array(sql.utf8)
        let rc = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { mysql_stmt_prepare(statement, $0.baseAddress, UInt($0.count)) }
        }
        if rc != 0 {
            let error = Self.error(from: statement, context: context)
            mysql_stmt_close(statement)
            throw error
        }
        self.statement = statement
    }

    deinit {
        if let statement { mysql_stmt_close(statement) }
    }

    /// Deallocates the statement on the server (COM_STMT_CLOSE). Safe to call more than once.
    public func close() {
        if let statement { mysql_stmt_close(statement) }
        statement = nil
    }

    /// How many `?` parameters the server found in the statement.
    public var parameterCount: Int {
        statement.map { Int(mysql_stmt_param_count($0)) } ?? 0
    }

    /// The server's id for this statement (what COM_STMT_EXECUTE carries on the wire).
    public var statementID: UInt64 {
        statement.map { UInt64($0.pointee.stmt_id) } ?? 0
    }

    /// Executes with the given parameters (one per `?`, in order) and returns the result: rows for a query,
    /// otherwise affected rows, last insert id and warnings.
    @discardableResult
    public func execute(params: [DatabaseValue] = []) throws -> QueryResult {
        let context = "execute of prepared statement on MariaDB \(connection.configuration.endpoint)"
        guard let statement else {
            throw DatabaseClientError(code: .connectionClosed, message: "the statement was closed", context: context)
        }
        guard params.count == parameterCount else {
            throw DatabaseClientError(
                code: .invalidArgument,
                message: "statement has \(parameterCount) parameter(s) but \(params.count) value(s) were given",
                context: context)
        }
        let bindings = ParameterBindings(params)
        defer { bindings.deallocate() }
        if !params.isEmpty, mysql_stmt_bind_param(statement, bindings.binds) != 0 {
            throw Self.error(from: statement, context: context)
        }
        if mysql_stmt_execute(statement) != 0 { throw Self.error(from: statement, context: context) }
        defer { mysql_stmt_free_result(statement) }
        guard let metadata = mysql_stmt_result_metadata(statement) else {
            if mysql_stmt_errno(statement) != 0 { throw Self.error(from: statement, context: context) }
            return QueryResult(
                affectedRows: UInt64(mysql_stmt_affected_rows(statement)),
                lastInsertID: UInt64(mysql_stmt_insert_id(statement)),
                warnings: Int(mysql_stmt_warning_count(statement)))
        }
        defer { mysql_free_result(metadata) }
        return try fetchRows(statement, metadata: metadata, context: context)
    }

    /// Fetches every row, each cell converted to text (bytes) by libmariadb; long cells are fetched whole
    /// with `mysql_stmt_fetch_column` after the first pass reports their length.
    private func fetchRows(
        _ statement: UnsafeMutablePointer<MYSQL_STMT>, metadata: UnsafeMutablePointer<MYSQL_RES>, context: String
    ) throws -> QueryResult {
        let count = Int(mysql_num_fields(metadata))
        var columns: [String] = []
        if let fields = mysql_fetch_fields(metadata) {
            columns = (0..<count).map { String(cString: fields[$0].name) }
        }
        let cells = ResultBindings(columnCount: count)
        defer { cells.deallocate() }
        if count > 0, mysql_stmt_bind_result(statement, cells.binds) != 0 {
            throw Self.error(from: statement, context: context)
        }
        var rows: [[[UInt8]?]] = []
        while true {
            let rc = mysql_stmt_fetch(statement)
            if rc == MYSQL_NO_DATA { break }
            if rc != 0 && rc != MYSQL_DATA_TRUNCATED { throw Self.error(from: statement, context: context) }
            var row: [[UInt8]?] = []
            row.reserveCapacity(count)
            for index in 0..<count {
                row.append(try cells.value(at: index, statement: statement, context: context))
            }
            rows.append(row)
        }
        return QueryResult(columns: columns, rawRows: rows, affectedRows: UInt64(rows.count),
                           warnings: Int(mysql_stmt_warning_count(statement)))
    }

    /// The error libmariadb recorded on the statement.
    static func error(from statement: UnsafeMutablePointer<MYSQL_STMT>, context: String) -> DatabaseClientError {
        let number = Int(mysql_stmt_errno(statement))
        return DatabaseClientError(
            code: .statementFailed,
            message: String(cString: mysql_stmt_error(statement)),
            context: context,
            sqlState: String(cString: mysql_stmt_sqlstate(statement)),
            serverErrorNumber: number == 0 ? nil : number)
    }
}
