/// Where the applier replays records: plain connection parameters (the configuration wiring maps its mirror
/// section onto this later).
public struct MirrorConnectionParameters: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var database: String
    public var dialect: ReplayDialect

    public init(host: String, port: Int, user: String, password: String, database: String, dialect: ReplayDialect) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.dialect = dialect
    }
}

/// Why a mirror could not apply a record: decides between retrying (unavailable) and stopping (rejected).
public enum MirrorFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The mirror cannot be reached or the connection broke: retry with backoff.
    case unavailable(String)
    /// The mirror refused a statement (constraint, syntax, missing table): retrying will not help.
    case rejected(statement: Int, message: String)

    public var description: String {
        switch self {
        case .unavailable(let message): "mirror unavailable: \(message)"
        case .rejected(let statement, let message): "mirror rejected statement \(statement + 1): \(message)"
        }
    }
}

/// A connection to a mirror that applies one record as one transaction. Blocking; used only on the applier thread.
public protocol MirrorSession: AnyObject {
    /// Applies all statements of `record` in a transaction; on failure the transaction is rolled back.
    func apply(_ record: ReplayRecord) throws(MirrorFailure)
    func close()
}

/// Opens sessions for a dialect; the applier reconnects through it after `unavailable`.
public enum MirrorSessions {
    public static func connect(_ parameters: MirrorConnectionParameters) throws(MirrorFailure) -> any MirrorSession {
        switch parameters.dialect {
        case .mysql: try MariaDBMirrorSession(parameters)
        case .postgres: try PostgresMirrorSession(parameters)
        }
    }
}
