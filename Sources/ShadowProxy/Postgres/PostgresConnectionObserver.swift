import CoreMetrics
import Foundation
import Logging
import NIOCore
import PostgresWire
import ShadowConfig
import ShadowSQL

/// The operations side of one proxied PostgreSQL connection: connection registry entry, metrics, lane statistics
/// and the connection/refusal log lines. Owned by the frontend handler and used only on its event loop; it never
/// influences a protocol decision.
///
/// Metric handles are created once per connection (and once per lane the connection uses), so a statement costs a
/// few counter increments. SQL only reaches a log line or the status page through ``LiteralMasker``, and nothing
/// from the authentication exchange is ever logged.
struct PostgresConnectionObserver {
    private let environment: PostgresFrontendHandler.Environment
    private var id: Int?
    private let openedAt = NIODeadline.now()
    private var client = "?"
    private var user: String?
    private var database: String?
    private var lane: String?
    private var backend: String?
    private var statements = 0
    private var bytesInTotal = 0
    private var bytesOutTotal = 0
    private let bytesInCounter: Counter
    private let bytesOutCounter: Counter
    private var connectionGauge: Meter?
    private var handles: [String: ProxyMetrics.LaneHandles] = [:]
    private var generation: Int
    /// Start times of the Query/Sync/FunctionCall round trips awaiting ReadyForQuery, with their lanes.
    private var inFlight = CircularBuffer<(start: NIODeadline, lane: String)>(initialCapacity: 4)
    private var lastLane: String?

    init(environment: PostgresFrontendHandler.Environment) {
        self.environment = environment
        self.generation = environment.routing.generation
        let listener = environment.listener.name
        self.bytesInCounter = Counter(
            label: ProxyMetrics.bytesTotal, dimensions: [("listener", listener), ("direction", "in")])
        self.bytesOutCounter = Counter(
            label: ProxyMetrics.bytesTotal, dimensions: [("listener", listener), ("direction", "out")])
    }

    private var listenerName: String { environment.listener.name }

    // MARK: connection lifecycle

    mutating func opened(client: String, lane: String) {
        self.client = client
        id = environment.connections.register(
            listener: listenerName, wireProtocol: "postgresql", client: client, lane: lane,
            now: Date().timeIntervalSince1970)
    }

    mutating func startup(_ startup: StartupMessage) {
        user = startup.parameters.first { $0.name == "user" }?.value
        database = startup.parameters.first { $0.name == "database" }?.value ?? user
    }

    /// The startup packet was routed: the connection's lane and server are known.
    mutating func routed(lane: String, backend endpoint: Endpoint, logger: Logger) {
        self.lane = lane
        backend = "\(endpoint)"
        if let id {
            let (user, backend) = (self.user, self.backend)
            environment.connections.update(id) {
                $0.user = user
                $0.lane = lane
                $0.backend = backend
            }
        }
        ProxyMetrics.recordConnectionOpened(listener: listenerName, lane: lane)
        let gauge = Meter(
            label: ProxyMetrics.connectionsCurrent, dimensions: [("listener", listenerName), ("lane", lane)])
        gauge.increment()
        connectionGauge = gauge
        logger.info(
            "postgres connection opened",
            metadata: [
                "user": "\(user ?? "")", "database": "\(database ?? "")", "lane": "\(lane)",
                "backend": "\(endpoint)",
            ])
    }

    mutating func closed(reason: String, logger: Logger) {
        if let id { environment.connections.unregister(id) }
        id = nil
        connectionGauge?.decrement()
        connectionGauge = nil
        let seconds = Double((NIODeadline.now() - openedAt).nanoseconds) / 1e9
        logger.info(
            "postgres connection closed",
            metadata: [
                "user": "\(user ?? "")", "database": "\(database ?? "")", "lane": "\(lane ?? "")",
                "backend": "\(backend ?? "")", "duration": "\(String(format: "%.3f", seconds))s",
                "statements": "\(statements)", "bytes_in": "\(bytesInTotal)", "bytes_out": "\(bytesOutTotal)",
                "reason": "\(reason)",
            ])
    }

    // MARK: traffic

    mutating func bytesIn(_ count: Int) {
        bytesInTotal += count
        bytesInCounter.increment(by: count)
    }

    mutating func bytesOut(_ count: Int) {
        bytesOutTotal += count
        bytesOutCounter.increment(by: count)
    }

    /// Whether a configuration reload happened since the session last looked (checked only before messages that
    /// route SQL: Query, Parse, Bind, FunctionCall).
    mutating func routingChanged(_ frameID: UInt8) -> Bool {
        switch frameID {
        case UInt8(ascii: "Q"), UInt8(ascii: "P"), UInt8(ascii: "B"), UInt8(ascii: "F"):
            let now = environment.routing.generation
            guard now != generation else { return false }
            generation = now
            return true
        default:
            return false
        }
    }

    /// A client message went to the server: Query, Sync and FunctionCall each end in one ReadyForQuery.
    mutating func frameSent(_ frameID: UInt8) {
        switch frameID {
        case UInt8(ascii: "Q"), UInt8(ascii: "S"), UInt8(ascii: "F"):
            inFlight.append((NIODeadline.now(), lastLane ?? lane ?? ""))
            lastLane = nil
        default:
            break
        }
    }

    /// The server is ready again: time the round trip and follow a session lane switch in the registry.
    mutating func readyForQuery(lane currentLane: String) {
        if let entry = inFlight.popFirst(), !entry.lane.isEmpty {
            laneHandles(entry.lane).duration.recordNanoseconds((NIODeadline.now() - entry.start).nanoseconds)
        }
        if let id, lane != nil, currentLane != lane {
            lane = currentLane
            environment.connections.update(id) { $0.lane = currentLane }
        }
    }

    mutating func statement(_ event: PostgresStatementEvent, logger: Logger) {
        statements += 1
        lastLane = event.lane
        let handles = laneHandles(event.lane)
        handles.statements.increment()
        switch event.outcome {
        case .forwarded:
            environment.statistics.recordStatement(lane: event.lane)
            if logger.logLevel <= .debug {
                logger.debug("statement", metadata: ["statement_lane": "\(event.lane)", "sql": "\(Self.masked(event.sql))"])
            }
        case .rewritten(let rewritten):
            handles.rewrites.increment()
            environment.statistics.recordRewrite(
                lane: event.lane, example: LiteralMasker.mask(rewritten, dialect: .postgres))
            if logger.logLevel <= .debug {
                logger.debug(
                    "statement rewritten",
                    metadata: [
                        "statement_lane": "\(event.lane)", "sql": "\(Self.masked(event.sql))",
                        "rewritten": "\(LiteralMasker.mask(rewritten, dialect: .postgres))",
                    ])
            }
        case .refused(let refusal):
            let masked = Self.masked(event.sql)
            ProxyMetrics.recordRefusal(listener: listenerName, lane: event.lane, rule: refusal.rule.rawValue)
            environment.statistics.recordRefusal(
                lane: event.lane, message: masked.isEmpty ? refusal.message : "\(refusal.message) — \(masked)")
            logger.info(
                "statement refused",
                metadata: [
                    "statement_lane": "\(event.lane)", "rule": "\(refusal.rule.rawValue)",
                    "table": "\(refusal.table ?? "")", "sql": "\(masked)", "message": "\(refusal.message)",
                ])
        }
    }

    private mutating func laneHandles(_ lane: String) -> ProxyMetrics.LaneHandles {
        if let existing = handles[lane] { return existing }
        let created = ProxyMetrics.LaneHandles(listener: listenerName, lane: lane)
        handles[lane] = created
        return created
    }

    private static func masked(_ sql: ByteBuffer) -> String {
        sql.withUnsafeReadableBytes { LiteralMasker.mask($0, dialect: .postgres) }
    }
}
