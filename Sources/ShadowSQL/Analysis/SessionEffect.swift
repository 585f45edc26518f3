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
    /// `SET NAMES x`, `SET CHARACTER SET x`, `SET CHARSET x` or an assignment to `character_set_client` (MySQL):
    /// the connection character set; nil when only the server knows the value (an expression, a variable).
    case setCharacterSet(String?)
    /// An assignment to the session's `sql_mode` (MySQL): the literal value, or nil when only the server knows it
    /// (an expression, a variable). `DEFAULT` is the value `DEFAULT`.
    case setSQLMode(String?)
    /// MySQL `EXECUTE stmt`: runs a prepared statement whose session effects the proxy cannot see.
    case executePrepared
}
