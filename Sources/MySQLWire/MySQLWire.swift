import NIOCore

/// Namespace for the MySQL/MariaDB wire protocol: framing, messages and the session state machine.
public enum MySQLWire {}
