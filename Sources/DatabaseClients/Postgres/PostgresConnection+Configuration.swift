extension PostgresConnection {
    /// Everything needed to open a connection to PostgreSQL (directly or through a proxy), as libpq
    /// connection parameters.
    public struct Configuration: Sendable {
        /// libpq's `sslmode`.
        public enum SSLMode: String, Sendable {
            case disable, allow, prefer, require
            case verifyCA = "verify-ca"
            case verifyFull = "verify-full"
        }

        /// Server host name, address, or a Unix-socket directory (starting with `/`).
        public var host: String
        /// Server port.
        public var port: Int
        /// Login role.
        public var user: String
        /// Password; `nil` sends none (trust authentication, or a `.pgpass` file).
        public var password: String?
        /// Database name; `nil` lets libpq default it to the user name.
        public var database: String?
        /// The startup `options` parameter, command-line style (`-c lane=gray`); Shadowgate reads labels here.
        public var options: String?
        /// `application_name`, reported by `pg_stat_activity`.
        public var applicationName: String?
        /// TLS mode; default `.disable` so tests are deterministic.
        public var sslMode: SSLMode
        /// CA certificate used by `verify-ca` / `verify-full`.
        public var sslRootCertificate: String?
        /// Seconds to wait for the connection to open; `nil` waits indefinitely (libpq's default).
        public var connectTimeoutSeconds: Int?
        /// Any other libpq connection parameters (`target_session_attrs`, `keepalives`, …), or startup
        /// parameters libpq passes through. Later entries override the fields above.
        public var extraParameters: [String: String]

        public init(
            host: String,
            port: Int = 5432,
            user: String,
            password: String? = nil,
            database: String? = nil,
            options: String? = nil,
            applicationName: String? = nil,
            sslMode: SSLMode = .disable,
            sslRootCertificate: String? = nil,
            connectTimeoutSeconds: Int? = 10,
            extraParameters: [String: String] = [:]
        ) {
            self.host = host
            self.port = port
            self.user = user
            self.password = password
            self.database = database
            self.options = options
            self.applicationName = applicationName
            self.sslMode = sslMode
            self.sslRootCertificate = sslRootCertificate
            self.connectTimeoutSeconds = connectTimeoutSeconds
            self.extraParameters = extraParameters
        }

        /// The key/value pairs passed to `PQconnectdbParams`, in a stable order.
        var parameters: [(String, String)] {
            var pairs: [(String, String)] = [("host", host), ("port", String(port)), ("user", user)]
            if let password { pairs.append(("password", password)) }
            if let database { pairs.append(("dbname", database)) }
            if let options { pairs.append(("options", options)) }
            if let applicationName { pairs.append(("application_name", applicationName)) }
            pairs.append(("sslmode", sslMode.rawValue))
            if let sslRootCertificate { pairs.append(("sslrootcert", sslRootCertificate)) }
            if let connectTimeoutSeconds { pairs.append(("connect_timeout", String(connectTimeoutSeconds))) }
            for (key, value) in extraParameters.sorted(by: { $0.key < $1.key }) {
                pairs.removeAll { $0.0 == key }
                pairs.append((key, value))
            }
            return pairs
        }

        /// `host:port`, for error messages.
        var endpoint: String { "\(host):\(port)" }
    }
}
