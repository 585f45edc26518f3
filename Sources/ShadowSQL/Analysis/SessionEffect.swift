/// A change a statement makes to session state that the proxy must follow (lane switch, current database).
public enum SessionEffect: Sendable, Hashable {
    /// Scope of a PostgreSQL SET.
    public enum Scope: Sendable, Hashable {
        case session
        /// `SET LOCAL`: ends with the transaction.
        case local
    }
    /// `SET @name = 'value'` (MySQL user variable) or `SET [SESSION|LOCAL] name = / TO 'value'` (PostgreSQL).
    /// `value == nil` means `RESET name` / `SET name TO DEFAULT` / `SET @name = NULL`.
    case setVariable(name: String, value: String?, scope: Scope)
    /// `RESET ALL` or `DISCARD ALL` (PostgreSQL): every session setting returns to its default.
    case resetAll
    /// `USE db` (MySQL).
    case useDatabase(String)
}

/// Detects session statements cheaply: only statements whose first keyword is SET, RESET, DISCARD or USE
/// are looked at, so the base-lane cost is one keyword check.
public enum SessionStatementScanner {
    /// Returns the session effects of the statements in `sql`, in order.
    public static func effects(in sql: UnsafeRawBufferPointer, dialect: SQLDialect) -> [SessionEffect] {
        // PLACEHOLDER until the scanner lands.
        []
    }
}
