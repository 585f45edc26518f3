import DatabaseClients

/// A batch of MySQL replay statements as one multi-statement text, so the applier sends a whole batch of records —
/// each statement's `SET TIMESTAMP …`, the statement with its values written in as literals, the progress row and
/// the `COMMIT` — in one round trip instead of two or more per statement. Over a network to a mirror on another
/// machine the round trips, not the statements, bound how fast a mirror can catch up.
///
/// This is what MySQL's own statement-based binary log does with a prepared statement: it logs the text with the
/// values in place. Pure: the session runs `bytes` and maps a failure back with `statementIndex(ofPiece:)`.
struct MySQLReplayScript {
    /// The text so far: statements separated by `\n;\n` (a newline first, so a statement ending in a `--` or `#`
    /// comment cannot swallow the separator).
    private(set) var bytes: [UInt8] = []
    /// For each statement of the text, the index of the record statement it belongs to.
    private var pieces: [Int] = []

    var isEmpty: Bool { pieces.isEmpty }

    /// Appends one statement of the text (`sql` must be a single complete statement, see ``MySQLStatementText``).
    mutating func append(_ sql: some Collection<UInt8>, statementIndex: Int) {
        if !pieces.isEmpty { bytes.append(contentsOf: [0x0A, 0x3B, 0x0A]) }
        bytes.append(contentsOf: sql)
        pieces.append(statementIndex)
    }

    mutating func append(_ sql: String, statementIndex: Int) {
        append(Array(sql.utf8), statementIndex: statementIndex)
    }

    /// The record statement a failing statement of the text belongs to (`completed` statements ran before it).
    func statementIndex(ofPiece completed: Int) -> Int {
        pieces.isEmpty ? 0 : pieces[min(max(completed, 0), pieces.count - 1)]
    }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        pieces.removeAll(keepingCapacity: true)
    }
}

/// Reads a captured MySQL statement the way the server's lexer does, just far enough to write a prepared
/// statement's values into its `?` placeholders and to know the text can be followed by another statement.
/// Anything it is not sure about yields nil, and the applier runs that statement on its own as before (a prepared
/// statement with bound values, or the text alone).
enum MySQLStatementText {
    /// The statement with `parameters` written in as literals (or unchanged when it has none), trailing blanks and
    /// semicolons removed; nil when the statement should not share a text with others: a backslash anywhere (whether
    /// it escapes depends on the primary's `sql_mode`), an executable comment (`/*! … */`), a string or comment left
    /// open at the end, a placeholder count that does not match, or a value with no exact literal (NaN, infinity).
    static func inlined(_ sql: String, parameters: [ReplayValue]?) -> [UInt8]? {
        let text = Array(sql.utf8)
        guard !text.contains(0x5C) else { return nil }  // backslash
        guard let placeholders = placeholderOffsets(text) else { return nil }
        let values = parameters ?? []
        guard placeholders.count == values.count else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(text.count + values.count * 8)
        var start = 0
        for (offset, value) in zip(placeholders, values) {
            output.append(contentsOf: text[start..<offset])
            guard let literal = literal(value) else { return nil }
            output.append(contentsOf: literal.utf8)
            start = offset + 1
        }
        output.append(contentsOf: text[start...])
        while let last = output.last, last == 0x3B || last == 0x20 || last == 0x0A || last == 0x0D || last == 0x09 {
            output.removeLast()
        }
        return output.isEmpty ? nil : output
    }

    /// Offsets of the `?` placeholders outside strings, quoted names and comments; nil when the text ends inside
    /// one of them or holds an executable comment.
    static func placeholderOffsets(_ text: [UInt8]) -> [Int]? {
        var offsets: [Int] = []
        var index = 0
        let count = text.count
        while index < count {
            let byte = text[index]
            switch byte {
            case 0x27, 0x22, 0x60:  // ' " `  (a doubled quote inside is the quote itself)
                var next = index + 1
                while true {
                    guard next < count else { return nil }
                    if text[next] == byte {
                        if next + 1 < count && text[next + 1] == byte {
                            next += 2
                            continue
                        }
                        break
                    }
                    next += 1
                }
                index = next + 1
            case 0x23:  // # comment to the end of the line
                index = endOfLine(text, from: index)
            case 0x2D where index + 2 < count && text[index + 1] == 0x2D && isBlankOrControl(text[index + 2]):
                index = endOfLine(text, from: index)
            case 0x2D where index + 2 == count && text[index + 1] == 0x2D:
                index = count
            case 0x2F where index + 1 < count && text[index + 1] == 0x2A:  // /*
                if index + 2 < count && (text[index + 2] == 0x21 || text[index + 2] == 0x4D) { return nil }  // /*! /*M!
                var next = index + 2
                while true {
                    guard next + 1 < count else { return nil }
                    if text[next] == 0x2A && text[next + 1] == 0x2F { break }
                    next += 1
                }
                index = next + 2
            case 0x3F:
                offsets.append(index)
                index += 1
            default:
                index += 1
            }
        }
        return offsets
    }

    private static func endOfLine(_ text: [UInt8], from index: Int) -> Int {
        var next = index
        while next < text.count && text[next] != 0x0A { next += 1 }
        return next
    }

    private static func isBlankOrControl(_ byte: UInt8) -> Bool { byte <= 0x20 }

    /// A value as a literal of the same type as the bound parameter would have: integers as they are, doubles with
    /// an exponent (a plain `1.5` would be DECIMAL), text as a `utf8mb4` string and bytes as a binary string, both
    /// in hex so no `sql_mode` can change how they read (an introducer keeps them strings in a numeric context).
    static func literal(_ value: ReplayValue) -> String? {
        switch value {
        case .null:
            return "NULL"
        case .int64(let number):
            return String(number)
        case .double(let number):
            guard number.isFinite else { return nil }
            let text = "\(number)"
            return text.contains("e") ? text : text + "e0"
        case .text(let text):
            return text.isEmpty ? "_utf8mb4''" : "_utf8mb4 X'" + HexText.encode(text.utf8) + "'"
        case .bytes(let bytes):
            return bytes.isEmpty ? "_binary''" : "_binary X'" + HexText.encode(bytes) + "'"
        }
    }
}
