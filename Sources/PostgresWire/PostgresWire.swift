import NIOCore

/// Namespace for the PostgreSQL wire protocol: message codecs and the session state machine.
public enum PostgresWire {}
