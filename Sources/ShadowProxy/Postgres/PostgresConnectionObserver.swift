import Logging
import NIOCore
import PostgresWire
import ShadowConfig

/// The operations side of one proxied PostgreSQL connection: the protocol-neutral ``ConnectionObserver`` fed with
/// what only PostgreSQL knows (the startup parameters, which messages route SQL, which end in ReadyForQuery).
/// Owned by the frontend handler and used only on its event loop; it never influences a protocol decision.
struct PostgresConnectionObserver {
    private var base: ConnectionObserver
    private var lastLane: String?

    init(environment: PostgresFrontendHandler.Environment) {
        base = ConnectionObserver(
            environment: .init(
                listener: environment.listener.name, wireProtocol: "postgresql", logName: "postgres",
                dialect: .postgres, routing: environment.routing, connections: environment.connections,
                statistics: environment.statistics),
            logLevel: environment.logger.logLevel)
    }

    mutating func opened(client: String, lane: String, eventLoop: any EventLoop) {
        base.opened(client: client, lane: lane, eventLoop: eventLoop)
    }

    mutating func startup(_ startup: StartupMessage) {
        let user = startup.parameters.first { $0.name == "user" }?.value
        base.identified(user: user, database: startup.parameters.first { $0.name == "database" }?.value ?? user)
    }

    /// The startup packet was routed: the connection's lane and server are known.
    mutating func routed(lane: String, backend endpoint: Endpoint, logger: Logger) {
        base.routed(lane: lane, backend: endpoint, logger: logger)
    }

    mutating func closed(reason: String, logger: Logger) {
        base.closed(reason: reason, logger: logger)
    }

    mutating func bytesIn(_ count: Int) { base.bytesIn(count) }

    mutating func bytesOut(_ count: Int) { base.bytesOut(count) }

    /// Whether a configuration reload happened since the session last looked (checked only before messages that
    /// route SQL: Query, Parse, Bind, FunctionCall).
    mutating func routingChanged(_ frameID: UInt8) -> Bool {
        switch frameID {
        case UInt8(ascii: "Q"), UInt8(ascii: "P"), UInt8(ascii: "B"), UInt8(ascii: "F"):
            return base.routingChanged()
        default:
            return false
        }
    }

    /// A client message went to the server: Query, Sync and FunctionCall each end in one ReadyForQuery.
    mutating func frameSent(_ frameID: UInt8) {
        switch frameID {
        case UInt8(ascii: "Q"), UInt8(ascii: "S"), UInt8(ascii: "F"):
            base.roundTripStarted(lane: lastLane ?? base.lane ?? "")
            lastLane = nil
        default:
            break
        }
    }

    /// The server is ready again: time the round trip and follow a session lane switch in the registry.
    mutating func readyForQuery(lane currentLane: String) {
        base.roundTripFinished()
        base.laneChanged(to: currentLane)
    }

    mutating func statement(_ event: PostgresStatementEvent, logger: @autoclosure () -> Logger) {
        lastLane = event.lane
        let outcome: ObservedStatement.Outcome
        switch event.outcome {
        case .forwarded: outcome = .forwarded
        case .rewritten(let bytes): outcome = .rewritten(bytes)
        case .refused(let refusal): outcome = .refused(refusal)
        }
        base.statement(ObservedStatement(lane: event.lane, sql: event.sql, outcome: outcome), logger: logger())
    }
}
