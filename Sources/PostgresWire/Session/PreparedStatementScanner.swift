import ShadowSQL

/// A statement the session follows beyond the lane switch: SQL-level prepared statements (`PREPARE`, `DEALLOCATE`,
/// `DISCARD ALL`) and transaction control (`SAVEPOINT`, `RELEASE`, `ROLLBACK TO`, and the statements that end a
/// transaction). Each is matched to the CommandComplete tag it produces, in statement order.
enum SessionOperation: Sendable, Hashable {
    /// `PREPARE name [(types)] AS …`, routed in `lane` (tag `PREPARE`).
    case prepare(name: String, lane: String)
    /// `DEALLOCATE [PREPARE] name` (tag `DEALLOCATE`).
    case deallocate(String)
    /// `DEALLOCATE [PREPARE] ALL` (tag `DEALLOCATE ALL`).
    case deallocateAll
    /// `DISCARD ALL` (tag `DISCARD ALL`): every prepared statement and portal is gone.
    case discardAll
    /// `SAVEPOINT name` (tag `SAVEPOINT`); nil when the name cannot be read (a `U&"…"` identifier).
    case savepoint(String?)
    /// `RELEASE [SAVEPOINT] name` (tag `RELEASE`).
    case release(String?)
    /// `ROLLBACK [WORK|TRANSACTION] TO [SAVEPOINT] name` (tag `ROLLBACK`, the same as a full rollback).
    case rollbackTo(String?)
    /// `COMMIT`, `END`, `ROLLBACK`, `ABORT`, `PREPARE TRANSACTION` (tags `COMMIT`, `ROLLBACK`, `PREPARE TRANSACTION`).
    case endTransaction

    /// Whether `tag` is the CommandComplete tag this statement produces when it succeeds.
    func produces(tag: String) -> Bool {
        switch self {
        case .prepare: tag == "PREPARE"
        case .deallocate: tag == "DEALLOCATE"
        case .deallocateAll: tag == "DEALLOCATE ALL"
        case .discardAll: tag == "DISCARD ALL"
        case .savepoint: tag == "SAVEPOINT"
        case .release: tag == "RELEASE"
        case .rollbackTo: tag == "ROLLBACK"
        case .endTransaction: tag == "COMMIT" || tag == "ROLLBACK" || tag == "PREPARE TRANSACTION"
        }
    }
}

/// What ``PreparedStatementScanner`` found in one SQL text.
struct PreparedStatementScan: Sendable, Hashable {
    /// One statement of the text that matters to the session, in order.
    enum Item: Sendable, Hashable {
        case operation(SessionOperation)
        /// `EXECUTE name` (also `EXPLAIN … EXECUTE name`, `CREATE TABLE … AS EXECUTE name`); nil when the name
        /// cannot be read.
        case execute(String?)
    }

    var items: [Item] = []
    /// `set_config('<lane setting>', …)` appears: the server would switch lanes behind the proxy's back.
    var setsLaneSettingByFunction = false
    /// `set_config('search_path', …)` appears: the path (and so what an unqualified call resolves to) is unknown.
    var setsSearchPathByFunction = false
    /// Every statement of the text ends the transaction (COMMIT, END, ROLLBACK without TO, ABORT).
    var onlyEndsTransaction = false

    /// The operations alone, in order.
    var operations: [SessionOperation] {
        items.compactMap { if case .operation(let op) = $0 { op } else { nil } }
    }
}

/// Finds the statements of a PostgreSQL SQL text that create, use or drop SQL-level prepared statements, or that
/// move between savepoints, and calls of `set_config` on the lane setting. A cheap byte pre-check skips the
/// tokenizer for texts that cannot contain any of them, so most statements cost one pass over their bytes.
enum PreparedStatementScanner {
    static func scan(_ sql: UnsafeRawBufferPointer, lane: String, setting: String) -> PreparedStatementScan {
        var result = PreparedStatementScan()
        let lowerSetting = Array(setting.lowercased().utf8)
        let (mayMatter, mayHaveSetConfig) = precheck(sql)
        guard mayMatter else { return result }

        var tokenizer = SQLTokenizer(sql, dialect: .postgres)
        var statement: [Token] = []
        var allEnd = true
        var count = 0
        func finish() {
            guard !statement.isEmpty else { return }
            count += 1
            let before = result.items.count
            interpret(statement, sql, lane: lane, into: &result)
            let ends = result.items.count == before + 1 && result.items.last == .operation(.endTransaction)
            if !ends { allEnd = false }
            if mayHaveSetConfig, callsSetConfig(statement, sql, setting: lowerSetting) {
                result.setsLaneSettingByFunction = true
            }
            if mayHaveSetConfig, callsSetConfig(statement, sql, setting: Self.searchPath) {
                result.setsSearchPathByFunction = true
            }
            statement.removeAll(keepingCapacity: true)
        }
        while let token = tokenizer.next() {
            if token.kind == .semicolon {
                finish()
                continue
            }
            if token.kind.isSignificant { statement.append(token) }
        }
        finish()
        result.onlyEndsTransaction = count > 0 && allEnd
        return result
    }

    /// Convenience over strings (tests).
    static func scan(_ sql: String, lane: String, setting: String = "shadow.lane") -> PreparedStatementScan {
        Array(sql.utf8).withUnsafeBytes { scan($0, lane: lane, setting: setting) }
    }

    static let keywords: [[UInt8]] = [
        "set_config", "prepare", "execute", "deallocate", "savepoint", "release", "rollback", "discard",
    ].map { Array($0.utf8) }

    /// The setting whose `set_config` makes the session's search_path unknown.
    static let searchPath = Array("search_path".utf8)

    /// One pass over the bytes: whether any keyword the scanner acts on occurs (ASCII, case-insensitive), and
    /// whether `set_config` does.
    static func precheck(_ sql: UnsafeRawBufferPointer) -> (any: Bool, setConfig: Bool) {
        var any = false
        var i = 0
        while i < sql.count {
            let b = sql[i] | 0x20
            if b == UInt8(ascii: "s") || b == UInt8(ascii: "p") || b == UInt8(ascii: "e") || b == UInt8(ascii: "d")
                || b == UInt8(ascii: "r")
            {
                for (k, word) in keywords.enumerated() where word[0] == b && sql.count - i >= word.count {
                    var j = 1
                    while j < word.count, sql[i + j] == word[j] || (word[j] != UInt8(ascii: "_") && sql[i + j] | 0x20 == word[j]) {
                        j += 1
                    }
                    if j == word.count {
                        if k == 0 { return (true, true) }
                        any = true
                    }
                }
            }
            i += 1
        }
        return (any, false)
    }

    static func word(_ t: Token, _ sql: UnsafeRawBufferPointer) -> String? {
        guard t.kind == .word else { return nil }
        return String(decoding: UnsafeRawBufferPointer(rebasing: sql[t.start..<t.end]), as: UTF8.self).lowercased()
    }

    /// An identifier's name as the server folds it: unquoted lower-cased, `"…"` kept with `""` unescaped; nil for
    /// anything else (`U&"…"`, literals, punctuation).
    static func name(_ t: Token, _ sql: UnsafeRawBufferPointer) -> String? {
        switch t.kind {
        case .word:
            return word(t, sql)
        case .quotedIdentifier:
            guard sql[t.start] == UInt8(ascii: "\""), t.end - t.start >= 2 else { return nil }
            let inner = String(decoding: UnsafeRawBufferPointer(rebasing: sql[(t.start + 1)..<(t.end - 1)]), as: UTF8.self)
            return inner.replacingOccurrences(of: "\"\"", with: "\"")
        default:
            return nil
        }
    }

    static func interpret(_ t: [Token], _ sql: UnsafeRawBufferPointer, lane: String, into result: inout PreparedStatementScan) {
        guard let first = word(t[0], sql) else { return }
        func at(_ i: Int) -> String? { i < t.count ? word(t[i], sql) : nil }
        switch first {
        case "prepare":
            if at(1) == "transaction" {
                result.items.append(.operation(.endTransaction))
            } else if t.count > 1, let n = name(t[1], sql) {
                result.items.append(.operation(.prepare(name: n, lane: lane)))
            }
        case "deallocate":
            var i = 1
            if at(i) == "prepare", t.count > 2 { i += 1 }
            if at(i) == "all", t.count == i + 1 {
                result.items.append(.operation(.deallocateAll))
            } else if i < t.count {
                // An unreadable name drops nothing the proxy knows of (fail closed: the record stays).
                if let n = name(t[i], sql) { result.items.append(.operation(.deallocate(n))) }
            }
        case "discard":
            if at(1) == "all" { result.items.append(.operation(.discardAll)) }
        case "savepoint":
            result.items.append(.operation(.savepoint(t.count > 1 ? name(t[1], sql) : nil)))
        case "release":
            var i = 1
            if at(i) == "savepoint", t.count > 2 { i += 1 }
            result.items.append(.operation(.release(i < t.count ? name(t[i], sql) : nil)))
        case "rollback", "abort":
            var i = 1
            if at(i) == "work" || at(i) == "transaction" { i += 1 }
            if first == "rollback", at(i) == "to" {
                i += 1
                if at(i) == "savepoint", t.count > i + 1 { i += 1 }
                result.items.append(.operation(.rollbackTo(i < t.count ? name(t[i], sql) : nil)))
            } else if at(i) == "prepared" {
                // ROLLBACK PREPARED 'gid' ends no transaction of this session.
                return
            } else {
                result.items.append(.operation(.endTransaction))
            }
        case "commit", "end":
            if at(1) != "prepared" { result.items.append(.operation(.endTransaction)) }
        case "execute":
            result.items.append(.execute(t.count > 1 ? name(t[1], sql) : nil))
        case "explain", "create":
            // EXPLAIN [ANALYZE] [(…)] EXECUTE name; CREATE TABLE … AS EXECUTE name. In CREATE, EXECUTE is only a
            // prepared statement after AS (CREATE TRIGGER … EXECUTE FUNCTION is not one).
            for i in 1..<t.count where at(i) == "execute" {
                if first == "create", at(i - 1) != "as" { continue }
                result.items.append(.execute(i + 1 < t.count ? name(t[i + 1], sql) : nil))
            }
        default:
            return
        }
    }

    /// Whether the statement calls `set_config` (any qualifier, quoted or not) with a string literal naming the lane
    /// setting anywhere among the call's tokens.
    static func callsSetConfig(_ t: [Token], _ sql: UnsafeRawBufferPointer, setting: [UInt8]) -> Bool {
        for i in 0..<t.count where name(t[i], sql) == "set_config" {
            guard i + 1 < t.count, t[i + 1].kind == .leftParen else { continue }
            var depth = 0
            var j = i + 1
            while j < t.count {
                if t[j].kind == .leftParen { depth += 1 }
                if t[j].kind == .rightParen {
                    depth -= 1
                    if depth == 0 { break }
                }
                if t[j].kind == .string || t[j].kind == .unterminated,
                    containsBytes(UnsafeRawBufferPointer(rebasing: sql[t[j].start..<t[j].end]), setting)
                {
                    return true
                }
                j += 1
            }
        }
        return false
    }

    /// Whether `haystack` contains `needle` (ASCII case-insensitive; `needle` is lower-case).
    static func containsBytes(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        for i in 0...(haystack.count - needle.count) {
            var j = 0
            while j < needle.count {
                let b = haystack[i + j]
                let lower = b >= 0x41 && b <= 0x5A ? b | 0x20 : b
                if lower != needle[j] { break }
                j += 1
            }
            if j == needle.count { return true }
        }
        return false
    }
}
