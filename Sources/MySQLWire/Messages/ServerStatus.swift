/// Server status flags carried by OK and EOF packets.
public struct MySQLServerStatus: OptionSet, Sendable, Hashable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let inTransaction = Self(rawValue: 0x0001)
    public static let autocommit = Self(rawValue: 0x0002)
    public static let moreResultsExist = Self(rawValue: 0x0008)
    public static let cursorExists = Self(rawValue: 0x0040)
    public static let lastRowSent = Self(rawValue: 0x0080)
    /// SERVER_STATUS_NO_BACKSLASH_ESCAPES: the session's sql_mode has NO_BACKSLASH_ESCAPES, so the server reads `\`
    /// in a string literal as an ordinary character.
    public static let noBackslashEscapes = Self(rawValue: 0x0200)
    public static let inReadOnlyTransaction = Self(rawValue: 0x2000)
}
