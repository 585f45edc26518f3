import NIOConcurrencyHelpers
import ShadowConfig

/// Process-wide map from the cancel keys the proxy issues to clients to the backend that owns the real key.
///
/// Clients get a proxy key instead of the server's BackendKeyData because one proxy fronts several servers whose
/// process ids can collide; a CancelRequest arrives on a fresh connection, so the map must be shared by all
/// connections of all listeners.
public final class PostgresCancelRegistry: Sendable {
    /// Where a cancel for one proxy key must go.
    public struct Target: Sendable, Hashable {
        public var backend: Endpoint
        public var processID: Int32
        public var secretKey: Int32
    }

    struct Key: Hashable {
        var processID: Int32
        var secretKey: Int32
    }

    /// The registry shared by every PostgreSQL listener in the process.
    public static let shared = PostgresCancelRegistry()

    private let entries = NIOLockedValueBox([Key: Target]())

    public init() {}

    /// Issues a fresh random proxy key for a backend's real key.
    public func register(_ target: Target) -> (processID: Int32, secretKey: Int32) {
        entries.withLockedValue { entries in
            while true {
                let key = Key(processID: Int32.random(in: 1...Int32.max), secretKey: Int32.random(in: .min ... .max))
                if entries[key] == nil {
                    entries[key] = target
                    return (key.processID, key.secretKey)
                }
            }
        }
    }

    /// The backend for a proxy key, if it is still registered.
    public func target(processID: Int32, secretKey: Int32) -> Target? {
        entries.withLockedValue { $0[Key(processID: processID, secretKey: secretKey)] }
    }

    /// Forgets a proxy key (its client connection closed).
    public func remove(processID: Int32, secretKey: Int32) {
        _ = entries.withLockedValue { $0.removeValue(forKey: Key(processID: processID, secretKey: secretKey)) }
    }

    public var count: Int { entries.withLockedValue { $0.count } }
}
