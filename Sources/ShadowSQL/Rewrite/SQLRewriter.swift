/// Rewrites statements for a lane: renames every table reference to its shadow, or refuses.
/// Reuse one instance per connection: its scratch buffers keep their capacity between calls, so a statement
/// that needs no change costs a lex and a walk and allocates nothing, and a statement whose shape (everything but
/// its literal values) was seen recently costs a lex and a lookup (``RewriteShapeCache``).
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
    /// Statement shapes rewritten before, and the key of the current statement (see ``RewriteShapeCache``).
    var shapes = RewriteShapeCache()
    var shapeKey: [UInt8] = []
    /// Whether an unqualified PostgreSQL call reaches pg_catalog before any user schema (true unless the session's
    /// search_path names pg_catalog after another schema). When false, a catalogue name may be a user function of
    /// the same name, and a lane calls it only when `routines` allows it. Remembered shapes are forgotten on a change.
    public var catalogSearchedFirst = true {
        didSet { if self.catalogSearchedFirst != oldValue { self.shapes.removeAll() } }
    }

    public init(dialect: SQLDialect) {
        self.dialect = dialect
    }

    /// Rewrites the statements in `sql` for `lane`.
    public mutating func rewrite(_ sql: UnsafeRawBufferPointer, lane: LaneMapping) -> RewriteOutcome {
        // Both passes use the same prepared mapping: comparing the lane's mapping (and copying it) once per pass
        // was a measurable share of a rewritten point select.
        if self.prepared?.source != lane {
            self.prepared = PreparedMapping(lane, dialect: self.dialect)
            self.shapes.removeAll()
        }
        let findings = SignificantTokens.collect(sql, dialect: self.dialect, into: &self.tokens, keywords: false)
        if let refusal = self.lexingRefusal(findings, lane: lane) { return .refused(refusal) }
        let hash = RewriteShapeCache.key(of: self.tokens, in: sql, into: &self.shapeKey)
        if let hash, let entry = self.shapes.lookup(self.shapeKey, hash: hash) {
            return self.replay(entry, on: sql, lane: lane)
        }
        SignificantTokens.resolveKeywords(&self.tokens, in: sql)
        let outcome = self.analyseTokens(sql, lane: lane)
        switch outcome {
        case .refused:
            return outcome
        case .unchanged(let summary):
            if let hash { self.shapes.store(key: self.shapeKey, hash: hash, edits: [], kinds: summary.kinds) }
            return outcome
        case .rewritten(let output, let summary):
            let edits = self.plan.tokenEdits
            let complete = edits.count == self.plan.edits.count
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
            // Remembered only once the second pass agreed: it then holds for every statement of this shape.
            if let hash, complete { self.shapes.store(key: self.shapeKey, hash: hash, edits: edits, kinds: summary.kinds) }
            return outcome
        }
    }

    /// The outcome for a statement of a shape seen before: the remembered edits at this statement's token positions.
    private mutating func replay(_ entry: Int, on sql: UnsafeRawBufferPointer, lane: LaneMapping) -> RewriteOutcome {
        let summary = StatementSummary(kinds: self.shapes.entries[entry].kinds)
        if self.shapes.entries[entry].edits.isEmpty { return .unchanged(summary) }
        self.plan.removeAll()
        for edit in self.shapes.entries[entry].edits {
            let token = self.tokens[edit.token]
            self.plan.replace(token.start, edit.insertBefore ? token.start : token.end, with: edit.replacement)
        }
        guard let output = self.plan.apply(to: sql) else {
            return .refused(self.refusal(lane, nil, .unanalysable, "overlapping table references could not be rewritten"))
        }
        return .rewritten(output, summary)
    }

    private mutating func rewriteOnce(_ sql: UnsafeRawBufferPointer, lane: LaneMapping) -> RewriteOutcome {
        let findings = SignificantTokens.collect(sql, dialect: self.dialect, into: &self.tokens)
        if let refusal = self.lexingRefusal(findings, lane: lane) { return .refused(refusal) }
        return self.analyseTokens(sql, lane: lane)
    }

    /// What the lexer alone says is unsafe to analyse.
    private func lexingRefusal(_ findings: SignificantTokens.Findings, lane: LaneMapping) -> Refusal? {
        if findings.contains(.unterminated) {
            return self.refusal(lane, nil, .unanalysable,
                "the statement has an unterminated string, quoted name or comment and cannot be analysed")
        }
        if findings.contains(.executableComment) {
            // Whether the server runs a `/*! … */` or skips it (quotes inside and all) depends on its version and
            // flavour (MariaDB skips /*!50700…/*!99999, runs only an upper-case /*M!), and a /*! nested in one
            // ends it early: text the lane reads as SQL may be a comment to the server, or the reverse.
            return self.refusal(lane, nil, .unanalysable,
                "the statement has an executable comment (/*! … */ or /*M! … */), which the server may run or skip depending on its version; send the statement without it")
        }
        return nil
    }

    /// Analyses and plans the statements of `self.tokens`, lexed from `sql`.
    private mutating func analyseTokens(_ sql: UnsafeRawBufferPointer, lane: LaneMapping) -> RewriteOutcome {
        guard let mapping = self.prepared else { return .unchanged(StatementSummary(kinds: [])) }
        self.plan.removeAll()
        self.kinds.removeAll(keepingCapacity: true)
        let text = IdentifierText(bytes: sql, dialect: self.dialect, caseSensitive: lane.caseSensitiveNames)
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
