import NIOConcurrencyHelpers
import ShadowConfig

/// The current routing table, swappable at run time (hot reload). Sessions read it when they decide a lane; a
/// reload replaces it atomically, so new statements see the new mapping and no connection is dropped.
public final class RoutingSource: Sendable {
    private let state: NIOLockedValueBox<(table: RoutingTable, generation: Int)>

    public init(_ table: RoutingTable) {
        self.state = NIOLockedValueBox((table, 1))
    }

    /// The routing table in force now.
    public var current: RoutingTable { state.withLockedValue { $0.table } }

    /// How many tables have been in force; starts at 1 and grows by one per successful reload.
    public var generation: Int { state.withLockedValue { $0.generation } }

    /// Swaps in a new, already validated table.
    public func replace(with table: RoutingTable) {
        state.withLockedValue { $0 = (table, $0.generation + 1) }
    }
}
