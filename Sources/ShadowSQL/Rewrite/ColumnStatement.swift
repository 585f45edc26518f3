/// One statement's column renames for ``ColumnRenamer``: attributes each name token to a table of the statement,
/// or explains why it cannot.
struct ColumnStatement {
    let renamer: ColumnRenamer
    let tokens: [SignificantToken]
    let range: Range<Int>
    let analysis: StatementAnalysis
    let text: IdentifierText
    /// Normalized bare name of each table reference (index as in `analysis.tables`).
    private var tableKeys: [[UInt8]] = []
    /// Alias token index → table reference index.
    private var aliasTables: [Int: Int] = [:]
    /// Normalized alias name → table reference index, or nil when the name is a derived table's or declared twice.
    private var aliasNames: [[UInt8]: Int?] = [:]
    /// Tokens that name tables, their qualifiers and aliases: never columns.
    private var tableTokens: Set<Int> = []

    init(renamer: ColumnRenamer, tokens: [SignificantToken], range: Range<Int>, analysis: StatementAnalysis, text: IdentifierText) {
        self.renamer = renamer
        self.tokens = tokens
        self.range = range
        self.analysis = analysis
        self.text = text
        for (index, reference) in analysis.tables.enumerated() {
            self.tableKeys.append(self.normalized(reference.name))
            self.tableTokens.insert(reference.name)
            if reference.qualifier >= 0 { self.tableTokens.insert(reference.qualifier) }
            guard reference.hasAlias else { continue }
            // An alias follows its table directly (`t x` or `t AS x`); one after `)` names a derived table.
            let next = reference.name + 1
            let alias = next < range.upperBound && tokens[next].keyword == .as ? next + 1 : next
            if analysis.aliases.contains(where: { $0.token == alias }) { self.aliasTables[alias] = index }
        }
        for alias in analysis.aliases {
            self.tableTokens.insert(alias.token)
            let name = self.normalized(alias.token)
            let table = self.aliasTables[alias.token]
            self.aliasNames[name] = self.aliasNames[name] == nil ? table : .some(nil)
        }
    }

    /// Adds the statement's renames to `plan`; returns the reason when a mapped column cannot be attributed.
    mutating func plan(into plan: inout RewritePlan) -> String? {
        let mapped = self.tableKeys.filter { self.renamer.maps[$0] != nil }
        if let problem = self.analysis.problem {
            // The table list may be incomplete: only a statement naming no mapped column is safe.
            if let column = self.firstMappedName(in: Set(self.renamer.maps.keys)) {
                return "the statement cannot be analysed and names '\(column)', a column renamed on the mirror"
            }
            return nil
        }
        guard !mapped.isEmpty else { return nil }
        if self.analysis.kind == .ddl {
            if let column = self.firstMappedName(in: Set(mapped)) {
                return "DDL naming '\(column)', a column renamed on the mirror, cannot be translated; "
                    + "apply the change to the mirror by hand and resync it"
            }
            return nil
        }
        let distinct = Set(self.tableKeys)
        let insertTarget = self.insertTarget()
        var assigned: Set<Int> = []
        if let target = insertTarget {
            if let reason = self.insertColumnList(target: target, into: &plan, assigned: &assigned) { return reason }
        }
        // Assignment targets (`SET a = …`, `ON DUPLICATE KEY UPDATE a = …`, `DO UPDATE SET a = …`) belong to the
        // INSERT's table, or to the UPDATE's table when it is the only one at the top level.
        let topLevel = self.analysis.tables.indices.filter { self.analysis.tables[$0].depth == 0 }
        let assignmentOwner: Int? =
            insertTarget ?? ((self.analysis.verb == .update && topLevel.count == 1) ? topLevel.first : nil)
        if let owner = assignmentOwner { self.assignmentTargets(owner: owner, into: &plan, assigned: &assigned) }

        for i in self.range where !assigned.contains(i) && !self.tableTokens.contains(i) {
            let token = self.tokens[i]
            if token.kind == .operator, self.isSelectStar(i) {
                return "'*' in a select list of a statement on '\(self.display(mappedTable: mapped[0]))', whose "
                    + "columns are renamed on the mirror, cannot be translated; list the columns"
            }
            guard token.isName, self.isColumnPosition(i) else { continue }
            let column = self.normalized(i)
            if i > self.range.lowerBound + 1, self.tokens[i - 1].kind == .dot, self.tokens[i - 2].isName {
                if let reason = self.qualified(column: i, qualifier: i - 2, into: &plan) { return reason }
                continue
            }
            let owners = mapped.filter { self.renamer.maps[$0]?[column] != nil }
            guard let owner = owners.first else { continue }
            guard distinct.count == 1 else {
                let names = distinct.map { String(decoding: $0, as: UTF8.self) }.sorted().joined(separator: ", ")
                return "column '\(self.display(i))' is not qualified in a statement naming several tables (\(names)), "
                    + "so which table it belongs to cannot be known; qualify it with its table"
            }
            self.add(i, table: owner, into: &plan)
        }
        return nil
    }

    /// The table reference an INSERT or REPLACE writes (after a `WITH` list, not the CTEs' tables).
    private func insertTarget() -> Int? {
        var depth = 0
        for i in self.range {
            switch self.tokens[i].kind {
            case .leftParen: depth += 1
            case .rightParen: depth -= 1
            default: break
            }
            let keyword = self.tokens[i].keyword
            guard depth == 0, keyword == .insert || keyword == .replace,
                i + 1 >= self.range.upperBound || self.tokens[i + 1].kind != .leftParen
            else { continue }
            return self.analysis.tables.indices.first { self.analysis.tables[$0].name > i && self.analysis.tables[$0].depth == 0 }
        }
        return nil
    }

    /// INSERT/REPLACE: the parenthesized column list after the target belongs to the target.
    private func insertColumnList(target: Int, into plan: inout RewritePlan, assigned: inout Set<Int>) -> String? {
        let key = self.tableKeys[target]
        let mapped = self.renamer.maps[key] != nil
        var i = self.analysis.tables[target].name + 1
        if let alias = self.aliasTables.first(where: { $0.value == target })?.key { i = alias + 1 }
        if i < self.range.upperBound, self.tokens[i].kind == .leftParen,
            i + 1 < self.range.upperBound, !self.tokens[i + 1].keyword.startsStatement
        {
            var j = i + 1
            while j < self.range.upperBound && self.tokens[j].kind != .rightParen {
                if self.tokens[j].isName {
                    // The target's own columns: renamed when it is mapped, never taken for another table's.
                    if mapped { self.add(j, table: key, into: &plan) }
                    assigned.insert(j)
                }
                j += 1
            }
            return nil
        }
        let next = i < self.range.upperBound ? self.tokens[i].keyword : .none
        if !mapped || next == .set || next == .default { return nil }
        return "INSERT without a column list into '\(self.display(mappedTable: key))', whose columns are renamed on the "
            + "mirror, cannot be translated; name the columns"
    }

    /// Names directly after a top-level `SET`/`UPDATE` or a comma in such a list, followed by `=`.
    private func assignmentTargets(owner: Int, into plan: inout RewritePlan, assigned: inout Set<Int>) {
        let key = self.tableKeys[owner]
        guard self.renamer.maps[key] != nil else { return }
        var depth = 0
        var inList = false
        for i in self.range {
            let token = self.tokens[i]
            switch token.kind {
            case .leftParen: depth += 1
            case .rightParen: depth -= 1
            default: break
            }
            guard depth == 0 else { continue }
            if token.keyword == .set || (token.keyword == .update && i > self.range.lowerBound) {
                inList = true
                continue
            }
            if [.where, .from, .returning, .order, .limit, .on, .values, .select].contains(token.keyword) { inList = false }
            guard inList, token.isName, i > self.range.lowerBound,
                self.tokens[i - 1].kind == .comma || self.tokens[i - 1].keyword == .set || self.tokens[i - 1].keyword == .update,
                i + 1 < self.range.upperBound, self.isEquals(self.tokens[i + 1])
            else { continue }
            self.add(i, table: key, into: &plan)
            assigned.insert(i)
        }
    }

    /// `q.col`: renamed when `q` is a table (or alias) of the statement with a map for `col`.
    private func qualified(column i: Int, qualifier q: Int, into plan: inout RewritePlan) -> String? {
        let column = self.normalized(i)
        var table: [UInt8]?
        let name = self.normalized(q)
        if let alias = self.aliasNames[name] {
            // A derived table's alias, or one declared twice, stays unresolved.
            table = alias.map { self.tableKeys[$0] }
        } else {
            if let index = self.tableKeys.indices.first(where: { self.tableKeys[$0] == name && !self.analysis.tables[$0].hasAlias }) {
                table = self.tableKeys[index]
            } else if self.renamer.dialect == .postgres, name == Array("excluded".utf8), let target = self.insertTarget() {
                table = self.tableKeys[target]
            }
        }
        guard let table else {
            if self.renamer.maps.values.contains(where: { $0[column] != nil }) {
                return "'\(self.display(q)).\(self.display(i))' names a column renamed on the mirror through '\(self.display(q))', "
                    + "which is not a table of the statement (a derived table or CTE); its columns cannot be traced"
            }
            return nil
        }
        if self.renamer.maps[table]?[column] != nil { self.add(i, table: table, into: &plan) }
        return nil
    }

    /// Whether a name token at `i` can be a column reference: not a function or type name, not an alias being
    /// declared, not a qualifier.
    private func isColumnPosition(_ i: Int) -> Bool {
        let next = i + 1 < self.range.upperBound ? self.tokens[i + 1] : nil
        if next?.kind == .dot { return false }
        if next?.kind == .leftParen && self.tokens[i].kind == .word { return false }
        if i > self.range.lowerBound {
            let previous = self.tokens[i - 1]
            if previous.keyword == .as { return false }
            if previous.kind == .operator && self.bytes(previous) == [0x3A, 0x3A] { return false }  // `x::type`
        }
        return true
    }

    /// `*` directly after SELECT, DISTINCT, ALL, a comma or `t.` — a star select, not a multiplication or `count(*)`.
    private func isSelectStar(_ i: Int) -> Bool {
        guard self.bytes(self.tokens[i]) == [0x2A], i > self.range.lowerBound else { return false }
        let previous = self.tokens[i - 1]
        return previous.keyword == .select || previous.keyword == .distinct || previous.keyword == .all
            || previous.kind == .comma || previous.kind == .dot
    }

    private func isEquals(_ token: SignificantToken) -> Bool { token.kind == .operator && self.bytes(token) == [0x3D] }

    private func firstMappedName(in tables: Set<[UInt8]>) -> String? {
        for i in self.range where self.tokens[i].isName {
            let name = self.normalized(i)
            if tables.contains(where: { self.renamer.maps[$0]?[name] != nil }) { return self.display(i) }
        }
        return nil
    }

    private func add(_ i: Int, table: [UInt8], into plan: inout RewritePlan) {
        guard let newName = self.renamer.maps[table]?[self.normalized(i)] else { return }
        let token = self.tokens[i]
        plan.replace(token.start, token.end,
            with: NameRenderer.render(newName, like: token, in: self.text.bytes, dialect: self.renamer.dialect))
    }

    private func normalized(_ i: Int) -> [UInt8] {
        var out: [UInt8] = []
        self.text.forEachByte(self.tokens[i], normalized: true) { out.append($0) }
        return out
    }

    private func bytes(_ token: SignificantToken) -> [UInt8] { Array(self.text.bytes[token.start..<token.end]) }
    private func display(_ i: Int) -> String { String(decoding: self.text.logical(self.tokens[i]), as: UTF8.self) }
    private func display(mappedTable key: [UInt8]) -> String { String(decoding: key, as: UTF8.self) }
}
