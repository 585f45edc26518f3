/// An error from a database client call: what failed, where, and what the server said.
///
/// The wrappers turn every libmariadb / libpq failure into this one type so that control-plane code and tests can
/// check the SQLSTATE or the server's error number without knowing which library produced it.
public struct DatabaseClientError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is. Extensible: new codes are new static members, never new enum cases.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The stable name of the code, e.g. `queryFailed`.
        public let name: String

        /// Opening the connection failed (network, TLS, authentication, unknown database).
        public static let connectionFailed = Code(name: "connectionFailed")
        /// The server rejected a statement, or the result could not be read.
        public static let queryFailed = Code(name: "queryFailed")
        /// Preparing, binding or executing a prepared statement failed.
        public static let statementFailed = Code(name: "statementFailed")
        /// A COPY could not be started, fed or finished.
        public static let copyFailed = Code(name: "copyFailed")
        /// Pipeline mode could not be entered, fed, synchronised or left.
        public static let pipelineFailed = Code(name: "pipelineFailed")
        /// A cancel request could not be delivered to the server.
        public static let cancelFailed = Code(name: "cancelFailed")
        /// The connection was already closed by `close()`.
        public static let connectionClosed = Code(name: "connectionClosed")
        /// The caller passed something the client cannot use (e.g. a NUL byte inside a connection parameter).
        public static let invalidArgument = Code(name: "invalidArgument")
        /// The library answered in a way the wrapper did not expect (e.g. an unexpected result status).
        public static let unexpectedResponse = Code(name: "unexpectedResponse")

        public var description: String { name }
    }

    /// What kind of failure this is.
    public var code: Code
    /// The five-character SQLSTATE the server (or the library) reported, if any; e.g. `42S02`, `57014`.
    public var sqlState: String?
    /// MariaDB's numeric error (e.g. 1146 for ER_NO_SUCH_TABLE); `nil` for PostgreSQL, which has only SQLSTATE.
    public var serverErrorNumber: Int?
    /// The library's or server's own message, trimmed.
    public var message: String
    /// Where it happened: the operation and the endpoint, e.g. `query on MariaDB 127.0.0.1:3306`.
    public var context: String
    /// For a multi-statement text: how many of its statements completed before the one that failed.
    public var completedStatements: Int?

    public init(
        code: Code,
        message: String,
        context: String,
        sqlState: String? = nil,
        serverErrorNumber: Int? = nil
    ) {
        self.code = code
        self.message = message
        self.context = context
        self.sqlState = sqlState
        self.serverErrorNumber = serverErrorNumber
    }

    public var description: String {
        var text = "\(context): \(message)"
        var details: [String] = []
        if let serverErrorNumber { details.append("error \(serverErrorNumber)") }
        if let sqlState { details.append("SQLSTATE \(sqlState)") }
        details.append(code.name)
        text += " (" + details.joined(separator: ", ") + ")"
        return text
    }
}
