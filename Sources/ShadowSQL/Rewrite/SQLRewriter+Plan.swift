/// Turning one statement's analysis into edits, or a refusal.
extension SQLRewriter {
    mutating func plan(statement: StatementAnalysis, mapping: PreparedMapping, text: IdentifierText) -> Refusal? {
        let lane = mapping.source
        if let problem = statement.problem {
            switch problem {
            case .unanalysable(let detail):
                return self.refusal(lane, nil, .unanalysable, "statement refused: \(detail); it cannot be analysed safely")
            case .unsupported(let detail):
                return self.refusal(lane, nil, .unsupported,
                    "statement refused: \(detail) cannot be isolated in a lane; run it on the base lane")
            }
        }
        if let procedure = statement.procedure,
            !self.isAllowedRoutine(lane, qualifier: procedure.qualifier, name: procedure.name, text: text)
        {
            let full = self.displayName(qualifier: procedure.qualifier, name: procedure.name, text: text)
            return self.refusal(lane, full, .routines,
                "CALL of routine '\(full)' refused: its body cannot be checked; add it to lanes.\(lane.lane).routines if it only touches mapped tables")
        }
        for call in statement.calls {
            if let refusal = self.checkCall(call, statement: statement, lane: lane, text: text) { return refusal }
        }
        self.decisions.removeAll(keepingCapacity: true)
        for reference in statement.tables {
            let qualifier = reference.qualifier >= 0 ? self.tokens[reference.qualifier] : nil
            let name = self.tokens[reference.name]
            let decision = mapping.resolve(
                qualifier: qualifier, name: name, renameTarget: reference.isRenameTarget, text: text)
            self.decisions.append(decision)
            switch decision {
            case .keep:
                continue
            case .unmapped:
                let policy = statement.policyIsWrite ? lane.unmappedWrites : lane.unmappedReads
                if policy == .reject {
                    let table = self.displayName(qualifier: reference.qualifier, name: reference.name, text: text)
                    return self.unmappedRefusal(statement, lane: lane, table: table)
                }
            case .rename(let newQualifier, let newName):
                // PostgreSQL truncates identifiers to 63 bytes (with a NOTICE only): a longer shadow name would be
                // cut back to the base name, and the statement would run on the base table.
                if self.dialect == .postgres,
                    let long = [newQualifier, newName].compactMap({ $0 }).first(where: { $0.count > Self.postgresNameLimit })
                {
                    let table = self.displayName(qualifier: reference.qualifier, name: reference.name, text: text)
                    return self.refusal(lane, table, .unsupported,
                        "statement refused: the shadow name '\(String(decoding: long, as: UTF8.self))' for table '\(table)' is longer than PostgreSQL's \(Self.postgresNameLimit)-byte limit, and the server would cut it back to another name; map '\(table)' to a shorter name in lanes.\(lane.lane).tables.map")
                }
                self.addEdits(qualifier: reference.qualifier, name: reference.name, newQualifier: newQualifier, newName: newName,
                    text: text)
            }
        }
        self.renameQualifiers(statement, text: text)
        return nil
    }

    /// A function call passes when it is a built-in without side effects or a routine the lane allows.
    func checkCall(_ call: RoutineCall, statement: StatementAnalysis, lane: LaneMapping, text: IdentifierText) -> Refusal? {
        let nameToken = self.tokens[call.name]
        if nameToken.kind != .word && nameToken.kind != .quotedIdentifier {
            return self.refusal(lane, nil, .unanalysable,
                "statement refused: a call at byte \(nameToken.start) has no readable name; it cannot be analysed safely")
        }
        let verdict = BuiltinRoutines.classify(
            qualifier: call.qualifier >= 0
                ? (text.logical(self.tokens[call.qualifier]), self.tokens[call.qualifier].kind == .quotedIdentifier) : nil,
            name: text.logical(nameToken),
            quoted: nameToken.kind == .quotedIdentifier,
            spaced: self.tokens[call.name + 1].start != nameToken.end,
            position: self.position(
                before: call.qualifier >= 0 ? call.qualifier : call.name,
                isDDL: statement.verb == .create || statement.verb == .alter),
            catalogFirst: self.catalogSearchedFirst,
            dialect: self.dialect)
        if verdict == .builtin || self.isAllowedRoutine(lane, qualifier: call.qualifier, name: call.name, text: text) {
            return nil
        }
        let full = self.displayName(qualifier: call.qualifier, name: call.name, text: text)
        switch verdict {
        case .builtin:
            return nil
        case .sideEffect(let effect):
            return self.refusal(lane, full, .unsupported,
                "function '\(full)' refused: \(effect); run it on the base lane, or add it to lanes.\(lane.lane).routines to accept that")
        case .spacedGrammarFunction:
            return self.refusal(lane, full, .routines,
                "call of '\(full) (' refused: with a space before '(' the server calls a stored function named '\(full)', not the built-in; remove the space")
        case .userRoutine:
            return self.refusal(lane, full, .routines,
                "call of function '\(full)' refused: its body cannot be checked; add it to lanes.\(lane.lane).routines if it only touches mapped tables")
        }
    }

    /// What stands before the name at `index`: whether an expression may start there, and the two cases where an
    /// unreserved word after such a place is still syntax. In CREATE/ALTER a comma separates definitions and
    /// subcommands (`SET (…), RESET (…)`), not arguments.
    func position(before index: Int, isDDL: Bool) -> BuiltinRoutines.Position {
        guard index > 0 else { return BuiltinRoutines.Position(atExpressionStart: false) }
        let before = self.tokens[index - 1]
        var position = BuiltinRoutines.Position(atExpressionStart: false)
        switch before.kind {
        case .leftParen, .operator:
            position.atExpressionStart = true
        case .comma:
            position.atExpressionStart = !isDDL
        case .word:
            switch before.keyword {
            case .select, .where, .and, .or, .not, .when, .then, .else, .having, .returning, .on, .in, .is, .like,
                .distinct, .all, .do, .limit, .offset, .values, .default, .check, .by, .set:
                position.atExpressionStart = true
            default:
                break
            }
            position.afterThen = before.keyword == .then
            position.afterPartitionBy = before.keyword == .by && index > 1 && self.tokens[index - 2].keyword == .partition
        default:
            break
        }
        return position
    }

    /// An allowed qualified entry matches only that qualified call; a bare entry matches the name in any schema.
    /// Names compare as the server resolves them: MySQL ignores case; PostgreSQL folds unquoted names to lower case
    /// and compares with the configured (unquoted) entry exactly, as for tables.
    func isAllowedRoutine(_ lane: LaneMapping, qualifier: Int, name: Int, text: IdentifierText) -> Bool {
        guard !lane.allowedRoutines.isEmpty else { return false }
        func spelling(_ index: Int) -> String {
            let token = self.tokens[index]
            let bytes = text.logical(token)
            let folded = self.dialect == .mysql || token.kind != .quotedIdentifier ? bytes.map(ByteClass.lower) : bytes
            return String(decoding: folded, as: UTF8.self)
        }
        let bare = spelling(name)
        let full = qualifier >= 0 ? spelling(qualifier) + "." + bare : bare
        return lane.allowedRoutines.contains { entry in
            let configured = self.dialect == .mysql ? entry.lowercased() : entry
            return configured == full || (!configured.contains(".") && configured == bare)
        }
    }

    /// Edits for one renamed reference: `qualifier` and `name` are token positions (`qualifier` -1 when absent).
    mutating func addEdits(qualifier: Int, name: Int, newQualifier: [UInt8]?, newName: [UInt8]?, text: IdentifierText) {
        let bytes = text.bytes
        if let newQualifier {
            if qualifier >= 0 {
                self.plan.replace(token: qualifier, in: self.tokens, insertBefore: false,
                    with: NameRenderer.render(newQualifier, like: self.tokens[qualifier], in: bytes, dialect: self.dialect))
            } else {
                self.plan.replace(token: name, in: self.tokens, insertBefore: true,
                    with: NameRenderer.renderQualifier(newQualifier, before: self.tokens[name], in: bytes, dialect: self.dialect))
            }
        }
        if let newName {
            self.plan.replace(token: name, in: self.tokens, insertBefore: false,
                with: NameRenderer.render(newName, like: self.tokens[name], in: bytes, dialect: self.dialect))
        }
    }

    /// `t.col` and `db.t.col` follow the rename of an unaliased table `t`; aliases are never renamed.
    mutating func renameQualifiers(_ statement: StatementAnalysis, text: IdentifierText) {
        guard !statement.qualifiers.isEmpty, self.decisions.contains(where: { if case .rename = $0 { true } else { false } }) else {
            return
        }
        for qualifierReference in statement.qualifiers {
            let table = self.tokens[qualifierReference.table]
            if statement.aliases.contains(where: { text.same(self.tokens[$0.token], table) }) { continue }
            for (index, reference) in statement.tables.enumerated() where !reference.hasAlias {
                guard case .rename(let newQualifier, let newName) = self.decisions[index],
                    text.same(self.tokens[reference.name], table)
                else { continue }
                if qualifierReference.database >= 0 && reference.qualifier >= 0
                    && !text.same(self.tokens[reference.qualifier], self.tokens[qualifierReference.database])
                {
                    continue
                }
                if let newName {
                    self.plan.replace(token: qualifierReference.table, in: self.tokens, insertBefore: false,
                        with: NameRenderer.render(newName, like: table, in: text.bytes, dialect: self.dialect))
                }
                if let newQualifier, qualifierReference.database >= 0 {
                    let database = self.tokens[qualifierReference.database]
                    self.plan.replace(token: qualifierReference.database, in: self.tokens, insertBefore: false,
                        with: NameRenderer.render(newQualifier, like: database, in: text.bytes, dialect: self.dialect))
                }
                break
            }
        }
    }

    func displayName(qualifier: Int, name: Int, text: IdentifierText) -> String {
        let n = String(decoding: text.logical(self.tokens[name]), as: UTF8.self)
        guard qualifier >= 0 else { return n }
        return String(decoding: text.logical(self.tokens[qualifier]), as: UTF8.self) + "." + n
    }

    /// PostgreSQL's identifier limit (NAMEDATALEN − 1 bytes).
    static let postgresNameLimit = 63

    func unmappedRefusal(_ statement: StatementAnalysis, lane: LaneMapping, table: String) -> Refusal {
        let verb = String(describing: statement.verb).uppercased()
        let phrase: String
        switch statement.verb {
        case .insert, .replace, .merge, .load: phrase = "\(verb) into"
        case .delete: phrase = "DELETE from"
        case .select, .with, .values, .table, .show, .explain, .describe, .desc: phrase = "\(verb) from"
        default: phrase = "\(verb) of"
        }
        let rule: Refusal.Rule = statement.policyIsWrite ? .unmappedWrites : .unmappedReads
        let key = rule.rawValue
        return self.refusal(lane, table, rule,
            "\(phrase) unmapped table '\(table)' refused by \(key)=reject; add it to lanes.\(lane.lane).tables.map, set a suffix rule, or set \(key): pass")
    }
}
