internal import CLibPQ

/// One statement sent in pipeline mode.
public enum PostgresPipelineStep: Sendable, Equatable {
    /// Parse/Bind/Execute of an unnamed statement with text parameters (`PQsendQueryParams`).
    case query(String, params: [String?] = [])
    /// Parse of a named statement (`PQsendPrepare`).
    case prepare(name: String, sql: String)
    /// Bind/Execute of a named statement (`PQsendQueryPrepared`).
    case executePrepared(name: String, params: [String?] = [])
    /// Parse/Bind/Execute of an unnamed statement with text and binary parameters (`PQsendQueryParams`).
    case queryParameters(String, [PostgresParameter])
}

extension PostgresConnection {
    /// Sends every step without waiting (pipeline mode), then one Sync, then reads the results in order.
    ///
    /// Returns one outcome per step: after a failing step the server skips the rest until the Sync, so those
    /// steps fail with `pipelineFailed`. The connection leaves pipeline mode before returning.
    public func pipeline(_ steps: [PostgresPipelineStep]) throws -> [Result<QueryResult, DatabaseClientError>] {
        let connection = try live(for: "pipeline")
        let context = "pipeline on PostgreSQL \(endpoint)"
        guard PQenterPipelineMode(connection) == 1 else {
            throw connectionError(.pipelineFailed, context: context)
        }
        defer { leavePipeline(connection) }
        for (index, step) in steps.enumerated() where send(step, on: connection) != 1 {
            throw connectionError(.pipelineFailed, context: "\(context), sending step \(index + 1)")
        }
        guard PQpipelineSync(connection) == 1 else { throw connectionError(.pipelineFailed, context: context) }
        var outcomes: [Result<QueryResult, DatabaseClientError>] = []
        for index in steps.indices {
            let stepContext = "\(context), step \(index + 1)"
            guard let result = PQgetResult(connection) else {
                throw connectionError(.pipelineFailed, context: stepContext)
            }
            do {
                outcomes.append(.success(try consume(result, context: stepContext)))
            } catch let error as DatabaseClientError {
                outcomes.append(.failure(error))
            }
            // Each step's results end with a NULL from PQgetResult.
            while let extra = PQgetResult(connection) { PQclear(extra) }
        }
        guard let sync = PQgetResult(connection) else { throw connectionError(.pipelineFailed, context: context) }
        defer { PQclear(sync) }
        guard PQresultStatus(sync) == PGRES_PIPELINE_SYNC else {
            throw Self.resultError(sync, code: .pipelineFailed, context: "\(context), waiting for Sync")
        }
        return outcomes
    }

    private func send(_ step: PostgresPipelineStep, on connection: OpaquePointer) -> Int32 {
        switch step {
        case .query(let sql, let params):
            return withCStrings(params) { values in
                PQsendQueryParams(connection, sql, Int32(params.count), nil, values, nil, nil, 0)
            }
        case .prepare(let name, let sql):
            return PQsendPrepare(connection, name, sql, 0, nil)
        case .executePrepared(let name, let params):
            return withCStrings(params) { values in
                PQsendQueryPrepared(connection, name, Int32(params.count), values, nil, nil, 0)
            }
        case .queryParameters(let sql, let parameters):
            return Self.withParameterArrays(parameters) { values, lengths, formats in
                PQsendQueryParams(connection, sql, Int32(parameters.count), nil, values, lengths, formats, 0)
            }
        }
    }

    /// Leaves pipeline mode. After an early throw results may still be pending: send a Sync (harmless if one
    /// was sent) and read up to it, so libpq lets the connection leave pipeline mode.
    private func leavePipeline(_ connection: OpaquePointer) {
        if PQexitPipelineMode(connection) == 1 { return }
        guard PQstatus(connection) == CONNECTION_OK, PQpipelineSync(connection) == 1 else { return }
        var syncs = 0
        var nulls = 0
        // Two Syncs may be outstanding (ours and the caller's); stop after both or when libpq agrees.
        while PQexitPipelineMode(connection) != 1, syncs < 2, nulls < 10_000 {
            guard let pending = PQgetResult(connection) else {
                nulls += 1
                continue
            }
            if PQresultStatus(pending) == PGRES_PIPELINE_SYNC { syncs += 1 }
            PQclear(pending)
        }
    }
}
