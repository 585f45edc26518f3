internal import CLibPQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A blocking connection to PostgreSQL through libpq, for the control plane and tests.
///
/// Threading rules: a connection is used by one thread at a time (it may move between threads between calls,
/// never two calls at once), and every call blocks on the network — keep it off NIO event loops. The one
/// exception is `cancelHandle()`, whose handle may be used from any thread while a call is running.
/// Deliberately not `Sendable`.
public final class PostgresConnection {
    /// How the connection was described, for error messages (`host:port` or the conninfo's host).
    public let endpoint: String
    /// The libpq handle; `nil` once closed.
    var connection: OpaquePointer?
    private let noticeCollector = PostgresNoticeCollector()

    /// Opens a connection from parameters; throws `connectionFailed` with libpq's message when it cannot.
    public convenience init(configuration: Configuration) throws {
        try self.init(parameters: configuration.parameters, endpoint: configuration.endpoint)
    }

    /// Opens a connection from a libpq conninfo string (`host=… port=… user=…` or a `postgresql://` URI).
    public convenience init(conninfo: String) throws {
        try self.init(parameters: [("dbname", conninfo)], endpoint: "conninfo", expandDatabaseName: true)
    }

    private init(parameters: [(String, String)], endpoint: String, expandDatabaseName: Bool = false) throws {
        self.endpoint = endpoint
        let context = "connect to PostgreSQL \(endpoint)"
        if parameters.contains(where: { $0.0.utf8.contains(0) || $0.1.utf8.contains(0) }) {
            throw DatabaseClientError(code: .invalidArgument, message: "a connection parameter contains a NUL byte",
                                      context: context)
        }
        let connection = withCStrings(parameters.map(\.0)) { keys in
            withCStrings(parameters.map(\.1)) { values in
                PQconnectdbParams(keys, values, expandDatabaseName ? 1 : 0)
            }
        }
        guard let connection else {
            throw DatabaseClientError(code: .connectionFailed, message: "libpq could not allocate a connection",
                                      context: context)
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(connection))
            PQfinish(connection)
            throw DatabaseClientError(code: .connectionFailed, message: message, context: context)
        }
        self.connection = connection
        PQsetNoticeReceiver(connection, PostgresNoticeCollector.receiver,
                            Unmanaged.passUnretained(noticeCollector).toOpaque())
    }

    deinit {
        if let connection { PQfinish(connection) }
    }

    /// Closes the connection (sends Terminate). Safe to call more than once.
    public func close() {
        if let connection { PQfinish(connection) }
        connection = nil
    }

    /// Whether `close()` has been called.
    public var isClosed: Bool { connection == nil }

    /// The server process serving this connection (what `pg_backend_pid()` returns); 0 when closed.
    public var backendPID: Int32 {
        connection.map { PQbackendPID($0) } ?? 0
    }

    /// The server version as libpq encodes it (150018 for 15.18); 0 when closed.
    public var serverVersion: Int {
        connection.map { Int(PQserverVersion($0)) } ?? 0
    }

    /// A ParameterStatus value the server reported (`server_version`, `application_name`, `TimeZone`, …).
    public func parameterStatus(_ name: String) -> String? {
        guard let connection, let value = PQparameterStatus(connection, name) else { return nil }
        return String(cString: value)
    }

    /// Whether the connection is encrypted with TLS.
    public var usesTLS: Bool {
        connection.map { PQsslInUse($0) == 1 } ?? false
    }

    /// Where the session is with respect to transactions, as the last ReadyForQuery reported.
    public var transactionStatus: TransactionStatus {
        guard let connection else { return .unknown }
        switch PQtransactionStatus(connection) {
        case PQTRANS_IDLE: return .idle
        case PQTRANS_ACTIVE: return .active
        case PQTRANS_INTRANS: return .inTransaction
        case PQTRANS_INERROR: return .failedTransaction
        default: return .unknown
        }
    }

    /// Transaction state of the session (libpq's `PGTransactionStatusType`).
    public enum TransactionStatus: Sendable, Equatable {
        /// Outside a transaction.
        case idle
        /// A command is in progress.
        case active
        /// Inside a transaction block.
        case inTransaction
        /// Inside a failed transaction block: only ROLLBACK will be accepted.
        case failedTransaction
        /// The connection is bad or closed.
        case unknown
    }

    /// Notices received so far, oldest first.
    public var notices: [PostgresNotice] { noticeCollector.notices }

    /// Returns the notices received so far and forgets them.
    public func takeNotices() -> [PostgresNotice] {
        defer { noticeCollector.notices.removeAll() }
        return noticeCollector.notices
    }

    /// A handle that cancels this connection's running statement from another thread.
    public func cancelHandle() throws -> PostgresCancelHandle {
        let connection = try live(for: "cancel handle")
        guard let cancel = PQgetCancel(connection) else {
            throw DatabaseClientError(code: .cancelFailed, message: "libpq could not create a cancel object",
                                      context: "cancel handle for PostgreSQL \(endpoint)")
        }
        return PostgresCancelHandle(cancel: cancel, endpoint: endpoint)
    }

    /// The live handle, or `connectionClosed`.
    func live(for operation: String) throws -> OpaquePointer {
        guard let connection else {
            throw DatabaseClientError(code: .connectionClosed, message: "the connection was closed",
                                      context: "\(operation) on PostgreSQL \(endpoint)")
        }
        return connection
    }

    /// A libpq message without its trailing newline.
    static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "" }
        var text = String(cString: message)
        while text.last?.isNewline == true { text.removeLast() }
        return text
    }
}

/// Calls `body` with a C array of C strings that lives for the duration of the call, then frees it.
/// The array is NULL-terminated (as `PQconnectdbParams` needs); `nil` entries become NULL pointers.
func withCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.flatMap { strdup($0) } }
    defer { for copy in copies { free(copy) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } } + [nil]
    return pointers.withUnsafeBufferPointer { buffer in
        // The array holds at least its NULL terminator, so it always has storage.
        body(buffer.baseAddress!)
    }
}
