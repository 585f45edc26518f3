import MySQLWire
import NIOConcurrencyHelpers
import ShadowConfig

/// The MySQL connections the proxy holds, by the thread id their clients were given, with where they really run,
/// so a `KILL <id>` can be sent to the right thread or refused: with lanes on their own servers the same id can
/// name different connections on two servers, and a connection moved to a lane's server was given the base
/// server's id. Share one per process (``shared``): a KILL may come through any listener.
public final class MySQLThreadDirectory: Sendable {
    /// The directory every listener uses unless given another.
    public static let shared = MySQLThreadDirectory()

    private let threads = NIOLockedValueBox<[UInt64: [MySQLThreadLocation: Int]]>([:])

    public init() {}

    /// A proxied connection, known to its client as `clientID`, runs at `location`.
    public func add(_ clientID: UInt64, at location: MySQLThreadLocation) {
        threads.withLockedValue { $0[clientID, default: [:]][location, default: 0] += 1 }
    }

    /// That connection closed.
    public func remove(_ clientID: UInt64, at location: MySQLThreadLocation) {
        threads.withLockedValue { threads in
            guard var locations = threads[clientID], let count = locations[location] else { return }
            locations[location] = count > 1 ? count - 1 : nil
            threads[clientID] = locations.isEmpty ? nil : locations
        }
    }

    /// Where the proxied connections known as `clientID` run (empty when none is).
    public func locations(of clientID: UInt64) -> [MySQLThreadLocation] {
        threads.withLockedValue { Array(($0[clientID] ?? [:]).keys) }
    }
}
