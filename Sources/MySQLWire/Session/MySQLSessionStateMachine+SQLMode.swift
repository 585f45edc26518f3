import NIOCore
import ShadowConfig
import ShadowSQL

/// The session's sql_mode as far as it changes how the server reads statement text.
extension MySQLSessionStateMachine {
    /// The refusal of a statement in a non-base lane that the proxy cannot read the way the server will because of
    /// NO_BACKSLASH_ESCAPES; nil when it can.
    ///
    /// The proxy's lexer always reads `\` in a string as an escape. With NO_BACKSLASH_ESCAPES the server does not,
    /// so `SELECT '\'; DELETE FROM a; -- '` is one statement to the proxy and two to the server. Text without a
    /// backslash byte lexes the same in both modes (the mode changes nothing else in how the server splits text
    /// into tokens), so only statements with a backslash are refused while the server reports the mode
    /// (SERVER_STATUS_NO_BACKSLASH_ESCAPES in its last OK/EOF). The server reads each statement of a multi-statement
    /// query only after running the ones before it, so a query that may change sql_mode (a `SET … sql_mode`, or an
    /// `EXECUTE` of a prepared `SET`) and has a backslash is refused too when it has more than one statement.
    func backslashRefusal(_ text: ByteBuffer, lane: LaneConfiguration) -> ERRPacket? {
        let hasBackslash = text.withUnsafeReadableBytes { $0.contains(UInt8(ascii: "\\")) }
        guard hasBackslash else { return nil }
        if tracker.serverStatus?.contains(.noBackslashEscapes) == true {
            return .proxyRefusal(
                "shadowgate: refused in lane '\(lane.name)': the session's sql_mode has NO_BACKSLASH_ESCAPES, and the "
                    + "proxy cannot read a statement with a backslash the way the server will (it reads \\ in a string "
                    + "as an escape); turn NO_BACKSLASH_ESCAPES off for lane traffic (SET sql_mode = …), or send the "
                    + "statement without backslashes")
        }
        let mayChangeMode = text.withUnsafeReadableBytes { bytes in
            Self.containsCaseInsensitive(bytes, "sql_mode") || Self.containsCaseInsensitive(bytes, "execute")
        }
        guard mayChangeMode else { return nil }
        let statements = text.withUnsafeReadableBytes { StatementClassifier.classify($0, dialect: .mysql).count }
        guard statements > 1 else { return nil }
        return .proxyRefusal(
            "shadowgate: refused in lane '\(lane.name)': a multi-statement query that may change sql_mode (SET … "
                + "sql_mode, EXECUTE) must not contain backslashes: the server reads the statements after the change "
                + "in the new mode (NO_BACKSLASH_ESCAPES changes what \\ means), the proxy cannot; send the change on its own")
    }

    /// The refusal of a lane statement with a `"` while the session's sql_mode may contain ANSI_QUOTES; nil otherwise.
    ///
    /// The proxy's lexer reads `"…"` as a string, where `\` escapes. Under ANSI_QUOTES the server reads an
    /// identifier, where `\` is an ordinary byte, so `SELECT 1 AS "a\" FROM DUAL; DELETE FROM b; -- "` is one
    /// statement to the proxy and three to the server. Text without a `"` reads the same in both modes.
    func ansiQuotesRefusal(_ text: ByteBuffer, lane: LaneConfiguration, possible: Bool) -> ERRPacket? {
        guard possible, text.withUnsafeReadableBytes({ $0.contains(UInt8(ascii: "\"")) }) else { return nil }
        return .proxyRefusal(
            "shadowgate: refused in lane '\(lane.name)': the session's sql_mode may contain ANSI_QUOTES (it was set "
                + "through this connection, or an EXECUTE may have set it), and the proxy cannot read a statement with "
                + "\" the way the server will (it reads \"…\" as a string); use single quotes for strings and "
                + "backticks for names in lane traffic, or SET sql_mode without ANSI_QUOTES")
    }

    /// Whether ANSI_QUOTES may be on after `effects` (in order), from `before`. A prepared `SET sql_mode`
    /// (COM_STMT_PREPARE) may run later, unseen, so it counts as setting it; so does SQL `EXECUTE`, and any value
    /// only the server knows.
    static func ansiQuotes(after effects: [SessionEffect], before: Bool, prepared: Bool) -> Bool {
        var possible = before
        for effect in effects {
            switch effect {
            case .setSQLMode(let value):
                if prepared {
                    possible = true
                } else if let value {
                    possible = Self.mayQuoteIdentifiers(sqlMode: value)
                } else {
                    possible = true
                }
            case .executePrepared:
                possible = true
            default:
                break
            }
        }
        return possible
    }

    /// Whether a literal sql_mode value may turn ANSI_QUOTES on: it names ANSI_QUOTES, or a combination mode that
    /// includes it (ANSI, DB2, MAXDB, MSSQL, ORACLE, POSTGRESQL), or it is not a plain list of names (a number is a
    /// bit mask, in which ANSI_QUOTES is 4).
    static func mayQuoteIdentifiers(sqlMode value: String) -> Bool {
        let plain = value.utf8.allSatisfy { byte in
            let lower = byte | 0x20
            return (lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z")) || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: ",") || byte == UInt8(ascii: " ")
        }
        guard plain else { return true }
        let quoting: Set<String> = ["ANSI", "ANSI_QUOTES", "DB2", "MAXDB", "MSSQL", "ORACLE", "POSTGRESQL"]
        return value.uppercased().split(separator: ",").contains { mode in
            quoting.contains(String(mode.filter { $0 != " " }))
        }
    }

    /// The refusal of a lane statement with bytes above 0x7F while the connection character set (before the
    /// statement, or as its SETs leave it) is not one the proxy reads as the server does (``ClientCharset``).
    func charsetRefusal(_ text: ByteBuffer, lane: LaneConfiguration, charsets: [ClientCharset]) -> ERRPacket? {
        guard case .other(let name)? = charsets.first(where: { !$0.readsAsUTF8 }) else { return nil }
        guard text.withUnsafeReadableBytes({ $0.contains { $0 >= 0x80 } }) else { return nil }
        return .proxyRefusal(
            "shadowgate: refused in lane '\(lane.name)': the connection character set is \(name), and the proxy reads "
                + "statements as UTF-8; with bytes above 0x7F the server may split this one differently (a gbk character "
                + "can end in a backslash byte, latin1 reads 0xA0 as a space); use utf8mb4 for lane traffic (SET NAMES utf8mb4)")
    }

    /// Whether `bytes` contain `needle` (ASCII, lower case) in any letter case.
    static func containsCaseInsensitive(_ bytes: UnsafeRawBufferPointer, _ needle: StaticString) -> Bool {
        let pattern = UnsafeRawBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)
        guard pattern.count <= bytes.count, let first = pattern.first else { return false }
        var index = 0
        while index <= bytes.count - pattern.count {
            if bytes[index] | 0x20 == first {
                var matched = true
                for offset in 1..<pattern.count where bytes[index + offset] | 0x20 != pattern[offset] | 0x20 {
                    matched = false
                    break
                }
                if matched { return true }
            }
            index += 1
        }
        return false
    }
}
