extension MariaDBConnection {
    /// Everything needed to open a connection to MariaDB or MySQL (directly or through a proxy).
    public struct Configuration: Sendable {
        /// How the connection uses TLS.
        public enum TLS: Sendable, Equatable {
            /// Plain TCP; the client never asks for TLS.
            case disabled
            /// TLS is mandatory: connecting fails if the server does not offer it. With a CA file the server's
            /// certificate is verified against it (including the host name); without one it is not verified.
            case required(caPath: String? = nil)
        }

        /// Timeouts, in whole seconds as libmariadb counts them; `nil` keeps the library default.
        public struct Timeouts: Sendable, Equatable {
            /// Seconds to wait for the TCP connect and handshake.
            public var connect: UInt32?
            /// Seconds to wait for each read from the server.
            public var read: UInt32?
            /// Seconds to wait for each write to the server.
            public var write: UInt32?

            public init(connect: UInt32? = 10, read: UInt32? = nil, write: UInt32? = nil) {
                self.connect = connect
                self.read = read
                self.write = write
            }
        }

        /// Server host name or address; ignored when `unixSocket` is set.
        public var host: String
        /// Server TCP port.
        public var port: Int
        /// Login user.
        public var user: String
        /// Login password; `nil` sends none.
        public var password: String?
        /// Default database, or `nil` for none.
        public var database: String?
        /// Connection attributes sent in the handshake response (`performance_schema.session_connect_attrs`).
        /// Shadowgate reads the lane label from here.
        public var connectionAttributes: [String: String]
        /// TLS mode; default `.disabled`.
        public var tls: TLS
        /// Connect/read/write timeouts.
        public var timeouts: Timeouts
        /// Whether `CLIENT_MULTI_STATEMENTS` is set, so one query text may hold several statements.
        public var multiStatements: Bool
        /// Path of a Unix socket to connect through instead of TCP.
        public var unixSocket: String?
        /// Character set sent in the handshake; default `utf8mb4`.
        public var characterSet: String
        /// Lets the server ask for client files (`LOAD DATA LOCAL INFILE`); default off. With it on, libmariadb
        /// sends the named file, unless ``MariaDBConnection/loadLocalInfile(_:data:)`` supplies the data.
        public var localInfile: Bool = false

        public init(
            host: String,
            port: Int = 3306,
            user: String,
            password: String? = nil,
            database: String? = nil,
            connectionAttributes: [String: String] = [:],
            tls: TLS = .disabled,
            timeouts: Timeouts = Timeouts(),
            multiStatements: Bool = false,
            unixSocket: String? = nil,
            characterSet: String = "utf8mb4"
        ) {
            self.host = host
            self.port = port
            self.user = user
            self.password = password
            self.database = database
            self.connectionAttributes = connectionAttributes
            self.tls = tls
            self.timeouts = timeouts
            self.multiStatements = multiStatements
            self.unixSocket = unixSocket
            self.characterSet = characterSet
        }

        /// `host:port` or the socket path, for error messages.
        var endpoint: String { unixSocket ?? "\(host):\(port)" }
    }
}
