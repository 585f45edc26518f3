/// Replaces the literal values of a statement with `?` so it can be logged or shown on the status page without
/// leaking data or credentials (`ALTER ROLE … PASSWORD '…'`, customer rows in an INSERT).
///
/// Uses the dialect's lexer, so every literal form is one token: PostgreSQL `'…'`, `E'…'`, `U&'…'`, `B'…'`,
/// `X'…'` and dollar-quoted `$tag$…$tag$`; MySQL `'…'`, `"…"`, `N'…'`, `X'…'`, `b'…'`, `_charset'…'`, `0x…`, `0b…`;
/// and numbers in both. Identifiers, keywords, comments (lane hints) and placeholders are kept byte for byte.
/// An unterminated string or comment is masked as well: it may be the start of a secret.
public enum LiteralMasker {
    /// The masked text of `sql` (invalid UTF-8 outside literals is replaced by U+FFFD).
    public static func mask(_ sql: UnsafeRawBufferPointer, dialect: SQLDialect) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(sql.count)
        var tokenizer = SQLTokenizer(sql, dialect: dialect)
        while let token = tokenizer.next() {
            switch token.kind {
            case .string, .number, .unterminated:
                // An empty unterminated token (an executable comment left open) has nothing to hide.
                if token.end > token.start { output.append(UInt8(ascii: "?")) }
            default:
                output.append(contentsOf: sql[token.start..<token.end])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The masked text of `sql`.
    public static func mask(_ sql: String, dialect: SQLDialect) -> String {
        var bytes = Array(sql.utf8)
        return bytes.withUnsafeMutableBytes { mask(UnsafeRawBufferPointer($0), dialect: dialect) }
    }

    /// The masked text of `sql`.
    public static func mask(_ sql: [UInt8], dialect: SQLDialect) -> String {
        sql.withUnsafeBytes { mask($0, dialect: dialect) }
    }
}
