internal import CLibPQ

/// Applies PostgreSQL records to a PostgreSQL mirror through libpq: one `BEGIN … COMMIT` per record,
/// `SET LOCAL search_path` for the statement's schema, `PQexecParams` for records with typed parameters
/// (text format, bytes in binary format).
final class PostgresMirrorSession: MirrorSession {
    private var connection: OpaquePointer?
    private var progressTable: String?

    init(_ p: MirrorConnectionParameters) throws(MirrorFailure) {
        func quote(_ value: String) -> String {
            "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
        }
        let info = "host=\(quote(p.host)) port=\(p.port) user=\(quote(p.user)) password=\(quote(p.password)) "
            + "dbname=\(quote(p.database)) connect_timeout=5 application_name=shadowgate-replay"
        let handle = PQconnectdb(info)
        guard let handle, PQstatus(handle) == CONNECTION_OK else {
            let message = handle.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            PQfinish(handle)
            throw .unavailable("connect to \(p.host):\(p.port) as \(p.user): \(message)")
        }
        connection = handle
        if p.progressTable != nil {
            guard let table = p.quotedProgressTable else {
                throw .rejected(statement: 0, message: "progress table name '\(p.progressTable ?? "")' must be lower-case letters, digits and '_'")
            }
            try exec("CREATE TABLE IF NOT EXISTS \(table) (target TEXT PRIMARY KEY, lsn BIGINT NOT NULL)", statement: -1)
            progressTable = table
        }
    }

    func appliedLSN(target: String) throws(MirrorFailure) -> LSN {
        guard let progressTable, let connection else { return 0 }
        let result = PQexec(connection, "SELECT lsn FROM \(progressTable) WHERE target = \(MirrorConnectionParameters.literal(target))")
        defer { PQclear(result) }
        guard let result, PQresultStatus(result) == PGRES_TUPLES_OK else {
            throw .unavailable(String(cString: PQerrorMessage(connection)).trimmingSuffixNewlines())
        }
        guard PQntuples(result) > 0, let value = PQgetvalue(result, 0, 0) else { return 0 }
        return LSN(String(cString: value)) ?? 0
    }

    deinit { close() }

    func close() {
        if let connection { PQfinish(connection) }
        connection = nil
    }

    private func check(_ result: OpaquePointer?, statement: Int) throws(MirrorFailure) {
        defer { PQclear(result) }
        guard let connection else { throw .unavailable("connection closed") }
        let status = result.map { PQresultStatus($0) } ?? PGRES_FATAL_ERROR
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK { return }
        let message = String(cString: PQerrorMessage(connection)).trimmingSuffixNewlines()
        let sqlState = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) } ?? ""
        if PQstatus(connection) != CONNECTION_OK || sqlState.hasPrefix("08") || sqlState.hasPrefix("57P") {
            throw .unavailable(message)
        }
        throw .rejected(statement: max(statement, 0), message: sqlState.isEmpty ? message : "\(message) (SQLSTATE \(sqlState))")
    }

    private func exec(_ sql: String, statement: Int) throws(MirrorFailure) {
        try check(PQexec(connection, sql), statement: statement)
    }

    func apply(_ record: ReplayRecord) throws(MirrorFailure) {
        do {
            try exec("BEGIN", statement: -1)
            for (index, statement) in record.statements.enumerated() {
                if let schema = statement.context.schema {
                    try exec("SET LOCAL search_path TO \"\(schema.replacingOccurrences(of: "\"", with: "\"\""))\"", statement: index)
                }
                if let parameters = statement.parameters {
                    try execParams(statement.sql, parameters, index: index)
                } else {
                    try exec(statement.sql, statement: index)
                }
            }
            if let progressTable {
                try exec(
                    "INSERT INTO \(progressTable) (target, lsn) VALUES (\(MirrorConnectionParameters.literal(record.target)), \(record.lsn)) "
                        + "ON CONFLICT (target) DO UPDATE SET lsn = EXCLUDED.lsn", statement: record.statements.count - 1)
            }
            try exec("COMMIT", statement: record.statements.count - 1)
        } catch {
            if case .rejected = error { try? exec("ROLLBACK", statement: -1) }
            throw error
        }
    }

    private func execParams(_ sql: String, _ parameters: [ReplayValue], index: Int) throws(MirrorFailure) {
        var values: [UnsafeMutablePointer<CChar>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        defer { for value in values { value?.deallocate() } }
        for parameter in parameters {
            let bytes: [UInt8]?
            var format: Int32 = 0
            switch parameter {
            case .null: bytes = nil
            case .int64(let v): bytes = Array(String(v).utf8)
            case .double(let v): bytes = Array("\(v)".utf8)
            case .text(let v): bytes = Array(v.utf8)
            case .bytes(let v):
                bytes = v
                format = 1
            }
            if let bytes {
                let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
                for (i, byte) in bytes.enumerated() { pointer[i] = CChar(bitPattern: byte) }
                pointer[bytes.count] = 0
                values.append(pointer)
                lengths.append(Int32(bytes.count))
            } else {
                values.append(nil)
                lengths.append(0)
            }
            formats.append(format)
        }
        let result = values.withUnsafeBufferPointer { valuePointers in
            valuePointers.withMemoryRebound(to: UnsafePointer<CChar>?.self) { constValues in
                PQexecParams(connection, sql, Int32(parameters.count), nil, constValues.baseAddress, lengths, formats, 0)
            }
        }
        try check(result, statement: index)
    }
}

extension String {
    func trimmingSuffixNewlines() -> String {
        var result = self
        while result.last == "\n" { result.removeLast() }
        return result
    }
}
