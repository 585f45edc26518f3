/// The login the control-plane tools (diff, shadow-ddl) use to reach a server. The proxy itself never logs in with
/// these: client logins are relayed.
public struct DatabaseCredentials: Sendable, Hashable {
    public var user: String
    /// The password, already resolved (from `password`, or from the environment variable named by `password_env`).
    public var password: String
    /// The database to connect to (MySQL: the default database; PostgreSQL: the database, schemas live inside it).
    public var database: String

    public init(user: String, password: String = "", database: String) {
        self.user = user
        self.password = password
        self.database = database
    }
}
