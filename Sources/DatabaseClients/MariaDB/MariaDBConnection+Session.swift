internal import CMariaDB

extension MariaDBConnection {
    /// Logs in again on the same connection as another user (COM_CHANGE_USER): the server resets the session
    /// (variables, prepared statements, temporary tables) and re-authenticates. Throws `queryFailed` when the server
    /// (or a proxy in between) refuses.
    public func changeUser(_ user: String, password: String?, database: String?) throws {
        let handle = try openHandle(for: "change user")
        if mysql_change_user(handle, user, password, database) != 0 {
            throw Self.error(from: handle, code: .queryFailed, context: "change user to '\(user)' on MariaDB \(configuration.endpoint)")
        }
    }

    /// Resets the session without logging in again (COM_RESET_CONNECTION): user variables, prepared statements,
    /// temporary tables and an open transaction are discarded.
    public func resetConnection() throws {
        let handle = try openHandle(for: "reset connection")
        if mysql_reset_connection(handle) != 0 {
            throw Self.error(from: handle, code: .queryFailed, context: "reset connection on MariaDB \(configuration.endpoint)")
        }
    }
}
