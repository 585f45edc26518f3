import ShadowSQL
import Testing

func kinds(_ sql: String, _ dialect: SQLDialect) -> [TokenKind] {
    SQLTokenizer.tokenize(sql, dialect: dialect).filter { $0.kind != .whitespace }.map(\.kind)
}

func texts(_ sql: String, _ dialect: SQLDialect) -> [String] {
    let bytes = Array(sql.utf8)
    return SQLTokenizer.tokenize(sql, dialect: dialect).filter { $0.kind != .whitespace }.map {
        String(decoding: bytes[$0.start..<$0.end], as: UTF8.self)
    }
}

/// (dialect, input, expected non-whitespace token texts)
let lexerTextCases: [(SQLDialect, String, [String])] = [
    (.mysql, "SELECT `a``b`.c", ["SELECT", "`a``b`", ".", "c"]),
    (.mysql, "'a\\'b' \"c\"\"d\"", ["'a\\'b'", "\"c\"\"d\""]),
    (.mysql, "a -- c\nb", ["a", "-- c", "b"]),
    (.mysql, "a --c", ["a", "-", "-", "c"]),
    (.mysql, "a --", ["a", "--"]),
    (.mysql, "a # x\nb", ["a", "# x", "b"]),
    (.mysql, "/*!50700 SELECT */", ["/*!50700", "SELECT", "*/"]),
    (.mysql, "/*M!100100 a */", ["/*M!100100", "a", "*/"]),
    (.mysql, "/*+ hint */ x", ["/*+ hint */", "x"]),
    (.mysql, "N'x' X'4A' b'01' _utf8mb4'y'", ["N'x'", "X'4A'", "b'01'", "_utf8mb4'y'"]),
    (.mysql, "0x1F 0b01 1e10 .5 1.5e-3 12abc", ["0x1F", "0b01", "1e10", ".5", "1.5e-3", "12abc"]),
    (.mysql, "@a @@global.x @`q q` @'s'", ["@a", "@@global.x", "@`q q`", "@'s'"]),
    (.mysql, "t.5", ["t", ".", "5"]),
    (.mysql, "a:=?", ["a", ":", "=", "?"]),
    (.postgres, "\"a\"\"b\" U&\"x\" U&'y'", ["\"a\"\"b\"", "U&\"x\"", "U&'y'"]),
    (.postgres, "E'a\\'b' 'c''d'", ["E'a\\'b'", "'c''d'"]),
    (.postgres, "$$a$b$$ $t$ x $$ $t$", ["$$a$b$$", "$t$ x $$ $t$"]),
    (.postgres, "$1 a$b", ["$1", "a$b"]),
    (.postgres, "/* a /* b */ c */ d", ["/* a /* b */ c */", "d"]),
    (.postgres, "a::int --x", ["a", ":", ":", "int", "--x"]),
    (.postgres, "B'01' X'1f'", ["B'01'", "X'1f'"]),
    (.postgres, "'it''s'", ["'it''s'"]),
    (.postgres, "'a\\'", ["'a\\'"]),
]

@Suite struct LexerTests {
    @Test("tokens split the input where the dialect says", arguments: lexerTextCases)
    func tokenTexts(_ dialect: SQLDialect, _ sql: String, _ expected: [String]) {
        #expect(texts(sql, dialect) == expected)
    }

    @Test("MySQL token kinds for quoting, comments and executable comments")
    func mysqlKinds() {
        #expect(kinds("`t` 'x' -- c", .mysql) == [.quotedIdentifier, .string, .comment])
        #expect(kinds("/*!40101 t */", .mysql) == [.executableCommentStart, .word, .executableCommentEnd])
        #expect(kinds("@v ? 1", .mysql) == [.variable, .placeholder, .number])
        #expect(kinds("\"x\"", .mysql) == [.string])
        #expect(kinds("'open", .mysql) == [.unterminated])
        #expect(kinds("/*!40101 open", .mysql) == [.executableCommentStart, .word, .unterminated])
    }

    @Test("PostgreSQL token kinds for identifiers, strings and parameters")
    func postgresKinds() {
        #expect(kinds("\"t\" 'x' $1 $$y$$", .postgres) == [.quotedIdentifier, .string, .placeholder, .string])
        #expect(kinds("# x", .postgres) == [.operator, .word])
        #expect(kinds("$tag$ open", .postgres) == [.unterminated])
    }

    @Test("unicode and high bytes are identifier bytes")
    func unicodeIdentifiers() {
        #expect(texts("SELECT тест, 表1", .mysql) == ["SELECT", "тест", ",", "表1"])
        let bytes: [UInt8] = [0x61, 0xFF, 0xFE, 0x20, 0x00]
        var tokens: [Token] = []
        bytes.withUnsafeBytes { SQLTokenizer.tokenize($0, dialect: .postgres, into: &tokens) }
        #expect(tokens.map(\.kind) == [.word, .whitespace, .other])
    }
}
