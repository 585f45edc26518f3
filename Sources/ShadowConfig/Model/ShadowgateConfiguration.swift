import ShadowSQL

/// The whole configuration of one Shadowgate process, as loaded from YAML and validated.
public struct ShadowgateConfiguration: Sendable, Hashable {
    /// How lanes are labelled on the wire.
    public var label: LabelConfiguration
    /// Client-facing listeners, each in front of one base server.
    public var listeners: [ListenerConfiguration]
    /// Non-base lanes, in file order.
    public var lanes: [LaneConfiguration]
    /// The admin HTTP listener (metrics, health, status); nil disables it.
    public var admin: AdminConfiguration?
    /// The durable log of dual-write statements; nil when no lane dual-writes.
    public var replayLog: ReplayLogConfiguration?
    /// Dual-write streams in file order; empty when nothing is mirrored.
    public var dualWrites: [DualWriteConfiguration]

    public init(
        label: LabelConfiguration = LabelConfiguration(),
        listeners: [ListenerConfiguration] = [],
        lanes: [LaneConfiguration] = [],
        admin: AdminConfiguration? = nil,
        replayLog: ReplayLogConfiguration? = nil,
        dualWrites: [DualWriteConfiguration] = []
    ) {
        self.label = label
        self.listeners = listeners
        self.lanes = lanes
        self.admin = admin
        self.replayLog = replayLog
        self.dualWrites = dualWrites
    }
}

/// The one label key used everywhere, and where each protocol reads it.
public struct LabelConfiguration: Sendable, Hashable {
    /// The key: MySQL connection attribute, comment hint key, sqlcommenter key, W3C baggage key. Default `lane`.
    public var key: String
    /// The PostgreSQL setting name (in `options=-c NAME=gray`, a startup parameter, or `SET NAME = 'gray'`).
    /// PostgreSQL only accepts custom settings with a dot, so the default is `shadow.<key>`.
    public var postgresSetting: String
    /// The MySQL user variable that switches the session's lane (`SET @NAME = 'gray'`). Default: the key.
    public var mysqlSessionVariable: String
    /// The base lane's name; hints naming it switch a statement back to base. Default `base`.
    public var baseLane: String

    public init(key: String = "lane", postgresSetting: String? = nil, mysqlSessionVariable: String? = nil, baseLane: String = "base") {
        self.key = key
        self.postgresSetting = postgresSetting ?? "shadow.\(key)"
        self.mysqlSessionVariable = mysqlSessionVariable ?? key
        self.baseLane = baseLane
    }
}

/// The wire protocol a listener speaks.
public enum WireProtocol: String, Sendable, Hashable, CaseIterable {
    case mysql
    case postgres
}

/// A certificate and key in PEM files, for TLS termination.
public struct TLSFiles: Sendable, Hashable {
    public var certificatePath: String
    public var privateKeyPath: String

    public init(certificatePath: String, privateKeyPath: String) {
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
    }
}

/// One client-facing listener and the base server behind it.
public struct ListenerConfiguration: Sendable, Hashable {
    public var name: String
    public var wireProtocol: WireProtocol
    public var listen: Endpoint
    /// The base (production) server.
    public var backend: Endpoint
    /// TLS towards clients; nil means the proxy does not offer TLS.
    public var tls: TLSFiles?
    /// Use TLS towards the backend servers.
    public var backendTLS: Bool
    /// Largest single client message accepted, in bytes (MySQL: a logical packet after joining 16 MiB chunks is
    /// streamed, this limits what the proxy must buffer to inspect). Default 64 MiB.
    public var maxMessageSize: Int
    /// Seconds a client may take to finish the handshake. Default 10.
    public var handshakeTimeoutSeconds: Double
    /// Seconds to wait for a backend TCP connection. Default 5.
    public var connectTimeoutSeconds: Double
    /// Whether table names compare case-sensitively on this listener's server. MySQL decides this with the server
    /// variable `lower_case_table_names` (0 on Linux: case-sensitive, the default here); configure it with
    /// `lower_case_table_names` or `case_sensitive_names`. PostgreSQL always compares the folded form exactly, so it
    /// is always true there. Copied into ``LaneMapping/caseSensitiveNames`` by ``RoutingTable/mapping(for:listener:)``.
    public var caseSensitiveNames: Bool
    /// The login used by the data tools (diff, shadow-ddl); nil when the configuration names none.
    public var credentials: DatabaseCredentials?

    public init(
        name: String,
        wireProtocol: WireProtocol,
        listen: Endpoint,
        backend: Endpoint,
        tls: TLSFiles? = nil,
        backendTLS: Bool = false,
        maxMessageSize: Int = 64 << 20,
        handshakeTimeoutSeconds: Double = 10,
        connectTimeoutSeconds: Double = 5,
        caseSensitiveNames: Bool = true,
        credentials: DatabaseCredentials? = nil
    ) {
        self.name = name
        self.wireProtocol = wireProtocol
        self.listen = listen
        self.backend = backend
        self.tls = tls
        self.backendTLS = backendTLS
        self.maxMessageSize = maxMessageSize
        self.handshakeTimeoutSeconds = handshakeTimeoutSeconds
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.caseSensitiveNames = caseSensitiveNames
        self.credentials = credentials
    }

    /// ``handshakeTimeoutSeconds`` as a `Duration`.
    public var handshakeTimeout: Duration { .milliseconds(Int64((handshakeTimeoutSeconds * 1000).rounded())) }
    /// ``connectTimeoutSeconds`` as a `Duration`.
    public var connectTimeout: Duration { .milliseconds(Int64((connectTimeoutSeconds * 1000).rounded())) }
    /// The SQL dialect spoken on this listener.
    public var dialect: SQLDialect { wireProtocol == .mysql ? .mysql : .postgres }
}

/// One non-base lane: its mapping and who is in it.
public struct LaneConfiguration: Sendable, Hashable {
    public var name: String
    /// How names change in this lane.
    public var mapping: LaneMapping
    /// Listener name → another server for this lane (connection-level shadow database).
    public var backends: [String: Endpoint]
    /// Logins that are always in this lane.
    public var users: [String]
    /// PostgreSQL application_name prefixes that put a connection in this lane.
    public var applicationNamePrefixes: [String]
    /// The data tools' login for this lane's own backends; falls back to the listener's credentials when nil.
    public var credentials: DatabaseCredentials?

    public init(
        name: String,
        mapping: LaneMapping,
        backends: [String: Endpoint] = [:],
        users: [String] = [],
        applicationNamePrefixes: [String] = [],
        credentials: DatabaseCredentials? = nil
    ) {
        self.name = name
        self.mapping = mapping
        self.backends = backends
        self.users = users
        self.applicationNamePrefixes = applicationNamePrefixes
        self.credentials = credentials
    }
}

/// The admin HTTP listener.
public struct AdminConfiguration: Sendable, Hashable {
    public var listen: Endpoint

    public init(listen: Endpoint) {
        self.listen = listen
    }
}
