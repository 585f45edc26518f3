internal import CLibPQ

extension PostgresConnection {
    /// Runs `COPY … FROM STDIN` and sends `chunks` as CopyData (any split; rows need not align with chunks),
    /// then CopyDone. Returns the final result (`COPY n`, with `affectedRows` = n).
    @discardableResult
    public func copyIn(_ sql: String, chunks: some Sequence<[UInt8]>) throws -> QueryResult {
        let connection = try live(for: "COPY FROM STDIN")
        let context = "COPY FROM STDIN on PostgreSQL \(endpoint)"
        try expectCopyStart(PQexec(connection, sql), status: PGRES_COPY_IN, context: context)
        var failure: DatabaseClientError?
        for chunk in chunks {
            let sent = chunk.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { PQputCopyData(connection, $0.baseAddress, Int32($0.count)) }
            }
            if sent != 1 {
                failure = connectionError(.copyFailed, context: context)
                break
            }
        }
        // Always end the COPY, so the connection returns to idle even when sending failed.
        let endMessage: String? = failure == nil ? nil : "client stopped sending COPY data"
        if PQputCopyEnd(connection, endMessage) != 1 { throw connectionError(.copyFailed, context: context) }
        var outcome: Result<QueryResult, any Error> = .success(QueryResult())
        var first = true
        while let result = PQgetResult(connection) {
            let converted = Result { try consume(result, context: context) }
            if first { outcome = converted }
            first = false
        }
        if let failure { throw failure }
        return try outcome.get()
    }

    /// `copyIn` with text data (e.g. tab-separated lines ending in `\n`).
    @discardableResult
    public func copyIn(_ sql: String, text: String) throws -> QueryResult {
        try copyIn(sql, chunks: [Array(text.utf8)])
    }

    /// Runs `COPY … TO STDOUT` and hands each CopyData message to `receive` as it arrives (one row each in
    /// text format), so a large table streams without being held in memory. Returns the final result.
    @discardableResult
    public func copyOut(_ sql: String, receive: ([UInt8]) throws -> Void) throws -> QueryResult {
        let connection = try live(for: "COPY TO STDOUT")
        let context = "COPY TO STDOUT on PostgreSQL \(endpoint)"
        try expectCopyStart(PQexec(connection, sql), status: PGRES_COPY_OUT, context: context)
        var receiveError: (any Error)?
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(connection, &buffer, 0)
            if length == -1 { break }  // CopyDone: the final result follows.
            if length < -1 { throw connectionError(.copyFailed, context: context) }
            guard let buffer else { continue }
            defer { PQfreemem(buffer) }
            if receiveError == nil {
                do {
                    try receive(Array(UnsafeRawBufferPointer(start: buffer, count: Int(length))))
                } catch {
                    // Keep reading so the connection ends up idle; report the receiver's error afterwards.
                    receiveError = error
                }
            }
        }
        var outcome: Result<QueryResult, any Error> = .success(QueryResult())
        var first = true
        while let result = PQgetResult(connection) {
            let converted = Result { try consume(result, context: context) }
            if first { outcome = converted }
            first = false
        }
        if let receiveError { throw receiveError }
        return try outcome.get()
    }

    /// Runs `COPY … TO STDOUT` and returns all the data it produced.
    public func copyOut(_ sql: String) throws -> [UInt8] {
        var data: [UInt8] = []
        try copyOut(sql) { data.append(contentsOf: $0) }
        return data
    }

    /// Checks that a COPY started; otherwise throws the server's error (and reads to the end of the command).
    private func expectCopyStart(_ result: OpaquePointer?, status: ExecStatusType, context: String) throws {
        guard let result else { throw connectionError(.copyFailed, context: context) }
        if PQresultStatus(result) == status {
            PQclear(result)
            return
        }
        let error = PQresultStatus(result) == PGRES_FATAL_ERROR
            ? Self.resultError(result, code: .copyFailed, context: context)
            : DatabaseClientError(code: .copyFailed, message: "the statement did not start a COPY in that direction",
                                  context: context)
        PQclear(result)
        throw error
    }
}
