/// Finds the table references of one statement by walking its significant tokens with an explicit stack of
/// parenthesis frames (no recursion, so a megabyte of nested parentheses cannot overflow the call stack).
///
/// It is a keyword-driven reader, not a full parser: it recognises the places where SQL names tables
/// (`FROM`, `JOIN`, `INTO`, `UPDATE`, `TABLE`, `REFERENCES`, …), the aliases and CTE names declared there, and
/// the `t.col` qualifiers that refer back to tables. What it cannot read with confidence it reports as an
/// ``AnalysisProblem`` so that a lane refuses rather than guesses.
struct StatementAnalyzer: Sendable {
    /// What the walker expects next at the current parenthesis depth.
    enum Mode: Sendable, Equatable {
        case expression
        case expectTable(TableContext)
        case afterTable(TableContext)
        case joinCondition(TableContext)
        /// MySQL `DELETE t1, t2 FROM …` targets.
        case deleteTargets
        /// After `WITH` or a CTE's comma: a CTE name is next.
        case cteName
        /// After a CTE body: a comma starts another CTE, anything else is the statement.
        case afterCTE
        /// `FOR UPDATE OF a, b`.
        case ofList
    }

    /// One parenthesis level.
    struct Frame: Sendable {
        var mode: Mode
        /// Whether FROM here lists tables (a query), rather than being part of `EXTRACT(x FROM y)`.
        var isQuery: Bool
    }

    /// Deeper nesting than this is refused: no real statement needs it, and the frame stack stays bounded.
    static let maximumDepth = 4096

    var result = StatementAnalysis()
    var dialect: SQLDialect = .mysql
    var tokens: [SignificantToken] = []
    var text: IdentifierText
    var end = 0
    /// Index of the statement's first token.
    var first = 0
    var frames: [Frame] = []
    var ctes: [(token: Int, depth: Int)] = []
    var verbPosition = false
    /// Whether write verbs inside the statement make it a write (false under plain EXPLAIN).
    var upgrades = true
    /// `CREATE INDEX … ON t` / `DROP INDEX i ON t`: ON names a table.
    var onNamesTable = false
    var lastTableEnd = -1

    init() {
        self.text = IdentifierText(bytes: UnsafeRawBufferPointer(start: nil, count: 0), dialect: .mysql, caseSensitive: false)
    }

    var depth: Int { self.frames.count - 1 }

    var mode: Mode {
        get { self.frames[self.frames.count - 1].mode }
        set { self.frames[self.frames.count - 1].mode = newValue }
    }

    func token(_ i: Int) -> SignificantToken? { i < self.end ? self.tokens[i] : nil }
    func keyword(_ i: Int) -> Keyword { i < self.end ? self.tokens[i].keyword : .none }
    /// The kind of token `i`; past the end of the statement it reads as the `;` that ends it.
    func kind(_ i: Int) -> TokenKind { i < self.end ? self.tokens[i].kind : .semicolon }

    /// Analyses `tokens[range]` (one statement without its `;`). The token array is only borrowed.
    mutating func analyze(_ tokens: [SignificantToken], range: Range<Int>, text: IdentifierText) {
        self.result.reset()
        self.dialect = text.dialect
        self.text = text
        self.tokens = tokens
        self.end = range.upperBound
        self.first = range.lowerBound
        self.frames.removeAll(keepingCapacity: true)
        self.frames.append(Frame(mode: .expression, isQuery: true))
        self.ctes.removeAll(keepingCapacity: true)
        self.upgrades = true
        self.onNamesTable = false
        self.lastTableEnd = -1
        defer {
            // Give the caller's array back its unique reference so it can grow without copying.
            self.tokens = []
            self.text = IdentifierText(bytes: UnsafeRawBufferPointer(start: nil, count: 0), dialect: self.dialect, caseSensitive: false)
        }
        if let start = self.prepareStatement(range.lowerBound) {
            self.walk(from: start)
        }
        self.dropAliasTargets()
    }

    mutating func upgradeToWrite() {
        guard self.upgrades else { return }
        self.result.policyIsWrite = true
        if self.result.kind == .read { self.result.kind = .write }
    }

    mutating func refuse(_ problem: AnalysisProblem) {
        if self.result.problem == nil { self.result.problem = problem }
    }

    // MARK: The walk

    mutating func walk(from start: Int) {
        var i = start
        while i < self.end {
            if self.result.problem != nil { return }
            switch self.mode {
            case .expectTable(let context):
                i = self.expectTable(i, context)
                continue
            case .afterTable(let context):
                if let next = self.afterTable(i, context) {
                    i = next
                    continue
                }
            case .joinCondition(let context):
                let t = self.tokens[i]
                if t.kind == .comma && context.list {
                    self.mode = .expectTable(context)
                    i += 1
                    continue
                }
                if t.keyword == .where || t.keyword == .group || t.keyword == .order || t.keyword == .having
                    || t.keyword == .limit || t.keyword == .set || t.keyword == .window || t.keyword == .union
                {
                    self.mode = .expression
                }
            case .deleteTargets:
                if let next = self.deleteTarget(i) {
                    i = next
                    continue
                }
            case .cteName:
                i = self.cteDefinition(i)
                continue
            case .afterCTE:
                if self.tokens[i].kind == .comma {
                    self.mode = .cteName
                    i += 1
                    continue
                }
                self.mode = .expression
                self.verbPosition = true
            case .ofList:
                let t = self.tokens[i]
                if t.isName && t.keyword != .nowait && t.keyword != .skip {
                    i = self.qualifierChain(i, bare: true)
                    continue
                }
                if t.kind == .comma {
                    i += 1
                    continue
                }
                self.mode = .expression
            case .expression:
                break
            }
            i = self.general(i)
        }
    }

    mutating func general(_ i: Int) -> Int {
        let t = self.tokens[i]
        let atVerb = self.verbPosition
        self.verbPosition = false
        switch t.kind {
        case .leftParen:
            self.openParen(i, tableList: nil)
            return i + 1
        case .rightParen:
            self.closeParen()
            return i + 1
        case .word, .quotedIdentifier:
            if self.kind(i + 1) == .dot {
                return self.qualifierChain(i, bare: false)
            }
            if self.kind(i + 1) == .leftParen && !self.namesObject(before: i) && !self.isPrefixLength(i) {
                self.result.calls.append(RoutineCall(qualifier: -1, name: i))
            }
            if t.kind == .word {
                return self.keywordSeen(i, t.keyword, atVerb: atVerb)
            }
            return i + 1
        default:
            return i + 1
        }
    }

    /// Pushes a frame for `(` at `i`. `tableList` is the context of a parenthesised join (`FROM (a JOIN b)`).
    mutating func openParen(_ i: Int, tableList: TableContext?) {
        guard self.frames.count < Self.maximumDepth else {
            self.refuse(.unanalysable("parentheses nest deeper than \(Self.maximumDepth) levels"))
            return
        }
        let next = self.keyword(i + 1)
        let isQuery = next.startsStatement || self.kind(i + 1) == .leftParen
        var mode = Mode.expression
        if !isQuery, let tableList {
            mode = .expectTable(tableList)
        }
        self.frames.append(Frame(mode: mode, isQuery: isQuery || tableList != nil))
        self.lastTableEnd = -1  // an alias after the closing paren names the derived table, not a table inside
        self.verbPosition = true
    }

    mutating func closeParen() {
        guard self.frames.count > 1 else { return }
        self.frames.removeLast()
        self.lastTableEnd = -1
        let depth = self.depth
        while let last = self.ctes.last, last.depth > depth { self.ctes.removeLast() }
    }

    /// `a.b`, `a.b.c`, `a.*`: a qualified column (or, in `FOR UPDATE OF`, a bare table).
    mutating func qualifierChain(_ i: Int, bare: Bool) -> Int {
        var last = i
        while last + 2 < self.end, self.tokens[last + 1].kind == .dot,
            self.tokens[last + 2].isName || self.tokens[last + 2].kind == .operator
        {
            last += 2
        }
        let after = last + 1
        if bare {
            self.result.qualifiers.append(QualifierReference(database: last > i ? last - 2 : -1, table: last))
            return after
        }
        let parts = (last - i) / 2 + 1
        // schema.function(…) is a call, not a column.
        if self.kind(after) == .leftParen {
            self.result.calls.append(RoutineCall(qualifier: last > i ? last - 2 : -1, name: last))
            return after
        }
        if parts >= 3 {
            self.result.qualifiers.append(QualifierReference(database: last - 4, table: last - 2))
        } else if parts == 2 {
            self.result.qualifiers.append(QualifierReference(database: -1, table: i))
        }
        return after
    }

    /// Whether the word before `i` declares `i` as the name of something (`KEY idx (a)`, `EXECUTE p(1)`,
    /// `AS t(a, b)`, `CAST(x AS decimal(10, 2))`), so that the `(` after it does not start a call.
    func namesObject(before i: Int) -> Bool {
        guard i > self.first else { return false }
        switch self.tokens[i - 1].keyword {
        case .key, .index, .unique, .constraint, .fulltext, .spatial, .partition, .table, .view, .trigger, .procedure,
            .function, .sequence, .type, .execute, .prepare, .deallocate, .as:
            return true
        default:
            return self.isWord(i - 1, "subpartition")
        }
    }

    /// MySQL `KEY k (name(10), b)`: a key part's prefix length in CREATE/ALTER, not a call. (A column definition
    /// cannot call a stored function at all: MariaDB and MySQL refuse them in DEFAULT, CHECK and generated columns.)
    func isPrefixLength(_ i: Int) -> Bool {
        guard self.dialect == .mysql, self.result.verb == .create || self.result.verb == .alter, i > self.first else {
            return false
        }
        let before = self.tokens[i - 1].kind
        return (before == .leftParen || before == .comma) && self.kind(i + 2) == .number && self.kind(i + 3) == .rightParen
    }

    /// Removes MySQL multi-table DELETE targets that turned out to be aliases of tables in the statement.
    mutating func dropAliasTargets() {
        guard self.result.tables.contains(where: { $0.mayBeAlias }) else { return }
        var kept = 0
        for index in self.result.tables.indices {
            let table = self.result.tables[index]
            var isAlias = false
            if table.mayBeAlias && table.qualifier < 0 {
                let name = self.tokensForComparison(table.name)
                isAlias = self.result.aliases.contains { alias in
                    alias.depth == table.depth && self.text.same(self.tokensForComparison(alias.token), name)
                }
            }
            if !isAlias {
                self.result.tables[kept] = table
                kept += 1
            }
        }
        self.result.tables.removeLast(self.result.tables.count - kept)
    }

    /// Token lookup that works after ``analyze`` released the array (callers pass it back in).
    func tokensForComparison(_ i: Int) -> SignificantToken { self.tokens[i] }
}
