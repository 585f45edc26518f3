internal import CLibPQ

/// A NoticeResponse the server sent (RAISE NOTICE, warnings such as "there is no transaction in progress").
public struct PostgresNotice: Sendable, Equatable {
    /// Non-localised severity: `NOTICE`, `WARNING`, `INFO`, `LOG`, `DEBUG`.
    public var severity: String
    /// SQLSTATE, e.g. `00000` or `25P01`.
    public var sqlState: String
    /// The primary message.
    public var message: String

    public init(severity: String, sqlState: String, message: String) {
        self.severity = severity
        self.sqlState = sqlState
        self.message = message
    }
}

/// Collects notices from libpq's C callback; owned by its connection, so it lives as long as the callback
/// may be called, and used only on the connection's thread (libpq calls the receiver synchronously).
final class PostgresNoticeCollector {
    var notices: [PostgresNotice] = []

    /// The C callback; `argument` is an unretained pointer to the collector.
    static let receiver: PQnoticeReceiver = { argument, result in
        guard let argument, let result else { return }
        let collector = Unmanaged<PostgresNoticeCollector>.fromOpaque(argument).takeUnretainedValue()
        collector.notices.append(PostgresNotice(
            severity: PostgresConnection.errorField(result, "V") ?? PostgresConnection.errorField(result, "S") ?? "",
            sqlState: PostgresConnection.errorField(result, "C") ?? "",
            message: PostgresConnection.errorField(result, "M") ?? ""))
    }
}
