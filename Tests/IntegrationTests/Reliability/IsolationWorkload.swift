import Foundation
import ShadowSQL

/// A small, fast, seedable generator (SplitMix64), so a failing isolation run replays from its printed seed.
struct ReliabilityRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &self) < percent }
}

/// The tables and lanes of one isolation run.
///
/// `main` is mapped in every lane (gray by an explicit entry, stress and canary by suffix); `ref` is mapped by
/// suffix only, so lane gray (explicit map, unmapped writes rejected) must refuse writes to it. Every row carries
/// the lane that wrote it, so after the run each table must hold rows of exactly one lane. `writer` is a stored
/// function that inserts into `main` itself: no lane may call it.
struct IsolationSchema: Sendable {
    let main: String
    let ref: String
    let writer: String
    static let lanes = ["gray", "stress", "canary"]
    /// Marks statements the proxy must refuse: the server's statement log must never contain it.
    let refusedMarker: String
    /// Marks statements that must reach the server (proves the statement log works).
    let acceptedMarker: String
    /// Marks rows written inside transactions that roll back: none may survive.
    let rollbackMarker: String

    init() {
        let tag = String(UInt64.random(in: 0..<(1 << 40)), radix: 36)
        main = "iso_\(tag)"
        ref = "isoref_\(tag)"
        writer = "isofn_\(tag)"
        refusedMarker = "refused\(tag)x"
        acceptedMarker = "accepted\(tag)x"
        rollbackMarker = "rolledback\(tag)x"
    }

    /// The physical table a lane's statement on `base` must reach.
    func table(_ base: String, lane: String) -> String? {
        switch lane {
        case "base": return base
        case "gray": return base == main ? main + "_gray" : nil
        default: return base + "_" + lane
        }
    }

    /// Every physical table and the one lane allowed in it.
    var physicalTables: [(table: String, lane: String)] {
        [(main, "base"), (ref, "base"), (main + "_gray", "gray")]
            + ["stress", "canary"].flatMap { [(main + "_" + $0, $0), (ref + "_" + $0, $0)] }
    }

    /// Lanes before the reload: gray and stress. After it, canary too (an unknown lane before).
    func lanes(afterReload: Bool) -> [LaneMapping] {
        var lanes = [
            LaneMapping(lane: "gray", tables: [main: main + "_gray"], unmappedWrites: .reject),
            LaneMapping(lane: "stress", tableSuffix: "_stress"),
        ]
        if afterReload { lanes.append(LaneMapping(lane: "canary", tableSuffix: "_canary")) }
        return lanes
    }
}

/// What one statement of the workload is and what must happen to it.
enum IsolationStep {
    /// One statement that must succeed.
    case write(String)
    /// A SELECT whose first column (lane tags) must all equal the lane.
    case read(String, lane: String)
    /// Several statements in one round trip (multi-statement query / pipeline).
    case batch([String])
    /// A prepared statement with text parameters.
    case prepared(String, [String])
    /// Statements inside a transaction, then COMMIT or ROLLBACK.
    case transaction([String], commit: Bool)
    /// A statement the proxy must refuse (never reaching the server).
    case refused(String)
    /// COPY rows into the main table (PostgreSQL only).
    case copy(table: String, lane: String, rows: Int)
    /// Switch the session lane (nil: back to the connection's lane).
    case session(String?)
}

/// Counters shared by the clients of one run.
final class IsolationTally: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var statements = 0
    private(set) var refusals = 0
    private(set) var tolerated = 0
    private(set) var failures: [String] = []

    func count(_ n: Int = 1) { lock.withLock { statements += n } }
    func refused() { lock.withLock { refusals += 1 } }
    func tolerate() { lock.withLock { tolerated += 1 } }
    func fail(_ message: String) { lock.withLock { if failures.count < 20 { failures.append(message) } } }
    var total: Int { lock.withLock { statements } }
}

/// The run's phase: clients hold `statement` while deciding and running a step; the reload holds it exclusively so
/// no client guesses a lane's existence wrongly; the backend restart opens a window in which connection errors
/// are expected.
final class IsolationPhase: @unchecked Sendable {
    private var rw = pthread_rwlock_t()
    private let lock = NSLock()
    private var reloadedFlag = false
    private var restartEpochValue = 0
    private var restarting = false

    init() {
        // Writer-preferring: with glibc's default (readers first) the reload would starve behind busy clients.
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        pthread_rwlock_init(&rw, &attributes)
        pthread_rwlockattr_destroy(&attributes)
    }
    deinit { pthread_rwlock_destroy(&rw) }

    func statement<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(&rw)
        defer { pthread_rwlock_unlock(&rw) }
        return try body()
    }

    func reload(_ body: () -> Void) {
        pthread_rwlock_wrlock(&rw)
        body()
        lock.withLock { reloadedFlag = true }
        pthread_rwlock_unlock(&rw)
    }

    var reloaded: Bool { lock.withLock { reloadedFlag } }
    var restartEpoch: Int { lock.withLock { restartEpochValue } }
    var isRestarting: Bool { lock.withLock { restarting } }
    func beginRestart() { lock.withLock { restarting = true; restartEpochValue += 1 } }
    func endRestart() { lock.withLock { restarting = false } }
}

/// Generates the steps of one client. The SQL differs per dialect only where the languages do.
struct IsolationGenerator {
    let schema: IsolationSchema
    let dialect: SQLDialect
    var random: ReliabilityRandom
    var counter = 0

    init(schema: IsolationSchema, dialect: SQLDialect, seed: UInt64) {
        self.schema = schema
        self.dialect = dialect
        self.random = ReliabilityRandom(seed: seed)
    }

    mutating func marker(_ prefix: String) -> String {
        counter += 1
        return "\(prefix)\(counter)"
    }

    func hint(_ lane: String?) -> String { lane.map { "/* lane=\($0) */ " } ?? "" }

    /// The next step in the effective lane `lane`; `hint` is the statement hint used to get there (if any).
    /// Prepared statements, transactions and batches never carry a hint (they run in the session's lane).
    mutating func next(lane: String, hint laneHint: String?, lanesKnown: [String]) -> IsolationStep {
        let h = hint(laneHint)
        let main = schema.main, ref = schema.ref
        let value = Int.random(in: 1...100_000, using: &random)
        let insert = "INSERT INTO \(main) (lane, marker, v) VALUES ('\(lane)', '\(marker(schema.acceptedMarker))', \(value))"
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<20:
            return .write(h + insert)
        case 20..<26:
            let rows = (0..<3).map { i in "('\(lane)', '\(marker(schema.acceptedMarker))', \(value + i))" }
            return .write(h + "INSERT INTO \(main) (lane, marker, v) VALUES " + rows.joined(separator: ", "))
        case 26..<34:
            return .write(h + "UPDATE \(main) SET lane = '\(lane)', v = v + 1 WHERE id % 13 = \(value % 13)")
        case 34..<38:
            return .write(h + "DELETE FROM \(main) WHERE id % 31 = \(value % 31) AND v > 90000")
        case 38..<48:
            return .read(h + "SELECT DISTINCT lane FROM \(main)", lane: lane)
        case 48..<53:
            return .read(
                h + "SELECT a.lane FROM \(main) a JOIN \(main) b ON a.id = b.id WHERE a.v > \(value) LIMIT 20", lane: lane)
        case 53..<57:
            return .read(
                h + "SELECT lane FROM \(main) WHERE id IN (SELECT id FROM \(main) WHERE v < \(value)) LIMIT 20", lane: lane)
        case 57..<61:
            // Self-referencing subquery in a write (MariaDB needs the derived table).
            return .write(
                h + "UPDATE \(main) SET lane = '\(lane)', v = v + 2 WHERE id IN "
                    + "(SELECT id FROM (SELECT MAX(id) AS id FROM \(main)) x)")
        case 61..<64:
            return .write(
                h + "INSERT INTO \(main) (lane, marker, v) SELECT '\(lane)', '\(marker(schema.acceptedMarker))', COUNT(*) "
                    + "FROM \(main) a JOIN \(main) b ON a.id = b.id")
        case 64..<68:
            if lane == "gray" {  // ref is unmapped in gray: its writes are refused, reads pass to base
                return .refused(h + "INSERT INTO \(ref) (lane, marker, v) VALUES ('\(lane)', '\(marker(schema.refusedMarker))', 1)")
            }
            return .write(h + "INSERT INTO \(ref) (lane, marker, v) VALUES ('\(lane)', '\(marker(schema.acceptedMarker))', \(value))")
        case 68..<71:
            // A hint naming a lane that does not exist (before the reload: canary).
            let unknown = lanesKnown.contains("canary") ? "nosuchlane" : "canary"
            return .refused("/* lane=\(unknown) */ " + insert.replacingOccurrences(of: schema.acceptedMarker, with: schema.refusedMarker))
        case 71..<78:
            let second = "UPDATE \(main) SET lane = '\(lane)' WHERE id % 17 = \(value % 17)"
            return .batch([insert, second, "INSERT INTO \(main) (lane, marker, v) VALUES ('\(lane)', '\(marker(schema.acceptedMarker))', 7)"])
        case 78..<85:
            let sql = dialect == .mysql
                ? "INSERT INTO \(main) (lane, marker, v) VALUES (?, ?, ?)"
                : "INSERT INTO \(main) (lane, marker, v) VALUES ($1, $2, $3)"
            return .prepared(sql, [lane, marker(schema.acceptedMarker), "\(value)"])
        case 85..<91:
            let commit = random.chance(50)
            let tag = commit ? schema.acceptedMarker : schema.rollbackMarker
            let rows = (0..<2).map { _ in
                "INSERT INTO \(main) (lane, marker, v) VALUES ('\(lane)', '\(marker(tag))', \(value))"
            }
            return .transaction(rows + ["UPDATE \(main) SET v = v + 1 WHERE id % 7 = \(value % 7)"], commit: commit)
        case 91..<94 where dialect == .postgres:
            return .copy(table: main, lane: lane, rows: 5)
        case 94..<97:
            // A stored function that writes base: its body is invisible to the proxy, so every lane refuses it.
            if lane == "base" {
                return .write(h + "SELECT \(schema.writer)('base', '\(marker(schema.acceptedMarker))')")
            }
            return .refused(h + "SELECT \(schema.writer)('\(lane)', '\(marker(schema.refusedMarker))')")
        default:
            let choices: [String?] = [nil] + lanesKnown
            return .session(choices.randomElement(using: &random) ?? nil)
        }
    }
}
