/// The first keyword of a statement decides its kind and how (or whether) the rest is walked.
extension StatementAnalyzer {
    /// Classifies the statement starting at `s`; returns where the walk starts, or `nil` when done.
    mutating func prepareStatement(_ s: Int) -> Int? {
        let first = self.tokens[s]
        if first.kind == .leftParen {
            self.setKind(.read, verb: .select)
            self.verbPosition = true
            return s
        }
        guard first.kind == .word else {
            self.refuse(.unanalysable("the statement does not start with a keyword"))
            return nil
        }
        let verb = first.keyword
        self.result.verb = verb
        self.verbPosition = true
        switch verb {
        case .select, .values, .table, .with:
            self.setKind(.read, verb: verb)
            return s
        case .insert, .replace, .update, .delete, .merge:
            self.setKind(.write, verb: verb)
            return s
        case .load where self.dialect == .postgres || self.keyword(s + 1) == .index:
            // PostgreSQL LOAD 'library' loads code into the server process; MySQL LOAD INDEX INTO CACHE names
            // tables in a form the lane does not rename.
            self.setKind(.other, verb: verb)
            self.refuse(.unsupported(self.dialect == .postgres ? "LOAD of a server library" : "LOAD INDEX INTO CACHE"))
            return nil
        case .truncate, .load:
            self.setKind(.write, verb: verb)
            return s
        case .copy:
            return self.copyStatement(s)
        case .create, .alter, .drop:
            self.setKind(.ddl, verb: verb)
            return self.schemaObjectStatement(s)
        case .rename:
            self.setKind(.ddl, verb: verb)
            guard self.keyword(s + 1) == .table else {
                self.refuse(.unsupported("RENAME of something other than a table"))
                return nil
            }
            return s + 1
        case .comment:
            self.setKind(.ddl, verb: verb)
            guard self.keyword(s + 1) == .on && self.keyword(s + 2) == .table else {
                self.refuse(.unsupported("COMMENT ON something other than a table"))
                return nil
            }
            return s + 2
        case .grant, .revoke:
            self.setKind(.ddl, verb: verb)
            self.refuse(.unsupported("\(self.spelling(verb)) changes privileges on base objects"))
            return nil
        case .begin where self.dialect == .mysql && s + 1 < self.end && !(self.keyword(s + 1) == .work && s + 2 == self.end):
            // MariaDB `BEGIN NOT ATOMIC … END` is a compound statement whose body we would not see.
            self.setKind(.other, verb: verb)
            self.refuse(.unsupported("a BEGIN … END compound statement"))
            return nil
        case .start where self.dialect == .mysql && self.keyword(s + 1) != .transaction:
            // START SLAVE / REPLICA / GROUP_REPLICATION: the server's replication, shared by every lane.
            self.setKind(.other, verb: verb)
            self.refuse(.unsupported("START of something other than a transaction (replication is the whole server's)"))
            return nil
        case .reset where self.dialect == .mysql:
            // RESET MASTER deletes the binary logs, RESET SLAVE/REPLICA the replication state, RESET QUERY CACHE
            // empties the cache of every connection: all of them the whole server's. (PostgreSQL RESET is a
            // session setting.)
            self.setKind(.other, verb: verb)
            self.refuse(.unsupported("RESET (it acts on the whole server)"))
            return nil
        case .begin, .start, .commit, .rollback, .savepoint, .release, .xa, .end, .abort:
            self.setKind(.transactionControl, verb: verb)
            return nil
        case .set:
            let next = self.keyword(s + 1)
            if next == .transaction || ((next == .session || next == .global || next == .local)
                && self.keyword(s + 2) == .transaction)
            {
                self.setKind(.transactionControl, verb: verb)
                return nil
            }
            if self.dialect == .mysql && (next == .global || self.startsWithGlobalVariable(s + 1)) {
                // `SET GLOBAL init_connect = '…'` and the like change the server for every connection and lane.
                self.setKind(.other, verb: verb)
                self.refuse(.unsupported("SET GLOBAL (a setting of the whole server)"))
                return nil
            }
            if self.dialect == .mysql && (self.isWord(s + 1, "password") || (next == .default && self.keyword(s + 2) == .role)) {
                // Both write the server's account tables (mysql.global_priv), which no lane can map.
                self.setKind(.other, verb: verb)
                self.refuse(.unsupported(next == .default ? "SET DEFAULT ROLE (it changes an account)" : "SET PASSWORD (it changes an account)"))
                return nil
            }
            if self.dialect == .mysql && next == .statement {
                // MariaDB `SET STATEMENT var = … FOR <statement>` runs the statement after FOR.
                self.setKind(.other, verb: verb)
                self.refuse(.unsupported("SET STATEMENT … FOR (the statement after FOR)"))
                return nil
            }
            self.setKind(.session, verb: verb)
            self.verbPosition = false
            return s + 1
        case .declare where self.dialect == .mysql:
            // MariaDB's Oracle mode: `DECLARE … BEGIN … END` is a compound statement whose body we would not see.
            self.setKind(.other, verb: verb)
            self.refuse(.unsupported("a DECLARE … BEGIN … END block"))
            return nil
        case .use, .reset, .discard, .deallocate:
            self.setKind(.session, verb: verb)
            return nil
        case .prepare:
            self.setKind(.session, verb: verb)
            if self.keyword(s + 1) == .transaction { self.result.kind = .transactionControl; return nil }
            if self.dialect == .mysql {
                self.refuse(.unsupported("PREPARE … FROM hides the statement text from the lane's rewriter"))
                return nil
            }
            self.verbPosition = false
            return s + 1
        case .execute:
            self.setKind(.session, verb: verb)
            if self.keyword(s + 1) == .immediate {
                self.refuse(.unsupported("EXECUTE IMMEDIATE hides the statement text from the lane's rewriter"))
            } else if self.dialect == .mysql {
                // PREPARE … FROM is refused in a lane, so what a lane would EXECUTE was prepared outside it.
                self.refuse(.unsupported("EXECUTE of a statement prepared with PREPARE … FROM outside the lane"))
            }
            return nil
        case .show:
            self.setKind(.read, verb: verb)
            self.showStatement(s)
            return nil
        case .explain, .describe, .desc:
            self.setKind(.read, verb: verb)
            return self.explainStatement(s)
        case .analyze:
            if self.dialect == .mysql && self.keyword(s + 1) == .format {
                // MariaDB `ANALYZE FORMAT=JSON <statement>` runs the statement, like ANALYZE <statement>.
                self.setKind(.other, verb: verb)
                self.refuse(.unsupported("ANALYZE FORMAT=… <statement>"))
                return nil
            }
            if self.dialect == .mysql && self.keyword(s + 1).startsStatement {
                // MariaDB ANALYZE <statement> runs the statement.
                self.setKind(.read, verb: verb)
                self.verbPosition = true
                return s + 1
            }
            self.setKind(.other, verb: verb)
            return self.maintenanceStatement(s)
        case .vacuum, .cluster:
            self.setKind(.other, verb: verb)
            return self.maintenanceStatement(s)
        case .call:
            self.setKind(.other, verb: verb)
            return self.callStatement(s)
        case .do:
            self.setKind(.other, verb: verb)
            if self.dialect == .postgres {
                self.refuse(.unsupported("DO blocks run code the lane's rewriter cannot see"))
                return nil
            }
            return s + 1
        case .flush where !(self.keyword(s + 1) == .tables || self.keyword(s + 1) == .table)
            || !(self.token(s + 2)?.isName ?? false) || self.keyword(s + 2) == .with,
            .checkpoint, .notify:
            // FLUSH without a table list (all tables with a read lock, privileges, logs, caches), CHECKPOINT and
            // NOTIFY (every listener, base ones included, receives it and may act on it) act beyond the lane.
            // `FLUSH TABLES t, u …` names its tables and is renamed.
            self.setKind(.other, verb: verb)
            self.refuse(.unsupported("\(self.spelling(verb).uppercased()) (it acts beyond the lane's tables)"))
            return nil
        case .reindex where self.dialect == .postgres && (self.keyword(s + 1) == .database || self.keyword(s + 1) == .schema
            || self.isWord(s + 1, "system") || (self.kind(s + 1) == .leftParen && self.reindexesWhole(s))):
            // REINDEX DATABASE / SYSTEM / SCHEMA rebuilds the indexes of every table in them, the base ones included.
            self.setKind(.other, verb: verb)
            self.refuse(.unsupported("REINDEX of a whole database, schema or the system catalogs"))
            return nil
        case .lock, .handler, .optimize, .repair, .check, .checksum, .flush, .reindex, .refresh:
            self.setKind(verb == .handler ? .read : .other, verb: verb)
            return s
        case .kill where !self.killsOneThread(s):
            // `KILL USER u`, `KILL QUERY ID q` and a KILL among other statements reach connections the session
            // cannot check (base ones included); a lone `KILL [CONNECTION | QUERY] id` passes here and the MySQL
            // session checks the id's lane.
            self.setKind(.other, verb: verb)
            self.refuse(.unsupported("KILL other than one KILL [CONNECTION | QUERY] <id> sent alone (it may end base connections)"))
            return nil
        case .unlock, .kill, .listen, .unlisten, .fetch, .move, .close, .help:
            self.setKind(verb == .help ? .read : .other, verb: verb)
            return nil
        case .declare:
            self.setKind(.read, verb: verb)
            return s + 1
        default:
            self.setKind(.other, verb: verb)
            self.refuse(.unanalysable("unrecognised statement"))
            return nil
        }
    }

    mutating func setKind(_ kind: StatementKind, verb: Keyword) {
        self.result.kind = kind
        self.result.verb = verb
        self.result.policyIsWrite = kind != .read && kind != .session && kind != .transactionControl
    }

    func spelling(_ keyword: Keyword) -> String {
        String(describing: keyword).uppercased()
    }

    /// CREATE/ALTER/DROP: only tables, views and (with a visible table) indexes can be isolated.
    mutating func schemaObjectStatement(_ s: Int) -> Int? {
        var j = s + 1
        while j < self.end {
            let k = self.tokens[j].keyword
            switch k {
            case .or, .replace, .temporary, .temp, .global, .local, .unlogged, .unique, .fulltext, .spatial,
                .materialized, .recursive, .ignore:
                j += 1
            case .algorithm:
                j += 3  // ALGORITHM = x
            case .definer:
                j += 3  // DEFINER = user
                while j < self.end && (self.tokens[j].kind == .variable || self.tokens[j].kind == .leftParen
                    || self.tokens[j].kind == .rightParen || self.tokens[j].kind == .operator) { j += 1 }
            case .sql:
                j += 3  // SQL SECURITY x
            case .table, .view:
                return s
            case .index:
                if self.result.verb == .create || (self.result.verb == .drop && self.dialect == .mysql) {
                    self.onNamesTable = true
                    return s
                }
                self.refuse(.unsupported("\(self.spelling(self.result.verb)) INDEX without its table"))
                return nil
            default:
                let what = self.tokens[j].kind == .word ? self.spelling(k == .none ? .none : k) : "this object"
                self.refuse(.unsupported("\(self.spelling(self.result.verb)) \(k == .none ? "of this object" : what)"))
                return nil
            }
        }
        self.refuse(.unanalysable("incomplete \(self.spelling(self.result.verb)) statement"))
        return nil
    }

    /// `SHOW [FULL] COLUMNS|FIELDS|INDEX|INDEXES|KEYS FROM|IN t [FROM|IN db]`, `SHOW CREATE TABLE|VIEW t`.
    mutating func showStatement(_ s: Int) {
        var j = s + 1
        while self.keyword(j) == .full || self.keyword(j) == .extended { j += 1 }
        switch self.keyword(j) {
        case .columns, .fields, .index, .indexes, .keys:
            j += 1
            guard self.keyword(j) == .from || self.keyword(j) == .in else { return }
            j += 1
        case .create:
            j += 1
            guard self.keyword(j) == .table || self.keyword(j) == .view else { return }
            j += 1
        default:
            return
        }
        guard let name = self.token(j), name.isName else {
            self.refuse(.unanalysable("expected a table name after SHOW"))
            return
        }
        let after = self.tableName(j, .single)
        if (self.keyword(after) == .from || self.keyword(after) == .in), let db = self.token(after + 1), db.isName,
            let last = self.result.tables.indices.last, self.result.tables[last].qualifier < 0
        {
            self.result.tables[last].qualifier = after + 1
        }
    }

    /// EXPLAIN/DESCRIBE: either `DESCRIBE t [col]` or `EXPLAIN [options] statement`.
    mutating func explainStatement(_ s: Int) -> Int? {
        var j = s + 1
        var analyze = false
        while j < self.end {
            let t = self.tokens[j]
            if t.kind == .leftParen && self.dialect == .postgres {
                var level = 0
                while j < self.end {
                    if self.tokens[j].kind == .leftParen { level += 1 }
                    if self.tokens[j].kind == .rightParen { level -= 1 }
                    if self.tokens[j].keyword == .analyze { analyze = true }
                    j += 1
                    if level == 0 { break }
                }
                continue
            }
            switch t.keyword {
            case .analyze:
                analyze = true
                j += 1
            case .verbose, .extended, .partitions:
                j += 1
            case .format:
                j += self.kind(j + 1) == .operator ? 3 : 2
            case .for:
                return nil  // EXPLAIN FOR CONNECTION n
            case .execute where self.dialect == .postgres:
                // The session checks the lane of `EXECUTE p` sent on its own, not inside EXPLAIN (ANALYZE runs it).
                self.refuse(.unsupported("EXPLAIN of EXECUTE (explain the prepared statement's text instead)"))
                return nil
            default:
                if t.keyword.startsStatement || t.kind == .leftParen {
                    self.upgrades = analyze
                    self.verbPosition = true
                    return j
                }
                if t.isName {
                    _ = self.tableName(j, .single)
                    return nil
                }
                self.refuse(.unanalysable("could not read the EXPLAIN statement"))
                return nil
            }
        }
        return nil
    }

    /// PostgreSQL `ANALYZE|VACUUM|CLUSTER [options] [t, …]`; MySQL `ANALYZE TABLE t`.
    mutating func maintenanceStatement(_ s: Int) -> Int? {
        var j = s + 1
        if self.kind(j) == .leftParen {
            while j < self.end && self.tokens[j].kind != .rightParen { j += 1 }
            j += 1
        }
        while j < self.end {
            switch self.tokens[j].keyword {
            case .full, .freeze, .verbose, .analyze, .local:
                j += 1
                continue
            default:
                break
            }
            break
        }
        if self.dialect == .postgres && j >= self.end {
            // VACUUM, CLUSTER or ANALYZE with no table works on every table of the database, the base ones
            // included (ANALYZE rewrites their statistics).
            self.refuse(.unsupported("\(self.spelling(self.result.verb).uppercased()) without a table name"))
            return nil
        }
        if self.dialect == .postgres && self.keyword(j) != .table {
            self.mode = .expectTable(.maintenance)
        }
        return j
    }

    /// Whether the token at `i` is the bare word `lowercase` (for words the keyword table does not list: adding
    /// them there would change how names spelled like them are read elsewhere).
    func isWord(_ i: Int, _ lowercase: String) -> Bool {
        guard let token = self.token(i), token.kind == .word, token.end - token.start == lowercase.utf8.count else { return false }
        return self.startsLowercased(token, with: lowercase)
    }

    /// `KILL [HARD | SOFT] [CONNECTION | QUERY] <number>` as the whole text: the one form whose target the session
    /// looks up (it reads only a KILL sent alone).
    func killsOneThread(_ s: Int) -> Bool {
        var j = s + 1
        if self.isWord(j, "hard") || self.isWord(j, "soft") { j += 1 }
        if self.keyword(j) == .connection || self.isWord(j, "query") { j += 1 }
        return self.kind(j) == .number && j + 1 == self.end && self.first == 0
            && self.tokens[self.end...].allSatisfy { $0.kind == .semicolon }
    }

    /// `REINDEX (options) DATABASE|SYSTEM|SCHEMA …`: the word after the option list.
    func reindexesWhole(_ s: Int) -> Bool {
        var j = s + 1
        while j < self.end && self.tokens[j].kind != .rightParen { j += 1 }
        return self.keyword(j + 1) == .database || self.keyword(j + 1) == .schema || self.isWord(j + 1, "system")
    }

    /// Whether the token at `i` is a MySQL `@@global.name` (or `@@persist.`) variable.
    func startsWithGlobalVariable(_ i: Int) -> Bool {
        guard let token = self.token(i), token.kind == .variable else { return false }
        return ["@@global.", "@@persist.", "@@persist_only."].contains { prefix in
            token.end - token.start > prefix.utf8.count && self.startsLowercased(token, with: prefix)
        }
    }

    /// Whether `token`'s bytes, lower-cased, begin with `prefix` (which the caller checked fits in the token).
    func startsLowercased(_ token: SignificantToken, with prefix: String) -> Bool {
        let bytes = self.text.bytes
        return prefix.utf8.enumerated().allSatisfy { ByteClass.lower(bytes[token.start + $0.offset]) == $0.element }
    }

    /// `COPY t [(cols)] FROM|TO …` or `COPY (query) TO …`.
    mutating func copyStatement(_ s: Int) -> Int? {
        self.setKind(.read, verb: .copy)
        if self.kind(s + 1) == .leftParen {
            return s + 1
        }
        guard let name = self.token(s + 1), name.isName else {
            self.refuse(.unanalysable("expected a table name after COPY"))
            return nil
        }
        var j = self.tableName(s + 1, .single)
        var level = 0
        while j < self.end {
            let t = self.tokens[j]
            if t.kind == .leftParen { level += 1 }
            if t.kind == .rightParen { level -= 1 }
            if level == 0 && t.keyword == .from {
                self.setKind(.write, verb: .copy)
                return nil
            }
            if level == 0 && t.keyword == .to { return nil }
            j += 1
        }
        self.refuse(.unanalysable("COPY without FROM or TO"))
        return nil
    }

    /// `CALL [schema.]name(args)`: records the procedure and returns where its arguments start, to be walked.
    mutating func callStatement(_ s: Int) -> Int? {
        guard let name = self.token(s + 1), name.isName else {
            self.refuse(.unanalysable("expected a routine name after CALL"))
            return nil
        }
        var last = s + 1
        while last + 2 < self.end, self.tokens[last + 1].kind == .dot, self.tokens[last + 2].isName { last += 2 }
        self.result.procedure = RoutineCall(qualifier: last > s + 1 ? last - 2 : -1, name: last)
        return last + 1
    }
}
