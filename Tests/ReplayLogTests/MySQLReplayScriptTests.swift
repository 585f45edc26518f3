import Testing
@testable import ReplayLog

@Suite struct MySQLStatementTextTests {
    private func inlined(_ sql: String, _ parameters: [ReplayValue]? = nil) -> String? {
        MySQLStatementText.inlined(sql, parameters: parameters).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test("placeholders take the values as literals of the bound types, in order")
    func valuesAsLiterals() {
        #expect(
            inlined("INSERT INTO t (a, b, c, d, e) VALUES (?, ?, ?, ?, ?)", [.int64(-42), .double(2.5), .text("héllo"), .bytes([0, 255]), .null])
                == "INSERT INTO t (a, b, c, d, e) VALUES (-42, 2.5e0, _utf8mb4 X'68c3a96c6c6f', _binary X'00ff', NULL)")
    }

    @Test("doubles keep an exponent so they read as DOUBLE, not DECIMAL; NaN and infinity have no literal")
    func doubles() {
        #expect(MySQLStatementText.literal(.double(1e300)) == "1e+300")
        #expect(MySQLStatementText.literal(.double(-0.125)) == "-0.125e0")
        #expect(MySQLStatementText.literal(.double(.nan)) == nil)
        #expect(MySQLStatementText.literal(.double(.infinity)) == nil)
        #expect(inlined("UPDATE t SET x = ?", [.double(.infinity)]) == nil)
    }

    @Test("empty text and bytes are empty strings of their character set")
    func emptyValues() {
        #expect(MySQLStatementText.literal(.text("")) == "_utf8mb4''")
        #expect(MySQLStatementText.literal(.bytes([])) == "_binary''")
    }

    @Test("a question mark inside strings, quoted names and comments is not a placeholder")
    func quotedQuestionMarks() {
        #expect(
            inlined("UPDATE `w?` SET a = '?', b = \"?\" /* ? */ WHERE c = ? -- ?\n AND d = ? # ?\n", [.int64(1), .int64(2)])
                == "UPDATE `w?` SET a = '?', b = \"?\" /* ? */ WHERE c = 1 -- ?\n AND d = 2 # ?")
        #expect(MySQLStatementText.placeholderOffsets(Array("SELECT 'it''s ?', ?".utf8)) == [18])
        #expect(MySQLStatementText.placeholderOffsets(Array("SELECT `a``?`, ?".utf8)) == [15])
    }

    @Test("two dashes start a comment only before a blank, as in MySQL")
    func dashDash() {
        #expect(MySQLStatementText.placeholderOffsets(Array("UPDATE t SET a = a--?".utf8)) == [20])
        #expect(MySQLStatementText.placeholderOffsets(Array("UPDATE t SET a = 1 --".utf8)) == [])
    }

    @Test("trailing semicolons and blanks go, so the next statement of the text does not follow an empty one")
    func trailingSemicolons() {
        #expect(inlined("DELETE FROM t WHERE id = 1 ;\n ") == "DELETE FROM t WHERE id = 1")
    }

    @Test("statements the lexer is unsure about run on their own (nil)")
    func unsure() {
        #expect(inlined("INSERT INTO t VALUES ('a\\'?')", []) == nil, "backslash: depends on sql_mode")
        #expect(inlined("INSERT /*! HIGH_PRIORITY */ INTO t VALUES (?)", [.int64(1)]) == nil, "executable comment")
        #expect(inlined("INSERT /*M! IGNORE */ INTO t VALUES (1)") == nil, "executable comment")
        #expect(inlined("INSERT INTO t VALUES ('open", []) == nil, "string left open")
        #expect(inlined("INSERT INTO t VALUES (1) /* open", []) == nil, "comment left open")
        #expect(inlined("INSERT INTO t VALUES (?, ?)", [.int64(1)]) == nil, "count mismatch")
        #expect(inlined("INSERT INTO t VALUES (?)") == nil, "a text statement with a stray question mark")
    }
}

@Suite struct MySQLReplayScriptTests {
    @Test("statements are joined by newline-semicolon-newline and a failure maps back to its record statement")
    func joinAndMap() {
        var script = MySQLReplayScript()
        script.append("SET TIMESTAMP = 1", statementIndex: 0)
        script.append("INSERT INTO t VALUES (1) -- note", statementIndex: 0)
        script.append("SET TIMESTAMP = 2", statementIndex: 1)
        script.append("UPDATE t SET a = 2", statementIndex: 1)
        script.append("COMMIT", statementIndex: 1)
        #expect(
            String(decoding: script.bytes, as: UTF8.self)
                == "SET TIMESTAMP = 1\n;\nINSERT INTO t VALUES (1) -- note\n;\nSET TIMESTAMP = 2\n;\nUPDATE t SET a = 2\n;\nCOMMIT")
        #expect(script.statementIndex(ofPiece: 1) == 0)
        #expect(script.statementIndex(ofPiece: 3) == 1)
        #expect(script.statementIndex(ofPiece: 99) == 1)
        script.removeAll()
        #expect(script.isEmpty && script.bytes.isEmpty)
    }
}
