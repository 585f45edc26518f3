import NIOConcurrencyHelpers

/// What the admin endpoint shows about one live client connection.
public struct ConnectionSnapshot: Sendable, Hashable, Codable {
    public var id: Int
    public var listener: String
    public var wireProtocol: String
    public var client: String
    public var user: String?
    public var lane: String
    public var backend: String?
    /// Seconds since the Unix epoch when the connection was accepted.
    public var openedAt: Double
    public var statements: Int
}

/// The live connections of the process, for the status page, `/api/status` and graceful drain.
/// Sessions register when accepted, update on lane changes, and unregister on close. Per-statement counting is
/// done in ``LaneStatistics``, not here, so the hot path takes no lock of this registry.
public final class ConnectionRegistry: Sendable {
    private let state = NIOLockedValueBox<(nextID: Int, connections: [Int: ConnectionSnapshot])>((1, [:]))

    public init() {}

    /// Registers a new connection and returns its id.
    public func register(listener: String, wireProtocol: String, client: String, lane: String, now: Double) -> Int {
        state.withLockedValue { state in
            let id = state.nextID
            state.nextID += 1
            state.connections[id] = ConnectionSnapshot(
                id: id, listener: listener, wireProtocol: wireProtocol, client: client, user: nil, lane: lane,
                backend: nil, openedAt: now, statements: 0
            )
            return id
        }
    }

    /// Changes what is known about a connection (user after the handshake, lane after a switch, backend).
    public func update(_ id: Int, _ body: (inout ConnectionSnapshot) -> Void) {
        state.withLockedValue { state in
            if var snapshot = state.connections[id] {
                body(&snapshot)
                state.connections[id] = snapshot
            }
        }
    }

    /// Forgets a closed connection.
    public func unregister(_ id: Int) {
        _ = state.withLockedValue { $0.connections.removeValue(forKey: id) }
    }

    /// The live connections, oldest first.
    public var snapshot: [ConnectionSnapshot] {
        state.withLockedValue { Array($0.connections.values) }.sorted { $0.id < $1.id }
    }

    /// How many connections are live.
    public var count: Int { state.withLockedValue { $0.connections.count } }
}
