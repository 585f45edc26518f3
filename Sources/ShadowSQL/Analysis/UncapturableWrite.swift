/// Writes a dual-write stream cannot copy to its mirror faithfully, found before the statement runs so that the
/// session can refuse them instead of letting the mirror silently diverge: MySQL `LOAD DATA`/`LOAD XML` without
/// `LOCAL` (the rows come from a file on the server; with `LOCAL` the client's file passes through the proxy and is
/// captured, when the statement is alone in its query), MySQL `XA` and PostgreSQL two-phase commit (a prepared transaction
/// may be committed by another connection, long after the statements that the log would have to hold), and
/// PostgreSQL `COPY … FROM` a file or a program on the server (`COPY … FROM STDIN` is captured with its copy data,
/// when it is the only statement of its message).
public enum UncapturableWrite {
    /// Why `sql` cannot be mirrored, naming the statement; nil when every statement in it can be.
    public static func reason(in sql: UnsafeRawBufferPointer, dialect: SQLDialect) -> String? {
        // Most statements contain none of the words: skip the lexer for them (this runs on every statement of a
        // mirrored lane).
        let words: [[UInt8]] = dialect == .mysql ? [Array("load".utf8), Array("xa".utf8)] : [Array("copy".utf8), Array("prepare".utf8)]
        guard words.contains(where: { self.contains(sql, $0) }) else { return nil }
        var tokens: [SignificantToken] = []
        SignificantTokens.collect(sql, dialect: dialect, into: &tokens)
        var statements: [Range<Int>] = []
        var start = 0
        for index in 0...tokens.count where index == tokens.count || tokens[index].kind == .semicolon {
            if index > start { statements.append(start..<index) }
            start = index + 1
        }
        for range in statements {
            if let reason = self.statementReason(tokens[range], sql: sql, dialect: dialect, alone: statements.count == 1) {
                return reason
            }
        }
        return nil
    }

    /// Whether `bytes` contains `word` (lower-case ASCII), ignoring ASCII case.
    static func contains(_ bytes: UnsafeRawBufferPointer, _ word: [UInt8]) -> Bool {
        guard bytes.count >= word.count, let first = word.first else { return false }
        var i = 0
        while i + word.count <= bytes.count {
            if ByteClass.lower(bytes[i]) == first {
                var j = 1
                while j < word.count && ByteClass.lower(bytes[i + j]) == word[j] { j += 1 }
                if j == word.count { return true }
            }
            i += 1
        }
        return false
    }

    /// Convenience over strings (tests).
    public static func reason(in sql: String, dialect: SQLDialect) -> String? {
        Array(sql.utf8).withUnsafeBytes { self.reason(in: $0, dialect: dialect) }
    }

    private static func statementReason(
        _ tokens: ArraySlice<SignificantToken>, sql: UnsafeRawBufferPointer, dialect: SQLDialect, alone: Bool
    ) -> String? {
        guard let first = tokens.first else { return nil }
        let second = tokens.dropFirst().first
        let secondWord = second.map { String(decoding: sql[$0.start..<$0.end], as: UTF8.self).lowercased() } ?? ""
        switch (dialect, first.keyword) {
        case (.mysql, .load) where secondWord == "data" || secondWord == "xml":
            // LOAD DATA [LOW_PRIORITY | CONCURRENT] LOCAL INFILE: the client's file passes through the proxy.
            let local = tokens.dropFirst(2).prefix(2).contains {
                String(decoding: sql[$0.start..<$0.end], as: UTF8.self).lowercased() == "local"
            }
            guard local else {
                return "LOAD \(secondWord.uppercased()) INFILE without LOCAL reads its rows from a file on the server "
                    + "that the replay log never sees, so the mirror would miss them; send the file with LOCAL instead"
            }
            return alone
                ? nil
                : "LOAD \(secondWord.uppercased()) LOCAL INFILE is captured only as the one statement of its query (the "
                    + "file must be replayed with it); send it as a query of its own"
        case (.mysql, .xa) where secondWord != "recover":
            return "XA \(secondWord.uppercased()) is part of an XA transaction, which is not mirrored (its XA COMMIT may "
                + "come from another connection after XA PREPARE)"
        case (.postgres, .copy):
            var depth = 0
            for (offset, token) in tokens.enumerated() {
                if token.kind == .leftParen { depth += 1 }
                if token.kind == .rightParen { depth -= 1 }
                guard depth == 0 && token.keyword == .from else { continue }
                let source = tokens.dropFirst(offset + 1).first
                let fromStdin = source.map { String(decoding: sql[$0.start..<$0.end], as: UTF8.self).lowercased() == "stdin" } ?? false
                guard fromStdin else {
                    return "COPY … FROM a file or a program loads rows on the server that the replay log never sees, so "
                        + "the mirror would miss them; send the rows with COPY … FROM STDIN instead"
                }
                return alone
                    ? nil
                    : "COPY … FROM STDIN is captured only as the one statement of its message (the copy data must be "
                        + "replayed with it); send it as a query of its own"
            }
            return nil
        case (.postgres, .prepare) where second?.keyword == .transaction,
            (.postgres, .commit) where secondWord == "prepared",
            (.postgres, .rollback) where secondWord == "prepared":
            return "two-phase commit (PREPARE TRANSACTION, COMMIT/ROLLBACK PREPARED) is not mirrored (a prepared "
                + "transaction may be committed by another connection)"
        default:
            return nil
        }
    }
}
