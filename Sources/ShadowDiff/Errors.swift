/// Why a data tool could not do its job. Each case carries enough to say what is wrong and what to do; the CLI
/// prints ``description`` and exits 2. Nothing has been written when one of these is thrown before ``--apply``.
public enum DataToolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The lane is not in the configuration.
    case unknownLane(String, known: [String])
    /// The listener is not in the configuration, or several exist and none was chosen.
    case listenerChoice(String)
    /// Neither the listener nor the lane names credentials to log in with.
    case missingCredentials(listener: String)
    /// A table named on the command line (or in the mapping) does not exist on the base server.
    case unknownTable(String)
    /// The lane has no shadow for a table (no explicit entry, no suffix rule, no database or backend redirect).
    case unmappedTable(String, lane: String)
    /// The shadow table does not exist; run shadow-ddl first.
    case missingShadowTable(base: String, shadow: String)
    /// Base and shadow disagree on the key the diff splits by.
    case differentKeys(table: String, base: [String], shadow: [String])
    /// A shadow name would exceed the server's identifier length limit.
    case nameTooLong(name: String, table: String, limit: Int)
    /// The configuration asks for something this tool cannot do (named in the message).
    case unsupported(String)
    /// A server could not be reached or refused the login.
    case connection(String)
    /// The server refused or failed a statement.
    case server(String, statement: String)
    /// The login lacks a privilege the run needs (named by the server's message).
    case permission(String, server: String)
    /// A session ended mid-run (server stopped or restarted, session killed, network gone).
    case connectionLost(String, server: String)

    /// Whether the server refused for lack of a privilege.
    public var isPermission: Bool {
        if case .permission = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .unknownLane(let lane, let known):
            return "unknown lane '\(lane)'; the configuration defines: \(known.isEmpty ? "(none)" : known.joined(separator: ", "))"
        case .listenerChoice(let message):
            return message
        case .missingCredentials(let listener):
            return "no credentials for listener '\(listener)': add credentials: { user, password, database } to the "
                + "listener (or to the lane for its own backend) in the configuration"
        case .unknownTable(let table):
            return "table \(table) does not exist on the base server; check the name (and the database in the credentials)"
        case .unmappedTable(let table, let lane):
            return "lane '\(lane)' has no shadow for table \(table): add it to lanes.\(lane).tables.map or set a suffix rule"
        case .missingShadowTable(let base, let shadow):
            return "shadow table \(shadow) (for \(base)) does not exist; create it with `shadowgate shadow-ddl --apply`"
        case .differentKeys(let table, let base, let shadow):
            return "table \(table): base is keyed by (\(base.joined(separator: ", "))) but the shadow by "
                + "(\(shadow.joined(separator: ", "))); give both the same primary key, then re-run"
        case .nameTooLong(let name, let table, let limit):
            return "shadow name '\(name)' for table \(table) is \(name.utf8.count) bytes, over the server's \(limit)-byte "
                + "identifier limit; map the table explicitly to a shorter name in lanes.<lane>.tables.map"
        case .unsupported(let message):
            return message
        case .connection(let message):
            return message + "; check the address and credentials in the configuration and that the server is up"
        case .permission(let message, let server):
            return "permission denied on \(server): \(message); grant the login SELECT on the base and shadow tables "
                + "(and INSERT, UPDATE, DELETE on the shadow for --repair apply, CREATE for shadow-ddl --apply), then re-run"
        case .connectionLost(let message, let server):
            return "lost the connection to \(server) mid-run: \(message); check that the server is up and re-run (the "
                + "comparison starts over; a repair batch that was in flight is rolled back by the server)"
        case .server(let message, let statement):
            let clipped = statement.count > 300 ? String(statement.prefix(300)) + "…" : statement
            return "server error: \(message)\n  while running: \(clipped)"
        }
    }
}
