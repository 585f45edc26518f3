internal import CLibPQ
internal import CMariaDB

/// Versions of the C client libraries Shadowgate's control-plane clients link against.
public enum ClientLibraryVersions {
    /// libmariadb's version string, e.g. `3.3.8`.
    public static var mariadb: String { String(cString: mysql_get_client_info()) }
    /// libpq's version as PostgreSQL encodes it (150018 for 15.18).
    public static var libpq: Int { Int(PQlibVersion()) }
}
