import NIOCore

/// Auth More Data, header 0x01 (https://mariadb.com/kb/en/connection/#authentication-switch-request): extra
/// plugin data from the server, e.g. caching_sha2_password's fast-auth success (0x01 0x03) or full-auth request
/// (0x01 0x04). The proxy only relays it and never interprets passwords.
public enum AuthMoreData {
    public static let header: UInt8 = 0x01
    /// caching_sha2_password: the cached fast path succeeded; an OK follows.
    public static let fastAuthSuccess: UInt8 = 0x03
    /// caching_sha2_password: full authentication is needed (password over TLS or RSA).
    public static let performFullAuthentication: UInt8 = 0x04
}
