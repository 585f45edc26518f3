internal import CMariaDB

/// libmariadb must be initialised once, before any thread opens a connection; a global `let` runs its
/// initialiser exactly once, thread-safely.
private let mariaDBLibraryInitialized: Bool = mysql_server_init(0, nil, nil) == 0

/// A blocking connection to MariaDB or MySQL through libmariadb, for the control plane and tests.
///
/// Threading rules: a connection is used by one thread at a time (it may move between threads between calls,
/// but never two calls at once), and every call blocks on the network — keep it off NIO event loops, e.g. run it
/// on a `NIOThreadPool` or a dedicated thread. It is deliberately not `Sendable`.
/// Prepared statements made from it (`MariaDBStatement`) follow the same rule and share its thread.
public final class MariaDBConnection {
    /// The settings this connection was opened with.
    public let configuration: Configuration
    /// The libmariadb handle; `nil` once closed.
    var handle: UnsafeMutablePointer<MYSQL>?

    /// Opens a connection and authenticates; throws `DatabaseClientError` (`connectionFailed`) when it cannot.
    public init(configuration: Configuration) throws {
        self.configuration = configuration
        let context = "connect to MariaDB \(configuration.endpoint) as '\(configuration.user)'"
        guard mariaDBLibraryInitialized, let handle = mysql_init(nil) else {
            throw DatabaseClientError(code: .connectionFailed, message: "libmariadb could not allocate a handle",
                                      context: context)
        }
        do {
            try Self.applyOptions(configuration, to: handle, context: context)
            var flags: UInt = UInt(CLIENT_MULTI_RESULTS)
            if configuration.multiStatements { flags |= UInt(CLIENT_MULTI_STATEMENTS) }
            let connected = mysql_real_connect(
                handle, configuration.host, configuration.user, configuration.password, configuration.database,
                UInt32(clamping: configuration.port), configuration.unixSocket, flags)
            guard connected != nil else {
                throw Self.error(from: handle, code: .connectionFailed, context: context)
            }
        } catch {
            mysql_close(handle)
            throw error
        }
        self.handle = handle
    }

    /// Opens a connection; the labelled-argument form of `init(configuration:)`.
    public static func connect(
        host: String,
        port: Int = 3306,
        user: String,
        password: String? = nil,
        database: String? = nil,
        connectionAttributes: [String: String] = [:],
        tls: Configuration.TLS = .disabled,
        timeouts: Configuration.Timeouts = .init(),
        multiStatements: Bool = false,
        unixSocket: String? = nil
    ) throws -> MariaDBConnection {
        try MariaDBConnection(configuration: Configuration(
            host: host, port: port, user: user, password: password, database: database,
            connectionAttributes: connectionAttributes, tls: tls, timeouts: timeouts,
            multiStatements: multiStatements, unixSocket: unixSocket))
    }

    deinit {
        if let handle { mysql_close(handle) }
    }

    /// Closes the connection (sends COM_QUIT). Safe to call more than once; later calls on it throw
    /// `connectionClosed`.
    public func close() {
        if let handle { mysql_close(handle) }
        handle = nil
    }

    /// Whether `close()` has been called.
    public var isClosed: Bool { handle == nil }

    /// The server's version string as it announced it in the greeting, e.g. `10.11.6-MariaDB-0+deb12u1`.
    public var serverVersion: String {
        guard let handle, let info = mysql_get_server_info(handle) else { return "" }
        return String(cString: info)
    }

    /// The server's connection (thread) id from the greeting: what `KILL <id>` and `CONNECTION_ID()` name.
    public var threadID: UInt64 {
        guard let handle else { return 0 }
        return UInt64(mysql_thread_id(handle))
    }

    /// The TLS cipher in use, or `nil` when the connection is not encrypted.
    public var tlsCipher: String? {
        guard let handle, let cipher = mysql_get_ssl_cipher(handle) else { return nil }
        return String(cString: cipher)
    }

    /// Sends COM_PING; throws when the server does not answer OK.
    public func ping() throws {
        let handle = try openHandle(for: "ping")
        if mysql_ping(handle) != 0 {
            throw Self.error(from: handle, code: .queryFailed, context: "ping on MariaDB \(configuration.endpoint)")
        }
    }

    /// Runs one statement (COM_QUERY) and returns its result. For multi-statement text, use `queryAll`;
    /// this returns the first result after draining the rest (so the connection stays usable).
    @discardableResult
    public func query(_ sql: String) throws -> QueryResult {
        let results = try queryAll(Array(sql.utf8))
        return results.first ?? QueryResult()
    }

    /// Runs a query text and returns every result it produced, in order (one per statement when
    /// `multiStatements` is on, plus the extra results of a CALL).
    public func queryAll(_ sql: String) throws -> [QueryResult] {
        try queryAll(Array(sql.utf8))
    }

    /// Runs a query given as raw bytes, binary-safe (the text may contain NUL or non-UTF-8 bytes in literals).
    public func queryAll(_ sql: [UInt8]) throws -> [QueryResult] {
        let handle = try openHandle(for: "query")
        let context = "query on MariaDB \(configuration.endpoint)"
        let rc = sql.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                mysql_real_query(handle, chars.baseAddress, UInt(chars.count))
            }
        }
        var results: [QueryResult] = []
        do {
            if rc != 0 { throw Self.error(from: handle, code: .queryFailed, context: context) }
            while true {
                results.append(try readResult(handle, context: context))
                let next = mysql_next_result(handle)  // 0: another result follows, -1: done, >0: error
                if next == -1 { break }
                if next > 0 { throw Self.error(from: handle, code: .queryFailed, context: context) }
            }
        } catch var error as DatabaseClientError {
            error.completedStatements = results.count
            throw error
        }
        return results
    }

    /// Runs a statement that returns no rows and returns its affected-row count.
    @discardableResult
    public func execute(_ sql: String) throws -> UInt64 {
        try query(sql).affectedRows
    }

    /// Prepares a statement on the server (COM_STMT_PREPARE); `?` marks parameters.
    public func prepare(_ sql: String) throws -> MariaDBStatement {
        let handle = try openHandle(for: "prepare")
        return try MariaDBStatement(connection: self, handle: handle, sql: sql)
    }

    /// Reads the current result of the last command: a result set, or the OK summary.
    private func readResult(_ handle: UnsafeMutablePointer<MYSQL>, context: String) throws -> QueryResult {
        guard let result = mysql_store_result(handle) else {
            if mysql_field_count(handle) != 0 {
                throw Self.error(from: handle, code: .queryFailed, context: context)
            }
            return QueryResult(
                affectedRows: UInt64(mysql_affected_rows(handle)),
                lastInsertID: UInt64(mysql_insert_id(handle)),
                warnings: Int(mysql_warning_count(handle)),
                commandTag: mysql_info(handle).map { String(cString: $0) })
        }
        defer { mysql_free_result(result) }
        let count = Int(mysql_num_fields(result))
        var columns: [String] = []
        if let fields = mysql_fetch_fields(result) {
            columns = (0..<count).map { String(cString: fields[$0].name) }
        }
        var rows: [[[UInt8]?]] = []
        while let row = mysql_fetch_row(result) {
            guard let lengths = mysql_fetch_lengths(result) else { break }
            rows.append((0..<count).map { index -> [UInt8]? in
                guard let cell = row[index] else { return nil }
                let raw = UnsafeRawBufferPointer(start: cell, count: Int(lengths[index]))
                return Array(raw)
            })
        }
        if mysql_errno(handle) != 0 { throw Self.error(from: handle, code: .queryFailed, context: context) }
        return QueryResult(columns: columns, rawRows: rows, affectedRows: UInt64(rows.count),
                           warnings: Int(mysql_warning_count(handle)))
    }

    /// The live handle, or `connectionClosed`.
    func openHandle(for operation: String) throws -> UnsafeMutablePointer<MYSQL> {
        guard let handle else {
            throw DatabaseClientError(code: .connectionClosed, message: "the connection was closed",
                                      context: "\(operation) on MariaDB \(configuration.endpoint)")
        }
        return handle
    }

    /// The error libmariadb recorded on `handle`, with its number and SQLSTATE.
    static func error(
        from handle: UnsafeMutablePointer<MYSQL>, code: DatabaseClientError.Code, context: String
    ) -> DatabaseClientError {
        let number = Int(mysql_errno(handle))
        return DatabaseClientError(
            code: code,
            message: String(cString: mysql_error(handle)),
            context: context,
            sqlState: String(cString: mysql_sqlstate(handle)),
            serverErrorNumber: number == 0 ? nil : number)
    }
}
