import MySQLWire
import NIOConcurrencyHelpers
import ShadowConfig

/// The MySQL connections the proxy holds, by the thread id their clients were given, with where they really run
/// and in which lane, so a `KILL <id>` can be sent to the right thread or refused: with lanes on their own servers
/// the same id can name different connections on two servers, a connection moved to a lane's server was given the
/// base server's id, and a lane may kill only its own lane's connections. Share one per process (``shared``): a
/// KILL may come through any listener.
public final class MySQLThreadDirectory: Sendable {
    /// The directory every listener uses unless given another.
    public static let shared = MySQLThreadDirectory()

    /// How many connections are registered at one location (a thread id is unique per server, so normally one)
    /// and the lane the last of them runs in.
    private struct Registration {
        var count: Int
        var lane: String?
    }

    private let threads = NIOLockedValueBox<[UInt64: [MySQLThreadLocation: Registration]]>([:])

    public init() {}

    /// A proxied connection, known to its client as `clientID`, runs at `location` in `lane` (nil: base).
    public func add(_ clientID: UInt64, at location: MySQLThreadLocation, lane: String?) {
        threads.withLockedValue { threads in
            var registration = threads[clientID]?[location] ?? Registration(count: 0, lane: lane)
            registration.count += 1
            registration.lane = lane
            threads[clientID, default: [:]][location] = registration
        }
    }

    /// That connection now runs in `lane` (a session switch, a change of user).
    public func setLane(_ clientID: UInt64, at location: MySQLThreadLocation, lane: String?) {
        threads.withLockedValue { $0[clientID]?[location]?.lane = lane }
    }

    /// That connection closed.
    public func remove(_ clientID: UInt64, at location: MySQLThreadLocation) {
        threads.withLockedValue { threads in
            guard var locations = threads[clientID], let registration = locations[location] else { return }
            locations[location] = registration.count > 1 ? Registration(count: registration.count - 1, lane: registration.lane) : nil
            threads[clientID] = locations.isEmpty ? nil : locations
        }
    }

    /// The proxied connections known as `clientID`: where each runs and its lane (empty when none is).
    public func threads(knownAs clientID: UInt64) -> [MySQLKnownThread] {
        threads.withLockedValue { ($0[clientID] ?? [:]).map { MySQLKnownThread(location: $0.key, lane: $0.value.lane) } }
    }
}
