internal import CMariaDB

#if canImport(Glibc)
import Glibc
#endif

/// Applies MySQL records to a MariaDB/MySQL mirror through libmariadb: `SET INSERT_ID`, `LAST_INSERT_ID` and
/// `TIMESTAMP` before each statement so auto-increment values and `NOW()` match the primary, `USE` for the
/// statement's database, server-side prepared statements for records that carry typed parameters.
final class MariaDBMirrorSession: MirrorSession {
    private var connection: UnsafeMutablePointer<MYSQL>?
    private var currentSchema: String?
    private var progressTable: String?

    init(_ p: MirrorConnectionParameters) throws(MirrorFailure) {
        guard let handle = mysql_init(nil) else { throw .unavailable("mysql_init failed (out of memory)") }
        var timeout: UInt32 = 5
        mysql_options(handle, MYSQL_OPT_CONNECT_TIMEOUT, &timeout)
        guard mysql_real_connect(handle, p.host, p.user, p.password, p.database, UInt32(p.port), nil, 0) != nil else {
            let message = String(cString: mysql_error(handle))
            mysql_close(handle)
            throw .unavailable("connect to \(p.host):\(p.port) as \(p.user): \(message)")
        }
        connection = handle
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
        guard let progressTable, let connection else { return 0 }
        try query("COMMIT", statement: -1)  // read the latest committed value, not an old snapshot
        let sql = Array("SELECT lsn FROM \(progressTable) WHERE target = \(MirrorConnectionParameters.literal(target))".utf8)
        let rc = sql.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { mysql_real_query(connection, $0.baseAddress, UInt($0.count)) }
        }
        guard rc == 0 else { throw failure(statement: -1) }
        guard let result = mysql_store_result(connection) else { return 0 }
        defer { mysql_free_result(result) }
        guard let row = mysql_fetch_row(result), let value = row[0] else { return 0 }
        return LSN(String(cString: value)) ?? 0
    }

    deinit { close() }

    func close() {
        if let connection { mysql_close(connection) }
        connection = nil
    }

    private func failure(statement: Int) -> MirrorFailure {
        guard let connection else { return .unavailable("connection closed") }
        let code = mysql_errno(connection)
        let message = "\(String(cString: mysql_error(connection))) (error \(code))"
        // 2xxx are client-side errors: lost connection, server gone away, cannot connect.
        return (2000..<3000).contains(code) ? .unavailable(message) : .rejected(statement: max(statement, 0), message: message)
    }

    private func query(_ sql: String, statement: Int) throws(MirrorFailure) {
        guard let connection else { throw .unavailable("connection closed") }
        let utf8 = Array(sql.utf8)
        let rc = utf8.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { mysql_real_query(connection, $0.baseAddress, UInt($0.count)) }
        }
        guard rc == 0 else { throw failure(statement: statement) }
        if let result = mysql_store_result(connection) { mysql_free_result(result) }
    }

    func apply(_ record: ReplayRecord) throws(MirrorFailure) {
        do {
            for (index, statement) in record.statements.enumerated() {
                try prepareContext(statement.context, index: index)
                if let parameters = statement.parameters {
                    try executePrepared(statement.sql, parameters, index: index)
                } else {
                    try query(statement.sql, statement: index)
                }
            }
            if let progressTable {
                try query(
                    "INSERT INTO \(progressTable) (target, lsn) VALUES (\(MirrorConnectionParameters.literal(record.target)), \(record.lsn)) "
                        + "ON DUPLICATE KEY UPDATE lsn = VALUES(lsn)", statement: record.statements.count - 1)
            }
            try query("COMMIT", statement: record.statements.count - 1)
        } catch {
            if case .rejected = error { try? query("ROLLBACK", statement: -1) }
            throw error
        }
    }

    private func prepareContext(_ context: ReplayContext, index: Int) throws(MirrorFailure) {
        if let schema = context.schema, schema != currentSchema {
            try query("USE `\(schema.replacingOccurrences(of: "`", with: "``"))`", statement: index)
            currentSchema = schema
        }
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
        try query("SET " + assignments.joined(separator: ", "), statement: index)
    }

    private func executePrepared(_ sql: String, _ parameters: [ReplayValue], index: Int) throws(MirrorFailure) {
        guard let connection, let statement = mysql_stmt_init(connection) else { throw .unavailable("mysql_stmt_init failed") }
        defer { mysql_stmt_close(statement) }
        func stmtFailure() -> MirrorFailure {
            let code = mysql_stmt_errno(statement)
            let message = "\(String(cString: mysql_stmt_error(statement))) (error \(code))"
            return (2000..<3000).contains(code) ? .unavailable(message) : .rejected(statement: index, message: message)
        }
        let utf8 = Array(sql.utf8)
        let prepared = utf8.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { mysql_stmt_prepare(statement, $0.baseAddress, UInt($0.count)) }
        }
        guard prepared == 0 else { throw stmtFailure() }
        guard mysql_stmt_param_count(statement) == UInt(parameters.count) else {
            throw .rejected(
                statement: index,
                message: "statement has \(mysql_stmt_param_count(statement)) placeholders, record has \(parameters.count) values")
        }
        var binds = [MYSQL_BIND](repeating: MYSQL_BIND(), count: parameters.count)
        var storage: [UnsafeMutableRawPointer] = []
        defer { for pointer in storage { pointer.deallocate() } }
        for (i, value) in parameters.enumerated() {
            func store(_ bytes: [UInt8], type: enum_field_types) {
                let pointer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 8)
                bytes.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(pointer), byteCount: bytes.count) }
                storage.append(pointer)
                binds[i].buffer = pointer
                binds[i].buffer_length = UInt(bytes.count)
                binds[i].length_value = UInt(bytes.count)
                binds[i].buffer_type = type
            }
            switch value {
            case .null:
                binds[i].buffer_type = MYSQL_TYPE_NULL
                binds[i].is_null_value = 1
            case .int64(let v):
                store(withUnsafeBytes(of: v) { Array($0) }, type: MYSQL_TYPE_LONGLONG)
            case .double(let v):
                store(withUnsafeBytes(of: v) { Array($0) }, type: MYSQL_TYPE_DOUBLE)
            case .text(let v):
                store(Array(v.utf8), type: MYSQL_TYPE_STRING)
            case .bytes(let v):
                store(v, type: MYSQL_TYPE_BLOB)
            }
        }
        let bound = binds.withUnsafeMutableBufferPointer { mysql_stmt_bind_param(statement, $0.baseAddress) }
        guard bound == 0 else { throw stmtFailure() }
        guard mysql_stmt_execute(statement) == 0 else { throw stmtFailure() }
    }
}
