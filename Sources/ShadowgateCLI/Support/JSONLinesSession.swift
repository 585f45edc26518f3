import ShadowSQL

/// The `rewrite --jsonl` loop: one JSON object in, one JSON object out, in order, flushed per line so a
/// driving process can interleave requests and answers. A bad line answers with an error and the loop goes on.
struct JSONLinesSession {
    let defaultLane: String?
    let defaultDialect: SQLDialect?

    func run(rewriter: inout LaneStatementRewriter, io: CommandIO) {
        var lineNumber = 0
        while let line = io.readLine() {
            lineNumber += 1
            io.write(answer(line, number: lineNumber, rewriter: &rewriter))
            io.flush()
        }
    }

    func answer(_ line: String, number: Int, rewriter: inout LaneStatementRewriter) -> String {
        let fields: [String: JSONScalar]
        do {
            fields = try JSONLineParser.parseObject(line)
        } catch {
            return JSONLineEncoder.line([("id", .null), ("error", .string("line \(number): malformed JSON: \(error.message)"))])
        }
        let id = fields["id"] ?? .null
        func failure(_ message: String) -> String {
            JSONLineEncoder.line([("id", id), ("error", .string(message))])
        }
        if case .bool = id { return failure("\"id\" must be a string, a number or null") }
        guard case .string(let sql)? = fields["sql"] else { return failure("\"sql\" must be a string") }

        let lane: String
        switch fields["lane"] {
        case .string(let value)?: lane = value
        case nil, .null?:
            guard let defaultLane else { return failure("no \"lane\" on the line and no --lane default") }
            lane = defaultLane
        default: return failure("\"lane\" must be a string")
        }

        let dialect: SQLDialect
        switch fields["dialect"] {
        case .string(let value)?:
            guard let parsed = SQLDialect(rawValue: value) else {
                return failure("\"dialect\" must be mysql or postgres, found '\(value)'")
            }
            dialect = parsed
        case nil, .null?:
            guard let defaultDialect else { return failure("no \"dialect\" on the line and no --dialect default") }
            dialect = defaultDialect
        default: return failure("\"dialect\" must be a string")
        }

        switch rewriter.rewrite(sql, lane: lane, dialect: dialect) {
        case .statement(let text): return JSONLineEncoder.line([("id", id), ("sql", .string(text))])
        case .refused(let refusal): return failure(refusal.message)
        case .unknownLane(let message): return failure(message)
        }
    }
}
