/// Detects session statements cheaply: only statements whose first keyword is SET, RESET, DISCARD or USE
/// are looked at, so the base-lane cost is one keyword check per statement and no allocation.
public enum SessionStatementScanner {
    /// Returns the session effects of the statements in `sql`, in order.
    public static func effects(in sql: UnsafeRawBufferPointer, dialect: SQLDialect) -> [SessionEffect] {
        var effects: [SessionEffect] = []
        var tokenizer = SQLTokenizer(sql, dialect: dialect)
        var atStart = true
        var collecting = false
        var statement: [SignificantToken] = []
        // Statements are separated by ';' only: once a statement that is not a session statement has begun and no
        // ';' byte follows, no later statement can exist, and the rest need not be tokenized (most statements end
        // here, after one token). A ';' inside a literal or comment only means the slower path is taken. Trailing
        // ';' and whitespace (`SELECT 1;`) end the text with empty statements, which have no effect.
        var end = sql.count
        while end > 0, sql[end - 1] == UInt8(ascii: ";") || ByteClass.isWhitespace(sql[end - 1]) { end -= 1 }
        var lastSemicolon = end - 1
        while lastSemicolon >= 0 && sql[lastSemicolon] != UInt8(ascii: ";") { lastSemicolon -= 1 }
        while true {
            let token = tokenizer.next()
            if token == nil || token?.kind == .semicolon {
                if collecting {
                    self.interpret(statement, sql, dialect, into: &effects)
                    statement.removeAll(keepingCapacity: true)
                }
                collecting = false
                atStart = true
                if token == nil { break }
                continue
            }
            guard let token, token.kind.isSignificant else { continue }
            if token.kind == .unterminated { return effects }
            if atStart {
                atStart = false
                guard token.kind == .word else {
                    if token.end > lastSemicolon { return effects }
                    continue
                }
                switch Keyword.lookup(sql, token.start, token.end) {
                case .set, .reset, .discard, .use: collecting = true
                case .execute where dialect == .mysql: collecting = true
                default:
                    if token.end > lastSemicolon { return effects }
                    continue
                }
            }
            if collecting {
                let keyword = token.kind == .word ? Keyword.lookup(sql, token.start, token.end) : .none
                statement.append(SignificantToken(kind: token.kind, keyword: keyword, start: token.start, end: token.end))
            }
        }
        return effects
    }

    /// Convenience over strings (tests, CLI).
    public static func effects(in sql: String, dialect: SQLDialect) -> [SessionEffect] {
        Array(sql.utf8).withUnsafeBytes { effects(in: $0, dialect: dialect) }
    }

    static func interpret(_ t: [SignificantToken], _ sql: UnsafeRawBufferPointer, _ dialect: SQLDialect,
        into effects: inout [SessionEffect])
    {
        let text = IdentifierText(bytes: sql, dialect: dialect, caseSensitive: true)
        switch t[0].keyword {
        case .execute:
            effects.append(.executePrepared)
        case .use:
            if dialect == .mysql, t.count >= 2, t[1].isName {
                effects.append(.useDatabase(String(decoding: text.logical(t[1]), as: UTF8.self)))
            }
        case .reset:
            guard dialect == .postgres, t.count >= 2 else { return }
            if t[1].keyword == .all && t.count == 2 {
                effects.append(.resetAll)
            } else if let (name, _) = self.postgresName(t, 1, text) {
                effects.append(.setVariable(name: name, value: nil, scope: .session))
            }
        case .discard:
            if dialect == .postgres, t.count == 2, t[1].keyword == .all { effects.append(.resetAll) }
        case .set:
            if dialect == .mysql {
                self.mysqlSet(t, sql, text, into: &effects)
            } else {
                self.postgresSet(t, sql, text, into: &effects)
            }
        default:
            return
        }
    }

    /// `SET @a = 1, @lane := 'gray'` (user variables), and the connection character set: `SET NAMES x [COLLATE y]`,
    /// `SET CHARACTER SET x`, `SET CHARSET x`, `SET [SESSION] character_set_client = x` (`@@…` forms included).
    static func mysqlSet(_ t: [SignificantToken], _ sql: UnsafeRawBufferPointer, _ text: IdentifierText,
        into effects: inout [SessionEffect])
    {
        func word(_ i: Int) -> String? {
            guard i < t.count, t[i].kind == .word || t[i].kind == .variable else { return nil }
            return String(decoding: UnsafeRawBufferPointer(rebasing: sql[t[i].start..<t[i].end]), as: UTF8.self).lowercased()
        }
        // The value of a character set: one name or string, then nothing but COLLATE; anything else is an expression.
        func charset(_ v: Int, end: Int) -> String? {
            guard v < end, t[v].kind == .word || t[v].kind == .string || t[v].kind == .quotedIdentifier,
                v + 1 == end || word(v + 1) == "collate"
            else { return nil }
            return self.value(t, v, v + 1, sql, .mysql).map { $0.hasPrefix("`") ? String($0.dropFirst().dropLast()) : $0 }
        }
        switch word(1) {
        case "names", "charset":
            effects.append(.setCharacterSet(charset(2, end: t.count)))
            return
        case "character" where t.count > 2 && t[2].keyword == .set:
            effects.append(.setCharacterSet(charset(3, end: t.count)))
            return
        default:
            break
        }
        var i = 1
        while i < t.count {
            if t[i].keyword == .session || t[i].keyword == .local { i += 1 }
            guard i < t.count else { break }
            // One assignment: target, `=` or `:=`, expression up to a top-level comma.
            let target = t[i]
            var j = i + 1
            while j < t.count && t[j].kind == .operator && (sql[t[j].start] == 0x3A || sql[t[j].start] == 0x3D) { j += 1 }
            let valueStart = j
            var depth = 0
            while j < t.count {
                if t[j].kind == .leftParen { depth += 1 }
                if t[j].kind == .rightParen { depth -= 1 }
                if depth == 0 && t[j].kind == .comma { break }
                j += 1
            }
            if target.kind == .variable, sql[target.start] == 0x40, target.end - target.start > 1,
                sql[target.start + 1] != 0x40, valueStart > i + 1
            {
                let name = self.variableName(target, sql)
                effects.append(.setVariable(name: name, value: self.value(t, valueStart, j, sql, .mysql), scope: .session))
            } else if valueStart > i + 1, let name = word(i), Self.isSessionVariable(name, "character_set_client") {
                effects.append(.setCharacterSet(charset(valueStart, end: j)))
            } else if valueStart > i + 1, let name = word(i), Self.isSessionVariable(name, "sql_mode") {
                // One string or word (`'ANSI,NO_ZERO_DATE'`, `TRADITIONAL`, `DEFAULT`); anything else is an expression.
                let single = j == valueStart + 1 && (t[valueStart].kind == .string || t[valueStart].kind == .word)
                effects.append(.setSQLMode(single ? self.value(t, valueStart, j, sql, .mysql) : nil))
            }
            i = j + 1
        }
    }

    /// `name`, `@@name`, `@@session.name` or `@@local.name` (lower case): the session's value, not the global one.
    static func isSessionVariable(_ written: String, _ name: String) -> Bool {
        written == name || written == "@@" + name || written == "@@session." + name || written == "@@local." + name
    }

    static func variableName(_ token: SignificantToken, _ sql: UnsafeRawBufferPointer) -> String {
        var start = token.start + 1
        var end = token.end
        if end - start >= 2, let q = Optional(sql[start]), q == 0x60 || q == 0x27 || q == 0x22, sql[end - 1] == q {
            start += 1
            end -= 1
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: sql[start..<end]), as: UTF8.self)
    }

    /// `SET [SESSION|LOCAL] name {=|TO} value | DEFAULT`.
    static func postgresSet(_ t: [SignificantToken], _ sql: UnsafeRawBufferPointer, _ text: IdentifierText,
        into effects: inout [SessionEffect])
    {
        var i = 1
        var scope = SessionEffect.Scope.session
        if i < t.count && t[i].keyword == .session && t.count > i + 1 && t[i + 1].keyword != .characteristics {
            i += 1
        } else if i < t.count && t[i].keyword == .local {
            scope = .local
            i += 1
        }
        guard let (name, next) = self.postgresName(t, i, text), next < t.count else { return }
        let isAssignment = t[next].keyword == .to || (t[next].kind == .operator && sql[t[next].start] == 0x3D)
        guard isAssignment, next + 1 < t.count else { return }
        if t[next + 1].keyword == .default && next + 2 == t.count {
            effects.append(.setVariable(name: name, value: nil, scope: scope))
            return
        }
        effects.append(.setVariable(name: name, value: self.value(t, next + 1, t.count, sql, .postgres), scope: scope))
    }

    /// A possibly dotted GUC name; unquoted parts are lower-cased.
    static func postgresName(_ t: [SignificantToken], _ i: Int, _ text: IdentifierText) -> (String, Int)? {
        guard i < t.count, t[i].isName else { return nil }
        var bytes: [UInt8] = []
        var j = i
        while true {
            text.forEachByte(t[j], normalized: true) { bytes.append($0) }
            if j + 2 < t.count && t[j + 1].kind == .dot && t[j + 2].isName {
                bytes.append(0x2E)
                j += 2
            } else {
                break
            }
        }
        return (String(decoding: bytes, as: UTF8.self), j + 1)
    }

    /// A literal's value (string content, number, word); other expressions are returned as written.
    static func value(_ t: [SignificantToken], _ start: Int, _ end: Int, _ sql: UnsafeRawBufferPointer,
        _ dialect: SQLDialect) -> String?
    {
        guard start < end else { return nil }
        if end - start == 1 {
            let v = t[start]
            if v.keyword == .null { return nil }
            if v.kind == .string, let content = self.stringContent(v, sql, dialect) { return content }
            if v.kind == .word && dialect == .postgres {
                return String(decoding: UnsafeRawBufferPointer(rebasing: sql[v.start..<v.end]).map(ByteClass.lower), as: UTF8.self)
            }
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: sql[t[start].start..<t[end - 1].end]), as: UTF8.self)
    }

    /// The content of a plain `'…'`/`"…"`/`E'…'` literal; `nil` for other forms.
    static func stringContent(_ v: SignificantToken, _ sql: UnsafeRawBufferPointer, _ dialect: SQLDialect) -> String? {
        var start = v.start
        var backslash = dialect == .mysql
        if dialect == .postgres && (sql[start] | 0x20) == 0x65 {
            backslash = true
            start += 1
        }
        let quote = sql[start]
        guard quote == 0x27 || quote == 0x22, v.end - start >= 2 else { return nil }
        var out: [UInt8] = []
        var i = start + 1
        let end = v.end - 1
        while i < end {
            let b = sql[i]
            if backslash && b == 0x5C && i + 1 < end {
                out.append(sql[i + 1])
                i += 2
            } else if b == quote && i + 1 < end && sql[i + 1] == quote {
                out.append(quote)
                i += 2
            } else {
                out.append(b)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
