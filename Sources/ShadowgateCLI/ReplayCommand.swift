import ArgumentParser
import Foundation
import Logging
import ReplayLog
import ShadowConfig

/// `shadowgate replay …`: inspect, verify and apply the dual-write replay log.
public struct ReplayCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Inspect, verify and apply the dual-write replay log.",
        subcommands: [Status.self, Tail.self, Verify.self, Apply.self, Bench.self]
    )

    public init() {}

    /// Which log to read: a directory, or the dual-write streams of a configuration file.
    struct LogOptions: ParsableArguments {
        @Option(name: .long, help: "The replay log directory (one stream's folder).")
        var dir: String?
        @Option(name: .long, help: "A configuration file: its dual-write streams' logs under replay_log.dir.")
        var config: String?
        @Option(name: .long, help: "With --config: the stream, as lane@listener (default: every stream, or the only one).")
        var stream: String?

        func validate() throws {
            guard (dir == nil) != (config == nil) else { throw ValidationError("give exactly one of --dir and --config") }
            if stream != nil && config == nil { throw ValidationError("--stream needs --config") }
        }

        /// The selected streams: their log folder and, with --config, their configuration.
        func streams() throws -> [(directory: String, stream: DualWriteConfiguration?, dialect: ReplayDialect?)] {
            if let dir { return [(dir, nil, nil)] }
            guard let config else { return [] }
            let configuration = try loadConfigurationOrExit(path: config, io: CommandIO.current)
            guard let log = configuration.replayLog, !configuration.dualWrites.isEmpty else {
                throw ValidationError("\(config) configures no dual-write (base_dual_write or lanes.<lane>.dual_write)")
            }
            var root = log.directory
            let folder = (config as NSString).deletingLastPathComponent
            if !root.hasPrefix("/") && !folder.isEmpty { root = folder + "/" + root }
            let all = configuration.dualWrites.map { stream in
                let target = "\(stream.lane)@\(stream.listener)"
                let wire = configuration.listeners.first { $0.name == stream.listener }?.wireProtocol
                return (root + "/" + target, Optional(stream), Optional(wire == .postgres ? ReplayDialect.postgres : .mysql))
            }
            guard let stream else { return all }
            let chosen = all.filter { "\($0.1!.lane)@\($0.1!.listener)" == stream }
            if chosen.isEmpty {
                let names = configuration.dualWrites.map { "\($0.lane)@\($0.listener)" }.joined(separator: ", ")
                throw ValidationError("no dual-write stream '\(stream)'; streams: \(names)")
            }
            return chosen
        }

        /// Runs `body` per selected stream, with a heading when there are several.
        func forEachDirectory(_ body: (String) throws -> Void) throws {
            let selected = try streams()
            for (directory, stream, _) in selected {
                if selected.count > 1, let stream { print("== \(stream.lane)@\(stream.listener) (\(directory))") }
                try body(directory)
            }
        }
    }

    /// Prints checkpoint, last LSN, lag, flagged records and errors.
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print lag, checkpoint, flagged records and errors.")
        @OptionGroup var log: LogOptions

        func run() throws {
            try log.forEachDirectory(Self.show)
        }

        static func show(_ dir: String) throws {
            let checkpoint = try Checkpoint.read(directory: dir)
            let report = try ReplayLogVerifier.verify(directory: dir)
            let last = report.segments.last?.lastLSN ?? 0
            var flagged = 0
            var oldestUnapplied: Int64?
            let reader = ReplayLogReader(directory: dir, from: checkpoint + 1)
            while let record = try? reader.next() {
                if record.flags.contains(.nonDeterministic) { flagged += 1 }
                if oldestUnapplied == nil { oldestUnapplied = record.timestampMicros }
            }
            let lagSeconds = oldestUnapplied.map { max(0, Date().timeIntervalSince1970 - Double($0) / 1e6) } ?? 0
            print("checkpoint LSN: \(checkpoint)")
            print("last LSN:       \(last)")
            print("lag:            \(last > checkpoint ? last - checkpoint : 0) records, \(String(format: "%.1f", lagSeconds)) s")
            print("flagged (non-deterministic, unapplied): \(flagged)")
            print("segments:       \(report.segments.count)")
            let marker = dir + "/" + ReplayLogWriter.resyncMarkerName
            if let reason = try? String(contentsOfFile: marker, encoding: .utf8) { print("RESYNC NEEDED: \(reason)") }
            if let error = try? String(contentsOfFile: dir + "/" + ReplayApplier.errorFileName, encoding: .utf8) {
                print("applier error:  \(error)")
            }
            for problem in report.problems { print("problem:        \(problem)") }
        }
    }

    /// Prints the last N records, optionally following new ones.
    struct Tail: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the last records of the log.")
        @OptionGroup var log: LogOptions
        @Option(name: [.short, .long], help: "How many records to print.") var count: Int = 10
        @Flag(name: .long, help: "Keep printing records as they are appended.") var follow = false

        func run() throws {
            let selected = try log.streams()
            guard selected.count == 1 else { throw ValidationError("several dual-write streams: choose one with --stream") }
            let dir = selected[0].directory
            let last = try ReplayLogVerifier.verify(directory: dir).segments.last?.lastLSN ?? 0
            let reader = ReplayLogReader(directory: dir, from: last >= UInt64(count) ? last - UInt64(count) + 1 : 1)
            while true {
                while let record = try reader.next() { print(Self.describe(record)) }
                guard follow else { return }
                usleep(200_000)
            }
        }

        static func describe(_ r: ReplayRecord) -> String {
            let time = Date(timeIntervalSince1970: Double(r.timestampMicros) / 1e6)
            var line = "LSN \(r.lsn) \(time) conn=\(r.connectionID) tx=\(r.transactionID) \(r.dialect) → \(r.target)"
            if r.flags.contains(.nonDeterministic) { line += " [non-deterministic]" }
            for statement in r.statements {
                line += "\n    \(statement.sql)"
                if let parameters = statement.parameters { line += "  -- params: \(parameters)" }
            }
            return line
        }
    }

    /// Checks every record's CRC and LSN continuity; exits 1 naming where the log is corrupt.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check every record; exit 1 on corruption.")
        @OptionGroup var log: LogOptions

        func run() throws {
            var sound = true
            try log.forEachDirectory { dir in
                let report = try ReplayLogVerifier.verify(directory: dir)
                let records = report.segments.reduce(0) { $0 + $1.recordCount }
                for problem in report.problems { print("corrupt: \(problem)") }
                if report.isSound {
                    print("ok: \(records) records in \(report.segments.count) segments")
                } else {
                    sound = false
                }
            }
            guard sound else { throw ExitCode(1) }
        }
    }

    /// Runs the applier until caught up or forever.
    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replay the log into the mirror.")
        @OptionGroup var log: LogOptions
        @Option(help: "Mirror dialect: mysql or postgres (with --dir).") var dialect: String?
        @Option(help: "Mirror host (with --dir).") var host = "127.0.0.1"
        @Option(help: "Mirror port (with --dir).") var port: Int?
        @Option(help: "Mirror user (with --dir).") var user: String?
        @Option(help: "Mirror password (or SHADOWGATE_MIRROR_PASSWORD).") var password: String?
        @Option(help: "Mirror database (with --dir).") var database: String?
        @Flag(help: "Stop once every record has been applied.") var untilCaughtUp = false
        @Flag(help: "Write rejected records to dead-letter.log and continue instead of stopping.") var deadLetter = false

        func run() throws {
            let selected = try log.streams()
            guard selected.count == 1 else { throw ValidationError("several dual-write streams: choose one with --stream") }
            let (directory, stream, streamDialect) = selected[0]
            let mirror: MirrorConnectionParameters
            if let stream, let streamDialect {
                mirror = MirrorConnectionParameters(
                    host: stream.mirror.backend.host, port: stream.mirror.backend.port, user: stream.mirror.user,
                    password: password ?? stream.mirror.password, database: stream.mirror.database, dialect: streamDialect,
                    progressTable: MirrorConnectionParameters.defaultProgressTable)
            } else {
                guard let dialect, let parsedDialect = ["mysql": ReplayDialect.mysql, "postgres": .postgres][dialect] else {
                    throw ValidationError("--dialect must be mysql or postgres")
                }
                guard let port, let user, let database else {
                    throw ValidationError("with --dir, give the mirror's --port, --user and --database (or use --config)")
                }
                mirror = MirrorConnectionParameters(
                    host: host, port: port, user: user,
                    password: password ?? ProcessInfo.processInfo.environment["SHADOWGATE_MIRROR_PASSWORD"] ?? "",
                    database: database, dialect: parsedDialect)
            }
            let applier = try ReplayApplier(
                configuration: .init(directory: directory, mirror: mirror, onRejected: deadLetter ? .deadLetter : .stop),
                logger: Logger(label: "shadowgate.replay"))
            let status = applier.run(untilCaughtUp: untilCaughtUp)
            print("state: \(status.state.rawValue), checkpoint LSN \(status.checkpointLSN), dead-lettered \(status.deadLettered)")
            if let error = status.lastError { print("last error: \(error)") }
            if status.state == .stoppedOnError || status.state == .resyncNeeded { throw ExitCode(1) }
        }
    }

    /// Measures sync-mode append throughput with group commit (build with -c release).
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Measure sync append throughput.", shouldDisplay: false)
        @OptionGroup var log: LogOptions
        @Option(help: "Comma-separated concurrent appender counts.") var appenders = "1,16,64"
        @Option(help: "Records per run.") var records = 50_000

        func run() throws {
            for count in appenders.split(separator: ",").compactMap({ Int($0) }) {
                let dir = (log.dir ?? ".") + "/bench-\(count)"
                try? FileManager.default.removeItem(atPath: dir)
                let writer = try ReplayLogWriter(configuration: .init(directory: dir), logger: Logger(label: "bench"))
                let total = count == 1 ? min(records, 5_000) : records
                let finished = DispatchGroup()
                let start = ContinuousClock.now
                // One thread per appender, each waiting for its acknowledgement the way a client connection does.
                for task in 0..<count {
                    finished.enter()
                    Thread {
                        let acknowledged = DispatchSemaphore(value: 0)
                        for n in stride(from: task, to: total, by: count) {
                            let record = ReplayRecord(
                                timestampMicros: Int64(n), connectionID: UInt64(task), transactionID: UInt64(n),
                                dialect: .mysql, target: "mirror",
                                statements: [ReplayStatement(sql: "INSERT INTO mse_demo_table (location) VALUES ('bench-\(n)')")])
                            writer.append(record) { _ in acknowledged.signal() }
                            acknowledged.wait()
                        }
                        finished.leave()
                    }.start()
                }
                finished.wait()
                let elapsed = ContinuousClock.now - start
                writer.close()
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                print("appenders=\(count) records=\(total) seconds=\(String(format: "%.3f", seconds)) records/s=\(Int(Double(total) / seconds))")
                try? FileManager.default.removeItem(atPath: dir)
            }
        }
    }
}
