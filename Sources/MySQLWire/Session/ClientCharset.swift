import ShadowSQL

/// The connection's character set (`character_set_client`) as far as it decides how the server splits statement
/// bytes into tokens.
///
/// The proxy's lexer reads statements as UTF-8. Under utf8mb3, utf8mb4, ascii and binary the server splits bytes the
/// same way. Under other character sets it may not: in gbk, big5, sjis and cp932 a character's second byte can be
/// `\` (so `'文\'` — valid UTF-8 ending in 0x87 0x5C — is a complete string to a gbk server and an unterminated one
/// here), and single-byte sets such as latin1 treat 0xA0 as whitespace. Statements that are all ASCII read the same
/// under every character set a client can use, so a lane refuses only statements with a byte of 0x80 or above
/// while the character set is not one of the four.
public enum ClientCharset: Sendable, Hashable {
    /// utf8mb3, utf8mb4, ascii or binary.
    case readsAsUTF8
    /// Another character set, or one the proxy could not tell (its description).
    case other(String)

    /// The character set of a handshake or COM_CHANGE_USER collation id.
    public init(collation: UInt16) {
        switch collation {
        case 11, 65, 63,  // ascii, binary
            33, 76, 83, 192...215, 223,  // utf8mb3
            45, 46, 224...247, 255...309:  // utf8mb4 (MySQL 8's 0900 collations from 255)
            self = .readsAsUTF8
        case 1, 84: self = .other("big5")
        case 5, 8, 15, 31, 47, 48, 49, 94: self = .other("latin1")
        case 13, 88: self = .other("sjis")
        case 28, 87: self = .other("gbk")
        case 95, 96: self = .other("cp932")
        default: self = .other("collation \(collation)")
        }
    }

    /// The character set named in a SET statement (`utf8mb4`, `'gbk'`).
    public init(name: String) {
        switch name.lowercased() {
        case "utf8", "utf8mb3", "utf8mb4", "ascii", "binary": self = .readsAsUTF8
        default: self = .other(name)
        }
    }

    public var readsAsUTF8: Bool { self == .readsAsUTF8 }

    /// The character set after the statements in `sql` ran: `SET NAMES x`, `SET CHARACTER SET x`, `SET CHARSET x`
    /// and assignments to `character_set_client` (`@@…`, `@@session.…` included); the last one wins. A value the
    /// proxy cannot read (an expression, a variable, DEFAULT) counts as another character set.
    public func after(_ sql: UnsafeRawBufferPointer) -> ClientCharset {
        guard Self.mentionsCharset(sql) else { return self }
        var result = self
        var tokenizer = SQLTokenizer(sql, dialect: .mysql)
        var statement: [Token] = []
        func finish() {
            if let value = Self.assignedCharset(statement, sql) { result = value }
            statement.removeAll(keepingCapacity: true)
        }
        while let token = tokenizer.next() {
            if token.kind == .semicolon {
                finish()
            } else if token.kind.isSignificant {
                statement.append(token)
            }
        }
        finish()
        return result
    }

    static func mentionsCharset(_ sql: UnsafeRawBufferPointer) -> Bool {
        MySQLSessionStateMachine.containsCaseInsensitive(sql, "names")
            || MySQLSessionStateMachine.containsCaseInsensitive(sql, "charset")
            || MySQLSessionStateMachine.containsCaseInsensitive(sql, "character")
    }

    /// The character set a SET statement's tokens assign, or nil when it assigns none.
    static func assignedCharset(_ tokens: [Token], _ sql: UnsafeRawBufferPointer) -> ClientCharset? {
        func text(_ i: Int) -> String {
            String(decoding: UnsafeRawBufferPointer(rebasing: sql[tokens[i].start..<tokens[i].end]), as: UTF8.self)
        }
        func word(_ i: Int) -> String? { i < tokens.count ? text(i).lowercased() : nil }
        guard word(0) == "set" else { return nil }
        var found: ClientCharset?
        var i = 1
        while i < tokens.count {
            let current = word(i) ?? ""
            var valueAt: Int?
            if current == "names" || current == "charset" {
                valueAt = i + 1
            } else if current == "character", word(i + 1) == "set" {
                valueAt = i + 2
            } else if current == "character_set_client" || current == "@@character_set_client"
                || current.hasSuffix(".character_set_client")
            {
                let operatorAt = i + 1
                if let op = word(operatorAt), op == "=" || op == ":=" { valueAt = operatorAt + 1 }
            }
            if let at = valueAt {
                found = Self.value(at: at, tokens, sql, text: text)
                i = at + 1
            } else {
                i += 1
            }
        }
        return found
    }

    private static func value(
        at i: Int, _ tokens: [Token], _ sql: UnsafeRawBufferPointer, text: (Int) -> String
    ) -> ClientCharset {
        guard i < tokens.count else { return .other("a missing value") }
        // An expression, not a plain name: the value is only known to the server.
        if i + 1 < tokens.count, tokens[i + 1].kind != .comma, tokens[i + 1].kind != .word { return .other("an expression") }
        let raw = text(i)
        switch tokens[i].kind {
        case .word:
            return raw.lowercased() == "default" ? .other("the server default") : ClientCharset(name: raw)
        case .string, .quotedIdentifier:
            return ClientCharset(name: String(raw.dropFirst().dropLast()))
        default:
            return .other(raw)
        }
    }
}
