import NIOConcurrencyHelpers
import ShadowConfig
import Synchronization

/// The current routing table, swappable at run time (hot reload). Sessions read it when they decide a lane; a
/// reload replaces it atomically, so new statements see the new mapping and no connection is dropped.
public final class RoutingSource: Sendable {
    private let table: NIOLockedValueBox<RoutingTable>
    /// Read before every client message to notice a reload: an atomic load, where a lock taken by every
    /// connection of every event loop was contended.
    private let generationValue = Atomic<Int>(1)

    public init(_ table: RoutingTable) {
        self.table = NIOLockedValueBox(table)
    }

    /// The routing table in force now.
    public var current: RoutingTable { table.withLockedValue { $0 } }

    /// How many tables have been in force; starts at 1 and grows by one per successful reload. A session that sees
    /// a new generation then reads ``current`` gets that table or a newer one.
    public var generation: Int { generationValue.load(ordering: .acquiring) }

    /// Swaps in a new, already validated table.
    public func replace(with table: RoutingTable) {
        self.table.withLockedValue { $0 = table }
        generationValue.add(1, ordering: .releasing)
    }
}
