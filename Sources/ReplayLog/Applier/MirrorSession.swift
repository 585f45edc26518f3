/// Where the applier replays records: plain connection parameters (the configuration wiring maps its mirror
/// section onto this later).
public struct MirrorConnectionParameters: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var database: String
    public var dialect: ReplayDialect
    /// A table in the mirror (created when missing) where each record's LSN is stored in the record's own mirror
    /// transaction, per target. The applier skips records the mirror already has, so a crash between a mirror
    /// COMMIT and the checkpoint does not apply a record twice. nil: at-least-once, the checkpoint file only.
    public var progressTable: String?

    /// The progress table the proxy's dual-write uses.
    public static let defaultProgressTable = "shadowgate_replay_progress"

    public init(
        host: String, port: Int, user: String, password: String, database: String, dialect: ReplayDialect,
        progressTable: String? = nil
    ) {
        self.progressTable = progressTable
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

/// A connection to a mirror that applies records in mirror transactions. Blocking; used only on the applier thread.
public protocol MirrorSession: AnyObject {
    /// Applies every statement of `records`, in order, in one mirror transaction that also stores the last record's
    /// LSN in the progress table; on failure the transaction is rolled back and nothing of `records` stays applied.
    /// A rejection names the statement within its record (the applier retries a rejected batch record by record, so
    /// the record is then known).
    func apply(_ records: [ReplayRecord]) throws(MirrorFailure)
    func close()
    /// The last LSN of `target` the mirror committed (from the progress table), 0 when it keeps none.
    func appliedLSN(target: String) throws(MirrorFailure) -> LSN
}

extension MirrorSession {
    public func appliedLSN(target: String) throws(MirrorFailure) -> LSN { 0 }
}

extension MirrorConnectionParameters {
    /// `progressTable` quoted for `dialect`, when it is a plain name (anything else is refused at connect).
    var quotedProgressTable: String? {
        guard let table = progressTable, !table.isEmpty,
            table.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) })
        else { return nil }
        return dialect == .mysql ? "`\(table)`" : "\"\(table)\""
    }

    /// A target name as an SQL string literal (targets are `lane@listener`; quotes are doubled anyway).
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "\\", with: "").replacingOccurrences(of: "'", with: "''") + "'"
    }
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

extension ReplayStatement {
    /// The bulk data a captured `COPY … FROM STDIN` or `LOAD … LOCAL INFILE` carries as its one bytes value, when the
    /// statement starts with `keyword` (lower-case); nil for any other statement.
    func bulkData(keyword: String) -> [UInt8]? {
        guard let parameters, parameters.count == 1, case .bytes(let data) = parameters[0] else { return nil }
        let text = sql.drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard text.prefix(keyword.count).lowercased() == keyword, let next = text.dropFirst(keyword.count).first,
            next == " " || next == "\t" || next == "\n" || next == "\r"
        else { return nil }
        return data
    }
}
