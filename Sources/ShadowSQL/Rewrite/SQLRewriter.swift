/// Rewrites statements for a lane: renames every table reference to its shadow, or refuses.
/// Reuse one instance per connection: its scratch buffers keep their capacity between calls, so a statement
/// that needs no change costs a lex and a walk and allocates nothing.
public struct SQLRewriter: Sendable {
    public let dialect: SQLDialect
    var tokens: [SignificantToken] = []
    var analyzer = StatementAnalyzer()
    var plan = RewritePlan()
    var prepared: PreparedMapping?
    var kinds: [StatementKind] = []
    /// The previous summary's storage, handed out again when the kinds repeat (no allocation).
    var lastKinds: [StatementKind] = []
    /// New spellings chosen for each table reference of the current statement, for qualifier consistency.
    var decisions: [PreparedMapping.Decision] = []

    public init(dialect: SQLDialect) {
        self.dialect = dialect
    }

    /// Rewrites the statements in `sql` for `lane`.
    public mutating func rewrite(_ sql: UnsafeRawBufferPointer, lane: LaneMapping) -> RewriteOutcome {
        // Both passes use the same prepared mapping: comparing the lane's mapping (and copying it) once per pass
        // was a measurable share of a rewritten point select.
        if self.prepared?.source != lane {
            self.prepared = PreparedMapping(lane, dialect: self.dialect)
        }
        let outcome = self.rewriteOnce(sql, lane: lane)
        guard case .rewritten(let output, let summary) = outcome else { return outcome }
        // A renamed statement must read the same as the original: a second pass over the output renames nothing
        // more. A statement the analyser misreads (garbage around a keyword, found by fuzzing) tends to read
        // differently once a name next to it has changed, so a table the first reading missed shows up here;
        // refusing is safer than guessing which reading the server would take. (A second pass that is refused or
        // unchanged proves nothing either way: a policy may reject the shadow names themselves.)
        let again = output.withUnsafeBytes { self.rewriteOnce($0, lane: lane) }
        if case .rewritten(let twice, _) = again, twice != output {
            return .refused(
                self.refusal(lane, nil, .unanalysable,
                    "the statement reads differently once its tables are renamed, so it cannot be analysed safely"))
        }
        return .rewritten(output, summary)
    }

    private mutating func rewriteOnce(_ sql: UnsafeRawBufferPointer, lane: LaneMapping) -> RewriteOutcome {
        guard let mapping = self.prepared else { return .unchanged(StatementSummary(kinds: [])) }
        let findings = SignificantTokens.collect(sql, dialect: self.dialect, into: &self.tokens)
        self.plan.removeAll()
        self.kinds.removeAll(keepingCapacity: true)
        let text = IdentifierText(bytes: sql, dialect: self.dialect, caseSensitive: lane.caseSensitiveNames)
        if findings.contains(.unterminated) {
            return .refused(
                self.refusal(lane, nil, .unanalysable,
                    "the statement has an unterminated string, quoted name or comment and cannot be analysed"))
        }
        if findings.contains(.executableComment) {
            // Whether the server runs a `/*! … */` or skips it (quotes inside and all) depends on its version and
            // flavour (MariaDB skips /*!50700…/*!99999, runs only an upper-case /*M!), and a /*! nested in one
            // ends it early: text the lane reads as SQL may be a comment to the server, or the reverse.
            return .refused(
                self.refusal(lane, nil, .unanalysable,
                    "the statement has an executable comment (/*! … */ or /*M! … */), which the server may run or skip depending on its version; send the statement without it"))
        }
        var start = 0
        var index = 0
        while index <= self.tokens.count {
            if index == self.tokens.count || self.tokens[index].kind == .semicolon {
                if index > start {
                    self.analyzer.analyze(self.tokens, range: start..<index, text: text)
                    self.kinds.append(self.analyzer.result.kind)
                    if let refusal = self.plan(statement: self.analyzer.result, mapping: mapping, text: text) {
                        return .refused(refusal)
                    }
                }
                start = index + 1
            }
            index += 1
        }
        if self.kinds != self.lastKinds { self.lastKinds = self.kinds }
        let summary = StatementSummary(kinds: self.lastKinds)
        if self.plan.isEmpty { return .unchanged(summary) }
        guard let output = self.plan.apply(to: sql) else {
            return .refused(self.refusal(lane, nil, .unanalysable, "overlapping table references could not be rewritten"))
        }
        return .rewritten(output, summary)
    }

    /// Convenience over byte arrays.
    public mutating func rewrite(_ sql: [UInt8], lane: LaneMapping) -> RewriteOutcome {
        sql.withUnsafeBytes { self.rewrite($0, lane: lane) }
    }

    /// Convenience over strings (tests, CLI).
    public mutating func rewrite(_ sql: String, lane: LaneMapping) -> RewriteOutcome {
        self.rewrite(Array(sql.utf8), lane: lane)
    }

    func refusal(_ lane: LaneMapping, _ table: String?, _ rule: Refusal.Rule, _ detail: String) -> Refusal {
        Refusal(lane: lane.lane, table: table, rule: rule, message: "lane '\(lane.lane)': \(detail)")
    }
}
