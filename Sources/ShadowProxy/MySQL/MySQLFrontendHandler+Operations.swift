import Logging
import MySQLWire
import NIOCore
import ShadowConfig

/// Per-connection operations state the frontend handler keeps beside the protocol state.
struct MySQLOperationsState {
    /// Whether the handshake's outcome (user, lane, server) was reported.
    var handshakeReported = false
    /// Whether the command in flight is a statement whose answer ends a timed round trip.
    var statementAwaitingAnswer = false
    /// ``MySQLSessionStateMachine/completedAnswers`` when last looked at.
    var answersSeen = 0
    /// ``MySQLSessionStateMachine/identityGeneration`` when the user and lane were last reported.
    var identitySeen = -1
    /// The thread registered for KILL checks: the id the client knows and where it really runs.
    var registeredThread: (clientID: UInt64, location: MySQLThreadLocation)?
}

/// Operations bookkeeping of a MySQL connection: connection registry, metrics, lane statistics, logs, the thread
/// directory for KILL, and following configuration reloads. Nothing here changes what goes on the wire.
extension MySQLFrontendHandler {
    /// Before a client packet: a reload since the last one gives the session the new routing table (it keeps its
    /// lane by name).
    func followRoutingReload() {
        guard machine.isCommandPhase, observer.routingChanged() else { return }
        machine.useRouting(observer.currentRouting)
        logger.debug("routing table reloaded for this connection")
    }

    /// After a client packet or a queued command: count, time and log the statement it carried, if any.
    func observeStatement() {
        guard let event = machine.takeStatementEvent() else { return }
        let outcome: ObservedStatement.Outcome
        switch event.outcome {
        case .forwarded: outcome = .forwarded
        case .rewritten(let sql): outcome = .rewritten(sql)
        case .refused(let refusal): outcome = .refused(refusal)
        }
        let now = NIODeadline.now()
        observer.statement(ObservedStatement(lane: event.lane, sql: event.sql, outcome: outcome), now: now, logger: logger)
        if case .refused = event.outcome { return }
        observer.roundTripStarted(lane: event.lane, at: now)
        operations.statementAwaitingAnswer = true
        operations.answersSeen = machine.completedAnswers
    }

    /// After a server frame: report the end of the handshake, time a finished statement, follow lane changes.
    func observeBackend(wasCommandPhase: Bool) {
        if !wasCommandPhase, machine.isCommandPhase, !operations.handshakeReported {
            operations.handshakeReported = true
            let lane = machine.reportedLane(machine.connectionLane?.name)
            logger[metadataKey: "lane"] = "\(lane)"
            observer.identified(user: machine.user, database: machine.currentDatabase)
            observer.routed(lane: lane, backend: machine.backend, logger: logger)
            if let real = machine.serverThreadID, let known = machine.clientThreadID {
                let location = MySQLThreadLocation(server: machine.backend, threadID: UInt64(real))
                operations.registeredThread = (UInt64(known), location)
                settings.threads.add(UInt64(known), at: location, lane: machine.currentLaneName)
            }
            return
        }
        guard machine.completedAnswers != operations.answersSeen else { return }
        operations.answersSeen = machine.completedAnswers
        if operations.statementAwaitingAnswer {
            operations.statementAwaitingAnswer = false
            observer.roundTripFinished()
        }
        if operations.handshakeReported, machine.identityGeneration != operations.identitySeen {
            operations.identitySeen = machine.identityGeneration
            if machine.user != observer.user { observer.identified(user: machine.user, database: machine.currentDatabase) }
            observer.laneChanged(to: machine.reportedLane(machine.currentLaneName))
            if let thread = operations.registeredThread {
                settings.threads.setLane(thread.clientID, at: thread.location, lane: machine.currentLaneName)
            }
        }
    }

    /// The connection is closing: unregister everywhere and log its summary line.
    func connectionClosed(reason: String) {
        if let thread = operations.registeredThread {
            settings.threads.remove(thread.clientID, at: thread.location)
            operations.registeredThread = nil
        }
        observer.closed(reason: reason, logger: logger)
    }

    /// A close reason for a proxy-made or relayed ERR that ends the connection.
    static func closeReason(_ packet: MySQLPacket) -> String {
        guard let err = try? ERRPacket(payload: packet.payload) else { return "closed" }
        return "error \(err.code): \(err.message)"
    }
}
