/// Reading table names, aliases, CTE names and DELETE targets.
extension StatementAnalyzer {
    /// At a place where a table name is expected.
    mutating func expectTable(_ i: Int, _ context: TableContext) -> Int {
        let t = self.tokens[i]
        switch t.kind {
        case .leftParen:
            self.mode = .afterTable(context)
            self.openParen(i, tableList: context.joins ? .from : nil)
            return i + 1
        case .word:
            if context.modifiersAllowed && t.keyword.isTableModifier
                && (t.keyword == .into || self.modifierIsFollowedByName(i))
            {
                var next = context
                if t.keyword == .into { next.modifiersAllowed = false }
                self.mode = .expectTable(next)
                return i + 1
            }
            if t.keyword == .if && (self.keyword(i + 1) == .not || self.keyword(i + 1) == .exists) {
                return self.keyword(i + 1) == .not ? i + 3 : i + 2
            }
            if self.dialect == .postgres, let skipped = self.postgresTableModifier(i, context) {
                return skipped
            }
            if t.keyword == .dual && self.dialect == .mysql {
                self.mode = .afterTable(context)
                return i + 1
            }
            if context.requiresName && Self.neverTableNames.contains(t.keyword) {
                // A keyword reserved in both dialects where a name must be: the statement is not what it seems
                // (taking the keyword as the name would misread everything after it), so a lane refuses it.
                self.refuse(.unanalysable("expected a table name at byte \(t.start), found a reserved word"))
                return self.end
            }
            if !context.requiresName && (t.keyword.endsTableReference || t.keyword.startsStatement)
                && !self.isUnreservedInMySQL(t.keyword)
            {
                self.mode = .expression
                return i
            }
            return self.tableName(i, context)
        case .quotedIdentifier:
            return self.tableName(i, context)
        case .string, .variable, .placeholder, .number, .unterminated, .other:
            if context.requiresName || t.kind == .unterminated || t.kind == .string {
                self.refuse(.unanalysable("expected a table name at byte \(t.start)"))
                return self.end
            }
            self.mode = .expression
            return i
        default:
            if context.requiresName {
                self.refuse(.unanalysable("expected a table name at byte \(t.start)"))
                return self.end
            }
            self.mode = .expression
            return i
        }
    }

    /// PostgreSQL words before a table that are not its name: `ONLY t` (reserved, so never a name; MERGE INTO
    /// ONLY t), `CONCURRENTLY v` (REFRESH MATERIALIZED VIEW), and `ROWS FROM (f(x), g(y))`, a list of table
    /// functions whose calls the expression walk checks. Returns the next index, or nil when `i` is none of them.
    mutating func postgresTableModifier(_ i: Int, _ context: TableContext) -> Int? {
        let t = self.tokens[i]
        if (t.keyword == .only || t.keyword == .concurrently) && self.token(i + 1)?.isName == true {
            return i + 1
        }
        if context.function && self.isWord(i, "rows") && self.keyword(i + 1) == .from && self.kind(i + 2) == .leftParen {
            self.mode = .afterTable(context)
            self.openParen(i + 2, tableList: nil)
            return i + 3
        }
        return nil
    }

    /// Words that end a table reference in PostgreSQL (or in one clause of MySQL) but that MariaDB does not
    /// reserve: in MySQL they name tables and aliases (`UPDATE b local, a SET …`, `JOIN value ON …`), and reading
    /// them as the end of the table list would hide the tables after them.
    func isUnreservedInMySQL(_ keyword: Keyword) -> Bool {
        guard self.dialect == .mysql else { return false }
        switch keyword {
        case .local, .value, .only, .of, .skip, .nowait, .tablesample, .matched, .minus: return true
        default: return false
        }
    }

    /// Words reserved in MySQL, MariaDB and PostgreSQL alike: never an unquoted table name.
    static let neverTableNames: Set<Keyword> = [.from, .where, .select, .group, .order, .having, .union, .on, .set, .values]

    /// `IGNORE t` skips IGNORE; `INTO ignore VALUES` keeps `ignore` as the name.
    func modifierIsFollowedByName(_ i: Int) -> Bool {
        guard let next = self.token(i + 1) else { return false }
        if next.kind == .leftParen { return self.tokens[i].keyword == .lateral || self.tokens[i].keyword == .only }
        guard next.isName else { return false }
        if self.tokens[i].keyword == .into { return true }
        return next.keyword.isTableModifier || !next.keyword.endsTableReference || next.keyword == .if
    }

    /// Reads `[db.]name` at `i` and records it, unless it is a table function or a CTE name.
    mutating func tableName(_ i: Int, _ context: TableContext) -> Int {
        var last = i
        while last + 2 < self.end, self.tokens[last + 1].kind == .dot, self.tokens[last + 2].isName { last += 2 }
        let after = last + 1
        let qualifier = last > i ? last - 2 : -1
        let followUp: Mode =
            (context.alias || context.list || context.joins || context.renameList) ? .afterTable(context) : .expression
        if context.function && self.kind(after) == .leftParen {
            self.result.calls.append(RoutineCall(qualifier: qualifier, name: last))
            self.lastTableEnd = -1
            self.mode = followUp
            return after
        }
        if self.text.isUnicodeEscaped(self.tokens[last]) || (qualifier >= 0 && self.text.isUnicodeEscaped(self.tokens[qualifier])) {
            self.refuse(.unanalysable("a U&\"…\" table name at byte \(self.tokens[i].start) cannot be mapped"))
            return self.end
        }
        if qualifier < 0 && context.mayNameCTE && self.isCTEName(last) {
            self.mode = followUp
            return after
        }
        self.result.tables.append(
            TableReference(
                qualifier: qualifier, name: last, depth: self.depth, isRenameTarget: context.renameTarget,
                mayBeAlias: context.mayBeAlias, hasAlias: false
            )
        )
        self.lastTableEnd = last
        self.mode = followUp
        if self.dialect == .postgres && self.kind(after) == .operator && self.tokens[after].end - self.tokens[after].start == 1,
            self.text.bytes[self.tokens[after].start] == 0x2A
        {
            return after + 1  // `FROM t *`: inheritance marker.
        }
        return after
    }

    func isCTEName(_ i: Int) -> Bool {
        guard !self.ctes.isEmpty else { return false }
        let name = self.tokens[i]
        return self.ctes.contains { self.text.same(self.tokens[$0.token], name) }
    }

    /// After a table reference: an alias, a join, a comma, `TO` in a rename list. `nil` hands the token to
    /// the general walker.
    mutating func afterTable(_ i: Int, _ context: TableContext) -> Int? {
        let t = self.tokens[i]
        switch t.kind {
        case .comma:
            if context.list {
                var next = context
                if context.renameList { next = .renameList }
                self.mode = .expectTable(next)
                return i + 1
            }
            self.mode = .expression
            return nil
        case .quotedIdentifier where context.alias:
            self.recordAlias(i)
            return i + 1
        case .string where context.alias && self.dialect == .mysql:
            // `"x"` after a table is an alias under ANSI_QUOTES (which the lexer does not model: it reads a
            // string), and otherwise not SQL at all; reading on as an expression would hide the tables after it.
            self.refuse(.unanalysable("a string where a table's alias may be, at byte \(t.start) (ANSI_QUOTES is not supported in lanes)"))
            return self.end
        case .leftParen:
            return nil  // a column list or index hint list; the mode stays.
        case .word:
            break
        default:
            self.mode = .expression
            return nil
        }
        switch t.keyword {
        case .as:
            if context.alias, let next = self.token(i + 1), next.isName, !next.keyword.startsStatement {
                self.recordAlias(i + 1)
                return i + 2
            }
            if context.alias && self.dialect == .mysql && self.kind(i + 1) == .string {
                self.refuse(.unanalysable("a string as a table's alias, at byte \(t.start) (ANSI_QUOTES is not supported in lanes)"))
                return self.end
            }
            self.mode = .expression
            return nil
        case .join:
            self.mode = .expectTable(.from)
            return i + 1
        case .straight_join where context.joins:
            self.mode = .expectTable(.from)
            return i + 1
        case .inner, .left, .right, .full, .cross, .natural:
            return i + 1
        case .outer where context.joins:
            return i + 1
        case .on where context.joins:
            self.mode = .joinCondition(context)
            return i + 1
        case .using where context.joins:
            if self.kind(i + 1) == .leftParen {
                self.mode = .joinCondition(context)
            } else {
                // `DELETE FROM c USING b AS a, a AS c`: the names after USING are tables, never the targets'
                // aliases, even when one is named like an alias.
                var next = context
                next.mayBeAlias = false
                self.mode = .expectTable(next)
            }
            return i + 1
        case .nowait where context.renameList:
            return i + 1  // MariaDB `RENAME TABLE a NOWAIT TO b`
        case .wait where context.renameList && self.kind(i + 1) == .number:
            return i + 2  // MariaDB `RENAME TABLE a WAIT 1 TO b`
        case .to where context.renameList:
            self.mode = .expectTable(TableContext(list: true, renameTarget: true, renameList: true, requiresName: true))
            return i + 1
        case .partition:
            if self.keyword(i + 1) == .of {
                self.mode = .expectTable(.single)
                return i + 2
            }
            return context.alias ? i + 1 : nil
        case .use, .force, .ignore:
            if self.dialect == .mysql && (self.keyword(i + 1) == .index || self.keyword(i + 1) == .key) {
                return self.skipIndexHint(i + 2)
            }
            return i + 1
        case .index:
            return i + 1
        case .key where context.alias:
            return i + 1
        case .read, .write, .low_priority:
            return i + 1
        case .before where self.dialect == .mysql && self.isWord(i + 1, "system_time"):
            // MariaDB `DELETE HISTORY FROM t BEFORE SYSTEM_TIME …`
            self.mode = .expression
            return i + 2
        case .local where self.result.verb == .lock:
            return i + 1
        default:
            let unreservedAlias = self.isUnreservedInMySQL(t.keyword)
                && (self.result.verb == .update || self.result.verb == .delete)
            if context.alias && (!t.keyword.endsTableReference || unreservedAlias) && !t.keyword.startsStatement {
                self.recordAlias(i)
                return i + 1
            }
            self.mode = .expression
            return nil
        }
    }

    /// After MySQL `USE|FORCE|IGNORE INDEX|KEY`: `[FOR JOIN | FOR ORDER BY | FOR GROUP BY] (index names)`. The
    /// names are indexes, never tables (`PRIMARY` included).
    func skipIndexHint(_ start: Int) -> Int {
        var j = start
        if self.keyword(j) == .for {
            j += self.keyword(j + 1) == .join ? 2 : 3
        }
        guard self.kind(j) == .leftParen else { return j }
        while j < self.end && self.tokens[j].kind != .rightParen { j += 1 }
        return min(j + 1, self.end)
    }

    mutating func recordAlias(_ i: Int) {
        self.result.aliases.append((i, self.depth))
        if let last = self.result.tables.indices.last, self.result.tables[last].name == self.lastTableEnd {
            self.result.tables[last].hasAlias = true
        }
    }

    /// MySQL `DELETE [LOW_PRIORITY] [QUICK] [IGNORE] t1[.*], t2 FROM …` and `DELETE FROM …`.
    mutating func deleteTarget(_ i: Int) -> Int? {
        let t = self.tokens[i]
        switch t.keyword {
        case .low_priority, .quick:
            return i + 1
        case .ignore where self.token(i + 1)?.isName == true:
            return i + 1
        case .none where self.dialect == .mysql && self.isWord(i, "history") && self.keyword(i + 1) == .from:
            // MariaDB `DELETE HISTORY FROM t [BEFORE SYSTEM_TIME …]`: old row versions of t.
            return i + 1
        case .from:
            // `DELETE FROM t1, t2 USING …`: the names after FROM are the targets and may be aliases declared in
            // USING. After `DELETE t1, t2 FROM …` the FROM list holds the tables themselves: one of them named like
            // an alias (`DELETE c FROM b AS a, a AS c`) is still a table, and must not be dropped as an alias.
            var context = TableContext.deleteFrom
            context.mayBeAlias = self.dialect == .mysql && !self.result.tables.contains { $0.mayBeAlias }
            self.mode = .expectTable(context)
            return i + 1
        default:
            break
        }
        if t.kind == .comma { return i + 1 }
        if t.isName {
            var context = TableContext.single
            context.mayBeAlias = true
            context.modifiersAllowed = false
            let next = self.tableName(i, context)
            self.mode = .deleteTargets
            // `t.*`
            if self.kind(next) == .dot && self.kind(next + 1) == .operator { return next + 2 }
            return next
        }
        self.mode = .expression
        return nil
    }

    /// `[RECURSIVE] name [(cols)] AS [NOT] [MATERIALIZED] (body)`.
    mutating func cteDefinition(_ i: Int) -> Int {
        var j = i
        if self.keyword(j) == .recursive { j += 1 }
        guard let name = self.token(j), name.isName else {
            self.mode = .expression
            return j
        }
        self.ctes.append((j, self.depth))
        j += 1
        if self.kind(j) == .leftParen {
            var level = 0
            while j < self.end {
                if self.tokens[j].kind == .leftParen { level += 1 }
                if self.tokens[j].kind == .rightParen { level -= 1 }
                j += 1
                if level == 0 { break }
            }
        }
        if self.keyword(j) == .as { j += 1 }
        if self.keyword(j) == .not { j += 1 }
        if self.keyword(j) == .materialized { j += 1 }
        guard self.kind(j) == .leftParen else {
            self.refuse(.unanalysable("could not read the WITH clause near byte \(name.start)"))
            return self.end
        }
        self.mode = .afterCTE
        self.openParen(j, tableList: nil)
        return j + 1
    }
}
