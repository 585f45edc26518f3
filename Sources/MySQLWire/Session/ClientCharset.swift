import ShadowSQL

/// The connection's character set (`character_set_client`) as far as it decides how the server splits statement
/// bytes into tokens.
///
/// The proxy's lexer reads statements as UTF-8. Under utf8mb3, utf8mb4, ascii and binary the server splits bytes the
/// same way. Under other character sets it may not: in gbk, big5, sjis and cp932 a character's second byte can be
/// `\` (so `'文\'` — valid UTF-8 ending in 0x87 0x5C — is a complete string to a gbk server and an unterminated one
/// here), and single-byte sets such as latin1 treat 0xA0 as whitespace. Statements that are all ASCII read the same
/// under every character set a client can use, so a lane refuses only statements with a byte of 0x80 or above
/// while the character set is not one of the four.
public enum ClientCharset: Sendable, Hashable {
    /// utf8mb3, utf8mb4, ascii or binary.
    case readsAsUTF8
    /// Another character set, or one the proxy could not tell (its description).
    case other(String)

    /// The character set of a handshake or COM_CHANGE_USER collation id.
    public init(collation: UInt16) {
        switch collation {
        case 11, 65, 63,  // ascii, binary
            33, 76, 83, 192...215, 223,  // utf8mb3
            45, 46, 224...247, 255...309:  // utf8mb4 (MySQL 8's 0900 collations from 255)
            self = .readsAsUTF8
        case 1, 84: self = .other("big5")
        case 5, 8, 15, 31, 47, 48, 49, 94: self = .other("latin1")
        case 13, 88: self = .other("sjis")
        case 28, 87: self = .other("gbk")
        case 95, 96: self = .other("cp932")
        default: self = .other("collation \(collation)")
        }
    }

    /// The character set named in a SET statement (`utf8mb4`, `'gbk'`).
    public init(name: String) {
        switch name.lowercased() {
        case "utf8", "utf8mb3", "utf8mb4", "ascii", "binary": self = .readsAsUTF8
        default: self = .other(name)
        }
    }

    public var readsAsUTF8: Bool { self == .readsAsUTF8 }

    /// The character set after a query's session effects (``SessionEffect/setCharacterSet(_:)``, which
    /// ``SessionStatementScanner`` reads from `SET NAMES`, `SET CHARACTER SET`, `SET CHARSET` and assignments to
    /// `character_set_client`); the last one wins, and a value only the server knows counts as another character set.
    public func after(_ effects: [SessionEffect]) -> ClientCharset {
        var result = self
        for case .setCharacterSet(let name) in effects {
            result = name.map(ClientCharset.init(name:)) ?? .other("a value only the server knows")
        }
        return result
    }
}
