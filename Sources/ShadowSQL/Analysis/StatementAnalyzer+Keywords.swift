/// Keywords met while walking expressions: the ones that start table lists or change the statement's kind.
extension StatementAnalyzer {
    /// Whether the token at `i` is the operator `=`.
    func isEquals(_ i: Int) -> Bool {
        guard let token = self.token(i), token.kind == .operator, token.end - token.start == 1 else { return false }
        return self.text.bytes[token.start] == UInt8(ascii: "=")
    }

    /// Whether `[RECURSIVE] name [(cols)] AS [NOT] [MATERIALIZED] (` starts at `j`: a CTE, not `WITH ROLLUP`,
    /// `WITH ORDINALITY AS u(…)` or `WITH (options)`.
    func startsCTEList(_ start: Int) -> Bool {
        var j = start
        if self.keyword(j) == .recursive { j += 1 }
        guard self.token(j)?.isName == true else { return false }
        j += 1
        if self.kind(j) == .leftParen {
            while j < self.end && self.tokens[j].kind != .rightParen { j += 1 }
            j += 1
        }
        guard self.keyword(j) == .as else { return false }
        j += 1
        if self.keyword(j) == .not { j += 1 }
        if self.keyword(j) == .materialized { j += 1 }
        return self.kind(j) == .leftParen
    }

    mutating func keywordSeen(_ i: Int, _ keyword: Keyword, atVerb: Bool) -> Int {
        let next = self.keyword(i + 1)
        let frame = self.frames[self.frames.count - 1]
        switch keyword {
        case .from:
            // `IS [NOT] DISTINCT FROM` is an operator; FROM inside EXTRACT(…)/SUBSTRING(…) is not a table list.
            if i > 0 && self.tokens[i - 1].keyword == .distinct { return i + 1 }
            if frame.isQuery {
                var context = TableContext.from
                if self.result.verb == .delete && self.depth == 0 {
                    context = .deleteFrom
                    context.mayBeAlias = self.dialect == .mysql
                }
                self.mode = .expectTable(context)
            }
        case .join, .straight_join:
            self.mode = .expectTable(.from)
        case .using:
            if (self.result.verb == .delete || self.result.verb == .merge) && self.kind(i + 1) != .leftParen {
                self.mode = .expectTable(self.result.verb == .delete ? .deleteFrom : .from)
            }
        case .update where atVerb:
            self.upgradeToWrite()
            self.mode = .expectTable(.update)
        case .insert where atVerb && self.kind(i + 1) != .leftParen,
            .replace where atVerb && self.kind(i + 1) != .leftParen:
            self.upgradeToWrite()
            self.mode = .expectTable(.insert)
        case .merge where atVerb:
            self.upgradeToWrite()
            self.mode = .expectTable(.insert)
        case .delete where atVerb:
            self.upgradeToWrite()
            self.mode = .deleteTargets
        case .into:
            // PostgreSQL `SELECT … INTO [TEMP] [TABLE] new_table` creates a table. MySQL's INTO is OUTFILE/@var.
            if self.dialect == .postgres && (self.result.verb == .select || self.result.verb == .with) {
                self.upgradeToWrite()
                self.mode = .expectTable(.single)
            }
        case .table, .tables:
            if self.kind(i + 1) == .leftParen && keyword == .table { break }
            switch self.result.verb {
            case .lock: self.mode = .expectTable(.lock)
            case .rename: self.mode = .expectTable(.renameList)
            case .create, .alter, .drop, .truncate, .load, .comment, .select, .with, .table, .values:
                self.mode = .expectTable(.ddl)
            default: self.mode = .expectTable(.maintenance)
            }
        case .view:
            switch self.result.verb {
            case .create, .alter, .drop, .refresh: self.mode = .expectTable(.ddl)
            default: break
            }
        case .references:
            self.mode = .expectTable(.single)
        case .attach where next == .partition && self.result.verb == .alter,
            .detach where next == .partition && self.result.verb == .alter:
            // PostgreSQL ALTER TABLE … ATTACH/DETACH PARTITION other_table.
            self.mode = .expectTable(.single)
            return i + 2
        case .inherit where self.result.verb == .alter:
            self.mode = .expectTable(.single)
        case .inherits where self.kind(i + 1) == .leftParen:
            self.openParen(i + 1, tableList: .ddl)
            return i + 2
        case .like:
            if self.result.verb == .create && (self.tokens[i - 1].kind == .leftParen || i - 1 == self.lastTableEnd) {
                self.mode = .expectTable(.single)
            }
        case .on:
            if self.onNamesTable && self.depth == 0 {
                self.onNamesTable = false
                self.mode = .expectTable(.single)
            }
        case .set where self.result.verb == .alter && next == .schema:
            // `ALTER TABLE t SET SCHEMA s` moves the (shadow) table into a schema the lane does not rename: a base
            // schema would then hold a table the lane wrote.
            self.refuse(.unsupported("ALTER … SET SCHEMA (moving a table to another schema)"))
            return self.end
        case .rename where self.result.verb == .alter:
            if next == .to || next == .as {
                self.mode = .expectTable(.renameTarget)
                return i + 2
            }
            if self.dialect == .mysql, let name = self.token(i + 1), name.isName,
                next != .column && next != .index && next != .key && next != .constraint && next != .indexes
                    && next != .keys
            {
                self.mode = .expectTable(.renameTarget)
            }
        case .with where atVerb:
            self.mode = .cteName
        case .with where (self.result.verb == .insert || self.result.verb == .replace) && self.startsCTEList(i + 1):
            // `INSERT INTO t WITH c AS (…) SELECT … FROM c`: the CTE list of the INSERT's query.
            self.mode = .cteName
        case .for:
            if next == .update || (next == .no && self.keyword(i + 2) == .key) {
                self.upgradeToWrite()
                var j = i + 1
                while j < self.end && j < i + 4 && self.tokens[j].keyword != .of { j += 1 }
                if self.keyword(j) == .of {
                    self.mode = .ofList
                    return j + 1
                }
            } else if next == .share || next == .key {
                var j = i + 1
                while j < self.end && j < i + 4 && self.tokens[j].keyword != .of { j += 1 }
                if self.keyword(j) == .of {
                    self.mode = .ofList
                    return j + 1
                }
            } else if next.startsStatement {
                self.verbPosition = true
            }
        case .as:
            if next.startsStatement || self.kind(i + 1) == .leftParen || self.result.verb == .prepare {
                self.verbPosition = true
            }
        case .truncate where atVerb:
            self.mode = .expectTable(.ddl)
        case .handler where atVerb:
            self.mode = .expectTable(.single)
        case .lock where atVerb && self.dialect == .postgres && next != .table:
            self.mode = .expectTable(.lock)
        case .nextval where self.kind(i + 1) == .leftParen && self.dialect == .mysql,
            .setval where self.kind(i + 1) == .leftParen:
            // A sequence is not a table the lane maps: MariaDB names it like a table, PostgreSQL in a string.
            // PostgreSQL's nextval('s') only takes a number from the base sequence (documented, and what an ORM's
            // id generator runs); setval moves it.
            self.refuse(.unsupported("\(self.spelling(keyword).uppercased())() of a sequence"))
            return self.end
        case .next where self.dialect == .mysql && next == .value && self.keyword(i + 2) == .for:
            self.refuse(.unsupported("NEXT VALUE FOR a sequence"))
            return self.end
        case .union where self.dialect == .mysql && (self.result.verb == .create || self.result.verb == .alter)
            && (self.isEquals(i + 1) || self.kind(i + 1) == .leftParen):
            // A MERGE table's UNION=(t1, t2) writes those tables, which the lane does not rename.
            self.refuse(.unsupported("a MERGE table's UNION=(…)"))
            return self.end
        case .connection where self.dialect == .mysql && (self.result.verb == .create || self.result.verb == .alter)
            && (self.isEquals(i + 1) || self.kind(i + 1) == .string):
            self.refuse(.unsupported("a table whose data lives elsewhere (CONNECTION=…)"))
            return self.end
        case .union, .except, .intersect, .minus, .all, .distinct:
            self.verbPosition = next.startsStatement || self.kind(i + 1) == .leftParen
        default:
            break
        }
        return i + 1
    }
}
