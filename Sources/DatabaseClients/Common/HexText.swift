/// Bytes as hexadecimal digits, for SQL literals such as MySQL's `X'…'` and PostgreSQL's `decode('…', 'hex')`
/// (shared by the diff's repair SQL and the replay applier).
public enum HexText {
    /// Two lower-case hex digits per byte.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
