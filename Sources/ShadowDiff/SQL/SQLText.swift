import ShadowSQL
import DatabaseClients

/// Identifier quoting and literal escaping per dialect. Every name and value the tools put into SQL goes through
/// here, so a table called `a``b` or a value holding quotes, backslashes or NUL bytes cannot break out of its literal.
public enum SQLText {
    /// Quotes one identifier: backticks for MySQL, double quotes for PostgreSQL, the quote character doubled inside.
    public static func identifier(_ name: String, _ dialect: SQLDialect) -> String {
        switch dialect {
        case .mysql: return "`" + name.replacingAll("`", with: "``") + "`"
        case .postgres: return "\"" + name.replacingAll("\"", with: "\"\"") + "\""
        }
    }

    /// Whether `text` is a decimal integer (an optional minus sign, then 1 to 20 digits): safe to splice unquoted.
    public static func isIntegerText(_ text: String) -> Bool {
        var digits = text.utf8[...]
        if digits.first == UInt8(ascii: "-") { digits = digits.dropFirst() }
        return (1...20).contains(digits.count) && digits.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// A string literal that the server reads back as exactly `value`, whatever the session's escaping mode.
    ///
    /// MySQL's meaning of a backslash depends on `sql_mode` (NO_BACKSLASH_ESCAPES), so values holding a backslash
    /// or a control character are written as hex bytes converted to utf8mb4, which means the same in every mode.
    /// PostgreSQL with `standard_conforming_strings` (the default since 9.1) takes backslashes literally; values
    /// holding one are written as `E'…'` with the backslash doubled, which is right in either setting.
    public static func literal(_ value: String, _ dialect: SQLDialect) -> String {
        let needsCare = value.unicodeScalars.contains { $0 == "\\" || $0.value < 0x20 }
        switch dialect {
        case .mysql:
            if needsCare { return "CONVERT(X'\(hex(Array(value.utf8)))' USING utf8mb4)" }
            return "'" + value.replacingAll("'", with: "''") + "'"
        case .postgres:
            if value.unicodeScalars.contains("\\") {
                return "E'" + value.replacingAll("\\", with: "\\\\").replacingAll("'", with: "''") + "'"
            }
            return "'" + value.replacingAll("'", with: "''") + "'"
        }
    }

    /// A binary literal from hex digits: `X'…'` for MySQL, `decode('…', 'hex')` for PostgreSQL.
    public static func binaryLiteral(hexDigits: String, _ dialect: SQLDialect) -> String {
        let clean = String(hexDigits.filter { $0.isHexDigit })
        switch dialect {
        case .mysql: return "X'\(clean)'"
        case .postgres: return "decode('\(clean)', 'hex')"
        }
    }

    /// Lower-case hex of bytes.
    public static func hex(_ bytes: [UInt8]) -> String { HexText.encode(bytes) }

    /// The server's identifier length limit in bytes: 64 for MySQL/MariaDB, 63 for PostgreSQL (NAMEDATALEN − 1).
    public static func identifierLimit(_ dialect: SQLDialect) -> Int {
        dialect == .mysql ? 64 : 63
    }
}

extension String {
    /// Replaces every occurrence of `target`.
    func replacingAll(_ target: String, with replacement: String) -> String {
        replacing(target, with: replacement)
    }
}
