/// Finds bytes a lane cannot read the way the server will when the connection's character set is not UTF-8.
///
/// The lexer reads statements as UTF-8 (or ASCII). Under another connection character set the server may split
/// the same bytes differently:
/// - in gbk, big5, sjis and cp932 a character's second byte can be `\` (0x5C), so `'\xbf\x5c'` is a whole string
///   to the server while the lexer sees an escaped quote and reads on — hiding whatever SQL follows;
/// - single-byte character sets treat bytes such as 0xA0 (latin1, latin2, cp1250) or 0xFF (cp866, cp852) as
///   whitespace, where the lexer sees part of a name (`a\xa0JOIN\xa0b` is three words to the server, one here).
///
/// This check catches what is not UTF-8: a lane refuses a statement whose words (outside strings, quoted names and
/// comments) are not valid UTF-8 — in valid UTF-8 a byte of 0x80 or above never follows an ASCII byte unless it
/// starts a character — or that has a string which is not valid UTF-8 and holds a byte of 0x81 or above directly
/// before a `\`. It cannot catch everything: valid UTF-8 such as `文\` (…0x87 0x5C) is a gbk character followed by
/// nothing to a gbk server, and refusing every CJK character before a backslash would refuse ordinary escaped
/// text. Lane traffic therefore needs a UTF-8 (or ASCII) connection character set; docs/rewrite-rules.md says so.
/// Statements that are all ASCII, as most are, are let through after one pass.
public enum CharacterSetHazard {
    /// A description of the first hazard in `sql`, or `nil`.
    public static func find(in sql: UnsafeRawBufferPointer, dialect: SQLDialect) -> String? {
        guard sql.contains(where: { $0 >= 0x80 }) else { return nil }
        var tokenizer = SQLTokenizer(sql, dialect: dialect)
        while let token = tokenizer.next() {
            switch token.kind {
            case .comment, .quotedIdentifier:
                continue
            case .string:
                let bytes = UnsafeRawBufferPointer(rebasing: sql[token.start..<token.end])
                guard bytes.contains(where: { $0 >= 0x80 }), !isValidUTF8(bytes) else { continue }
                var previous: UInt8 = 0
                for offset in token.start..<token.end {
                    let byte = sql[offset]
                    if byte == 0x5C && previous >= 0x81 {
                        return "a byte of 0x\(hex(previous)) before a backslash in a string at byte \(offset - 1)"
                    }
                    previous = byte
                }
            default:
                let bytes = UnsafeRawBufferPointer(rebasing: sql[token.start..<token.end])
                if bytes.contains(where: { $0 >= 0x80 }), !isValidUTF8(bytes) {
                    return "bytes that are not UTF-8 outside strings at byte \(token.start)"
                }
            }
        }
        return nil
    }

    static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
    }
}
