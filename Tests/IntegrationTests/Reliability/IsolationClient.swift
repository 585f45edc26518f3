import DatabaseClients
import Foundation
import ShadowSQL

/// How a client labels its connection (the lowest-precedence labels).
enum IsolationConnectionLabel {
    case none
    /// MySQL connection attribute / PostgreSQL `-c shadow.lane=…` option.
    case attribute(String)
    /// PostgreSQL application_name with the lane's prefix.
    case applicationName(String)
    /// Login as gray_app (lane gray's user).
    case grayUser

    var lane: String {
        switch self {
        case .none: return "base"
        case .attribute(let lane), .applicationName(let lane): return lane
        case .grayUser: return "gray"
        }
    }
}

/// One protocol's way of running the workload's steps on a real client library.
protocol IsolationConnection: AnyObject {
    func query(_ sql: String, extended: Bool) throws -> [[String?]]
    func batch(_ statements: [String], pipeline: Bool) throws
    func prepared(_ sql: String, _ params: [String]) throws
    func copy(table: String, text: String) throws
    func sessionSQL(_ lane: String?) -> String
    var beginSQL: String { get }
    func close()
}

/// Runs one client: connects with a random label, runs steps, reconnects now and then (picking up reloads),
/// checks every answer against the lane it must have run in.
struct IsolationClient {
    let schema: IsolationSchema
    let dialect: SQLDialect
    let tally: IsolationTally
    let phase: IsolationPhase
    let statements: Int
    let seed: UInt64
    /// Whether a hint to a lane added by a reload works on connections opened before it.
    let followsReloadPerStatement: Bool
    let connect: (IsolationConnectionLabel) throws -> any IsolationConnection

    func run() {
        var generator = IsolationGenerator(schema: schema, dialect: dialect, seed: seed)
        var random = ReliabilityRandom(seed: seed ^ 0xABCD)
        var done = 0
        while done < statements {
            // Connect (retrying through a backend restart).
            var connection: (any IsolationConnection)?
            var label = IsolationConnectionLabel.none
            var reloadedAtConnect = false
            var epoch = 0
            // An attempt begun while the backend restarts may fail only once the restart has ended (the server is
            // still recovering when the attempt reaches it): that is the restart's error too.
            var begunInRestart = false
            let deadline = Date().addingTimeInterval(60)
            while connection == nil && Date() < deadline {
                do {
                    try phase.statement {
                        reloadedAtConnect = phase.reloaded
                        begunInRestart = phase.isRestarting
                        epoch = phase.restartEpoch
                        label = pickLabel(&random, reloaded: reloadedAtConnect)
                        connection = try connect(label)
                    }
                } catch {
                    if !begunInRestart && !phase.isRestarting && phase.restartEpoch == epoch {
                        tally.fail("connect (\(label)) failed outside a backend restart: \(error)")
                        return
                    }
                    usleep(100_000)
                }
            }
            guard let connection else {
                tally.fail("could not reconnect within 60 s")
                return
            }
            defer { connection.close() }
            var session: String?
            let steps = Int.random(in: 50...400, using: &random)
            var broken = false
            for _ in 0..<steps where done < statements && !broken {
                phase.statement {
                    let known = ["gray", "stress"] + ((phase.reloaded && (followsReloadPerStatement || reloadedAtConnect)) ? ["canary"] : [])
                    let hintLane: String? = random.chance(25) ? (["base"] + known).randomElement(using: &random) : nil
                    let lane = hintLane ?? session ?? label.lane
                    let step = generator.next(lane: lane, hint: hintLane, lanesKnown: known)
                    // Hint-free shapes run in the session's lane.
                    let plainLane = session ?? label.lane
                    let size: Int
                    switch step {
                    case .batch(let list): size = list.count
                    case .transaction(let list, _): size = list.count + 2
                    default: size = 1
                    }
                    done += size
                    tally.count(size)
                    do {
                        try execute(step, lane: lane, plainLane: plainLane, on: connection, random: &random, session: &session)
                    } catch {
                        broken = classify(error, epoch: epoch, step: step)
                    }
                }
            }
        }
    }

    private func pickLabel(_ random: inout ReliabilityRandom, reloaded: Bool) -> IsolationConnectionLabel {
        let lanes = ["gray", "stress", "base"] + (reloaded ? ["canary"] : [])
        switch Int.random(in: 0..<10, using: &random) {
        case 0..<3: return .none
        case 3..<6: return .attribute(lanes.randomElement(using: &random) ?? "gray")
        case 6..<8 where dialect == .postgres: return .applicationName("gray")
        default: return .grayUser
        }
    }

    private func execute(
        _ step: IsolationStep, lane: String, plainLane: String, on connection: any IsolationConnection,
        random: inout ReliabilityRandom, session: inout String?
    ) throws {
        switch step {
        case .write(let sql):
            _ = try connection.query(sql, extended: random.chance(50))
        case .read(let sql, let expected):
            let rows = try connection.query(sql, extended: random.chance(50))
            if let leak = rows.first(where: { $0.first != .some(expected) }) {
                tally.fail("lane \(expected) read a row of lane \(leak.first.flatMap { $0 } ?? "NULL"): \(sql)")
            }
        case .batch(let statements):
            // Batches carry no hint: rewrite their lane literal to the session's lane.
            try connection.batch(statements.map { $0.replacingOccurrences(of: "'\(lane)'", with: "'\(plainLane)'") }, pipeline: random.chance(50))
        case .prepared(let sql, var params):
            params[0] = plainLane
            try connection.prepared(sql, params)
        case .transaction(let statements, let commit):
            _ = try connection.query(connection.beginSQL, extended: false)
            do {
                for sql in statements {
                    _ = try connection.query(sql.replacingOccurrences(of: "'\(lane)'", with: "'\(plainLane)'"), extended: random.chance(50))
                }
                _ = try connection.query(commit ? "COMMIT" : "ROLLBACK", extended: false)
            } catch {
                _ = try? connection.query("ROLLBACK", extended: false)
                throw error
            }
        case .refused(let sql):
            do {
                _ = try connection.query(sql, extended: random.chance(50))
                tally.fail("statement the proxy must refuse ran: \(sql)")
            } catch let error as DatabaseClientError where error.code == .connectionClosed || error.code == .connectionFailed {
                throw error
            } catch {
                tally.refused()
            }
        case .copy(let table, _, let rows):
            let text = (0..<rows).map { i in "\(plainLane)\t\(schema.acceptedMarker)copy\(i)\t\(i)\n" }.joined()
            try connection.copy(table: table, text: text)
        case .session(let target):
            _ = try connection.query(connection.sessionSQL(target), extended: false)
            session = target
        }
    }

    /// Deadlocks, lock timeouts and InnoDB's transient auto-increment read failure (1467, concurrent INSERT … SELECT
    /// on the same table) between concurrent clients are the server's business and tolerated; connection
    /// errors are tolerated only around a backend restart. Returns whether the connection must be replaced.
    private func classify(_ error: any Error, epoch: Int, step: IsolationStep) -> Bool {
        let text = "\(error)"
        if let error = error as? DatabaseClientError {
            if [1213, 1205, 1467].contains(error.serverErrorNumber ?? 0) || ["40001", "40P01"].contains(error.sqlState ?? "") {
                tally.tolerate()
                return false
            }
        }
        let connectionLost = text.contains("connectionClosed") || text.contains("Lost connection") || text.contains("gone away")
            || text.contains("server closed") || text.contains("terminating connection") || text.contains("no connection")
            || text.contains("57P01") || text.contains("2013") || text.contains("2006") || text.contains("backend")
        if phase.isRestarting || phase.restartEpoch != epoch {
            tally.tolerate()
            return true
        }
        tally.fail("\(step): \(text.prefix(400))")
        return connectionLost
    }
}
