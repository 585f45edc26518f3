/// The keys the loader accepts, per section. One source of truth for the unknown-key check, the "did you mean"
/// suggestions, and the documentation test that every accepted key is described in docs/configuration.md.
public enum ConfigurationKeys {
    static let root = ["label", "listeners", "lanes", "admin", "replay_log", "base_dual_write"]
    static let label = ["key", "postgres_setting", "mysql_session_variable", "base_lane"]
    static let listener = [
        "name", "protocol", "listen", "backend", "tls", "backend_tls", "max_message_size", "handshake_timeout",
        "connect_timeout", "lower_case_table_names", "case_sensitive_names", "credentials",
    ]
    static let tls = ["cert", "key"]
    static let lane = [
        "tables", "databases", "default_database", "backends", "users", "application_names", "unmapped_writes",
        "unmapped_reads", "routines", "shared_tables", "credentials", "dual_write",
    ]
    static let tables = ["suffix", "map"]
    static let credentials = ["user", "password", "password_env", "database"]
    static let admin = ["listen"]
    static let replayLog = ["dir", "durability", "segment_size", "concurrent_syncs", "max_copy_bytes", "retention"]
    static let retention = ["max_bytes", "max_age", "hard_limit"]
    static let dualWrite = ["listener", "mirror", "tables", "columns", "durability", "flush_interval"]
    static let mirror = ["backend", "database", "credentials"]
    static let mirrorCredentials = ["user", "password", "password_env"]

    /// Every accepted key as a documentation path: `label.key`, `listeners[].tls.cert`, `lanes.<lane>.tables.map`.
    public static var documentedPaths: [String] {
        var paths: [String] = root
        paths += label.map { "label.\($0)" }
        paths += listener.map { "listeners[].\($0)" }
        paths += tls.map { "listeners[].tls.\($0)" }
        paths += lane.map { "lanes.<lane>.\($0)" }
        paths += tables.map { "lanes.<lane>.tables.\($0)" }
        paths += credentials.map { "listeners[].credentials.\($0)" }
        paths += credentials.map { "lanes.<lane>.credentials.\($0)" }
        paths += admin.map { "admin.\($0)" }
        paths += replayLog.map { "replay_log.\($0)" }
        paths += retention.map { "replay_log.retention.\($0)" }
        for section in ["base_dual_write", "lanes.<lane>.dual_write"] {
            paths += dualWrite.map { "\(section).\($0)" }
            paths += mirror.map { "\(section).mirror.\($0)" }
            paths += mirrorCredentials.map { "\(section).mirror.credentials.\($0)" }
        }
        return paths
    }
}
