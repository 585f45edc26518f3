/// Byte classification shared by the lexers, hint and session scanners.
@usableFromInline
enum ByteClass {
    @inlinable
    static func isWhitespace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0C || b == 0x0B
    }

    @inlinable
    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    @inlinable
    static func isHexDigit(_ b: UInt8) -> Bool {
        isDigit(b) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x66)
    }

    @inlinable
    static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }

    /// Bytes that may start an unquoted identifier. Bytes ≥ 0x80 (UTF-8 sequences, valid or not) count.
    @inlinable
    static func isIdentifierStart(_ b: UInt8) -> Bool { isLetter(b) || b == 0x5F || b >= 0x80 }

    /// Bytes that may continue an unquoted identifier (`$` is allowed in both dialects).
    @inlinable
    static func isIdentifierPart(_ b: UInt8) -> Bool { isIdentifierStart(b) || isDigit(b) || b == 0x24 }

    @inlinable
    static func lower(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b }
}
