import CoreMetrics
import Foundation
import Logging
import NIOCore
import ShadowConfig
import ShadowSQL

/// What happened to one statement, in terms both protocols share, for metrics, statistics and logs.
struct ObservedStatement {
    enum Outcome {
        /// Sent to the server as the client wrote it.
        case forwarded
        /// Sent with renamed tables; the text the server got.
        case rewritten([UInt8])
        /// Not sent; the client got this refusal.
        case refused(Refusal)
    }

    /// The lane the statement ran (or was refused) in.
    var lane: String
    /// The client's SQL text; empty for commands without text (e.g. executing a prepared statement).
    var sql: ByteBuffer
    var outcome: Outcome
}

/// The protocol-neutral operations side of one proxied connection: connection registry entry, metrics, lane
/// statistics, round-trip latency, and the connection/refusal/statement log lines. Owned by a frontend handler and
/// used only on its event loop; it never influences a protocol decision.
///
/// Statement metrics go to this event loop's ``StatementMetrics/Shard`` of the lane, looked up once per lane the
/// connection uses, so a statement costs an uncontended lock and a few integer additions. SQL only reaches a log line or the status page through ``LiteralMasker``, and nothing
/// from the authentication exchange is ever given to it.
struct ConnectionObserver {
    /// Fixed facts: which listener, which protocol, where to report.
    struct Environment {
        var listener: String
        /// The protocol name in the registry (`mysql`, `postgresql`).
        var wireProtocol: String
        /// The first word of the log lines (`mysql connection opened`).
        var logName: String
        var dialect: SQLDialect
        var routing: RoutingSource
        var connections: ConnectionRegistry
        var statistics: LaneStatistics
    }

    private let environment: Environment
    private var id: Int?
    private let openedAt = NIODeadline.now()
    private(set) var user: String?
    private(set) var database: String?
    private(set) var lane: String?
    private var backend: String?
    private(set) var statements = 0
    private var bytesInTotal = 0
    private var bytesOutTotal = 0
    private var connectionGauge: Meter?
    /// The event loop the connection runs on (its metrics shards are that loop's); known once it is opened.
    private var loop: ObjectIdentifier?
    /// This loop's shard for the listener's byte counts.
    private var bytesShard: StatementMetrics.Shard?
    private var shards: [String: StatementMetrics.Shard] = [:]
    /// The shard of the lane used last: nearly every statement of a connection runs in the same lane, and
    /// comparing the lane name with the last one (usually the same string storage) is cheaper than hashing it.
    private var lastShard: (lane: String, shard: StatementMetrics.Shard)?
    /// Forwarded statements not yet added to the process-wide ``LaneStatistics``: counted here and flushed in
    /// batches (every 64 statements, after a second, on a lane change and at close), so the per-statement hot path
    /// takes no process-wide lock. The status page may lag by that much for a connection that is still open.
    private var unflushedLane = ""
    private var unflushedStatements = 0
    private var unflushedRewrites = 0
    /// Starts in the past so a connection's first statement shows on the status page at once.
    private var lastStatisticsFlush = NIODeadline.uptimeNanoseconds(0)
    /// Rewrite examples for the status page are taken at most once a second per connection: masking the rewritten
    /// text and taking the process-wide lock for every statement of a rewriting lane would cost more than the rewrite.
    private var lastRewriteExample: NIODeadline?
    private var generation: Int
    /// Whether statements are logged (debug level); fixed for the connection, as its logger's level is.
    private let logsStatements: Bool
    /// Start times of the round trips awaiting their answer, with their lanes' shards (nil: not timed).
    private var inFlight = CircularBuffer<(start: NIODeadline, shard: StatementMetrics.Shard?)>(initialCapacity: 4)

    init(environment: Environment, logLevel: Logger.Level) {
        self.environment = environment
        self.logsStatements = logLevel <= .debug
        self.generation = environment.routing.generation
    }

    // MARK: connection lifecycle

    /// The connection was accepted on `eventLoop`; registered with a provisional lane until the handshake says more.
    mutating func opened(client: String, lane: String, eventLoop: any EventLoop) {
        let loop = ObjectIdentifier(eventLoop)
        self.loop = loop
        bytesShard = StatementMetrics.shared.shard(listener: environment.listener, lane: "", loop: loop)
        id = environment.connections.register(
            listener: environment.listener, wireProtocol: environment.wireProtocol, client: client, lane: lane,
            now: Date().timeIntervalSince1970)
    }

    /// Who logged in (never anything of the authentication itself).
    mutating func identified(user: String?, database: String?) {
        self.user = user
        self.database = database
        if let id { environment.connections.update(id) { $0.user = user } }
    }

    /// The handshake chose the connection's lane and server: count it and log one line.
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
        ProxyMetrics.recordConnectionOpened(listener: environment.listener, lane: lane)
        let gauge = Meter(
            label: ProxyMetrics.connectionsCurrent, dimensions: [("listener", environment.listener), ("lane", lane)])
        gauge.increment()
        connectionGauge = gauge
        logger.info(
            "\(environment.logName) connection opened",
            metadata: [
                "user": "\(user ?? "")", "database": "\(database ?? "")", "lane": "\(lane)",
                "backend": "\(endpoint)",
            ])
    }

    /// The connection is gone: unregister, and log one line with what it did.
    mutating func closed(reason: String, logger: Logger) {
        flushStatistics()
        if let id { environment.connections.unregister(id) }
        id = nil
        connectionGauge?.decrement()
        connectionGauge = nil
        let seconds = Double((NIODeadline.now() - openedAt).nanoseconds) / 1e9
        logger.info(
            "\(environment.logName) connection closed",
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
        bytesShard?.bytes(in: count, out: 0)
    }

    mutating func bytesOut(_ count: Int) {
        bytesOutTotal += count
        bytesShard?.bytes(in: 0, out: count)
    }

    /// Whether a configuration reload happened since the session last looked.
    mutating func routingChanged() -> Bool {
        let now = environment.routing.generation
        guard now != generation else { return false }
        generation = now
        return true
    }

    /// The routing table in force now.
    var currentRouting: RoutingTable { environment.routing.current }

    /// A round trip to the server began at `start` (its answer ends it, in order). The lane's shard is looked up
    /// now, so the answer costs a clock read and one recording.
    mutating func roundTripStarted(lane: String, at start: NIODeadline = .now()) {
        inFlight.append((start, lane.isEmpty ? nil : shard(lane)))
    }

    /// The oldest round trip is answered: record its latency in its lane.
    mutating func roundTripFinished() {
        if let entry = inFlight.popFirst(), let shard = entry.shard {
            shard.latency(nanoseconds: (NIODeadline.now() - entry.start).nanoseconds)
        }
    }

    /// The connection's current lane changed (session switch, change of user): follow it in the registry.
    mutating func laneChanged(to currentLane: String) {
        guard let id, lane != nil, currentLane != lane else { return }
        lane = currentLane
        environment.connections.update(id) { $0.lane = currentLane }
    }

    /// Counts, and logs when asked to, one statement the session decided on at `now`. The logger is only read
    /// for a line that is written: copying it out of its handler for every statement cost more than the counting.
    mutating func statement(_ event: ObservedStatement, now: NIODeadline = .now(), logger: @autoclosure () -> Logger) {
        statements += 1
        let laneShard = shard(event.lane)
        if case .rewritten = event.outcome {
            laneShard?.statement(rewritten: true)
        } else {
            laneShard?.statement(rewritten: false)
        }
        switch event.outcome {
        case .forwarded:
            countForStatistics(lane: event.lane, rewritten: false, now: now)
            if logsStatements, event.sql.readableBytes > 0 {
                logger().debug("statement", metadata: ["statement_lane": "\(event.lane)", "sql": "\(masked(event.sql))"])
            }
        case .rewritten(let rewritten):
            countForStatistics(lane: event.lane, rewritten: true, now: now)
            let dialect = environment.dialect
            if lastRewriteExample.map({ now - $0 >= .seconds(1) }) ?? true {
                lastRewriteExample = now
                environment.statistics.recordRewriteExample(
                    lane: event.lane, example: LiteralMasker.mask(rewritten, dialect: dialect))
            }
            if logsStatements {
                let logger = logger()
                logger.debug(
                    "statement rewritten",
                    metadata: [
                        "statement_lane": "\(event.lane)", "sql": "\(masked(event.sql))",
                        "rewritten": "\(LiteralMasker.mask(rewritten, dialect: dialect))",
                    ])
            }
        case .refused(let refusal):
            let masked = masked(event.sql)
            ProxyMetrics.recordRefusal(listener: environment.listener, lane: event.lane, rule: refusal.rule.rawValue)
            environment.statistics.recordRefusal(
                lane: event.lane, message: masked.isEmpty ? refusal.message : "\(refusal.message) — \(masked)")
            logger().info(
                "statement refused",
                metadata: [
                    "statement_lane": "\(event.lane)", "rule": "\(refusal.rule.rawValue)",
                    "table": "\(refusal.table ?? "")", "sql": "\(masked)", "message": "\(refusal.message)",
                ])
        }
    }

    /// Counts a statement for the status page in this connection's batch (flushed every 64 statements, after a
    /// second, on a lane change and at close).
    private mutating func countForStatistics(lane: String, rewritten: Bool, now: NIODeadline) {
        if lane != unflushedLane {
            flushStatistics(now: now)
            unflushedLane = lane
        }
        unflushedStatements += 1
        if rewritten { unflushedRewrites += 1 }
        if unflushedStatements >= 64 || now - lastStatisticsFlush >= .seconds(1) {
            flushStatistics(now: now)
        }
    }

    private mutating func flushStatistics(now: NIODeadline = .now()) {
        guard unflushedStatements > 0 else { return }
        environment.statistics.recordStatements(
            lane: unflushedLane, count: unflushedStatements, rewrites: unflushedRewrites)
        unflushedStatements = 0
        unflushedRewrites = 0
        lastStatisticsFlush = now
    }

    /// This loop's shard of `lane` (nil before the connection is opened, when nothing is counted).
    private mutating func shard(_ lane: String) -> StatementMetrics.Shard? {
        if let last = lastShard, last.lane == lane { return last.shard }
        guard let loop else { return nil }
        let found: StatementMetrics.Shard
        if let existing = shards[lane] {
            found = existing
        } else {
            found = StatementMetrics.shared.shard(listener: environment.listener, lane: lane, loop: loop)
            shards[lane] = found
        }
        lastShard = (lane, found)
        return found
    }

    private func masked(_ sql: ByteBuffer) -> String {
        let dialect = environment.dialect
        return sql.withUnsafeReadableBytes { LiteralMasker.mask($0, dialect: dialect) }
    }
}

