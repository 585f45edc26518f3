/// Client/server capability flags (https://mariadb.com/kb/en/connection/#capabilities). The low 32 bits are
/// shared by MySQL and MariaDB; the high 32 bits are MariaDB's extended capabilities, sent in the greeting's
/// filler and the handshake response's reserved bytes when `CLIENT_MYSQL` (bit 0) is clear.
public struct MySQLCapabilities: OptionSet, Sendable, Hashable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let clientMySQL = Self(rawValue: 1)
    public static let foundRows = Self(rawValue: 2)
    public static let connectWithDB = Self(rawValue: 8)
    public static let compress = Self(rawValue: 32)
    public static let localFiles = Self(rawValue: 128)
    public static let protocol41 = Self(rawValue: 512)
    public static let ssl = Self(rawValue: 2048)
    public static let transactions = Self(rawValue: 8192)
    public static let secureConnection = Self(rawValue: 1 << 15)
    public static let multiStatements = Self(rawValue: 1 << 16)
    public static let multiResults = Self(rawValue: 1 << 17)
    public static let psMultiResults = Self(rawValue: 1 << 18)
    public static let pluginAuth = Self(rawValue: 1 << 19)
    public static let connectAttributes = Self(rawValue: 1 << 20)
    public static let pluginAuthLengthEncodedData = Self(rawValue: 1 << 21)
    public static let sessionTrack = Self(rawValue: 1 << 23)
    public static let deprecateEOF = Self(rawValue: 1 << 24)
    public static let optionalResultsetMetadata = Self(rawValue: 1 << 25)
    public static let zstdCompression = Self(rawValue: 1 << 26)
    public static let queryAttributes = Self(rawValue: 1 << 27)
    /// MariaDB extended capabilities (progress reports, COM_MULTI, bulk operations, extended type info,
    /// metadata cache, …): the whole high word.
    public static let mariaDBExtended = Self(rawValue: 0xFFFF_FFFF_0000_0000)

    /// What the proxy never lets through, in either direction: it does not implement compression, query
    /// attributes (they change the COM_QUERY layout), optional metadata, or MariaDB's extended capabilities
    /// (bulk execute and metadata caching change the command and result layouts the proxy tracks).
    public static let unsupportedByProxy: Self = [
        .compress, .zstdCompression, .queryAttributes, .optionalResultsetMetadata, .mariaDBExtended,
    ]

    /// The capabilities to advertise or forward: the unsupported ones removed, and SSL set exactly when `tls`
    /// (the proxy terminates client TLS itself, so it offers SSL whenever its listener has a certificate).
    public func masked(tls: Bool) -> Self {
        var result = subtracting(Self.unsupportedByProxy)
        if tls { result.insert(.ssl) } else { result.remove(.ssl) }
        return result
    }
}
