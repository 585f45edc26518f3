import ArgumentParser
import Foundation
import Logging
import ReplayLog

/// `shadowgate replay …`: inspect, verify and apply the dual-write replay log.
public struct ReplayCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Inspect, verify and apply the dual-write replay log.",
        subcommands: [Status.self, Tail.self, Verify.self, Apply.self, Bench.self]
    )

    public init() {}

    /// The log directory, shared by every subcommand.
    struct LogOptions: ParsableArguments {
        @Option(name: .long, help: "The replay log directory.")
        var dir: String
    }

    /// Prints checkpoint, last LSN, lag, flagged records and errors.
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print lag, checkpoint, flagged records and errors.")
        @OptionGroup var log: LogOptions

        func run() throws {
            let checkpoint = try Checkpoint.read(directory: log.dir)
            let report = try ReplayLogVerifier.verify(directory: log.dir)
            let last = report.segments.last?.lastLSN ?? 0
            var flagged = 0
            var oldestUnapplied: Int64?
            let reader = ReplayLogReader(directory: log.dir, from: checkpoint + 1)
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
            let marker = log.dir + "/" + ReplayLogWriter.resyncMarkerName
            if let reason = try? String(contentsOfFile: marker, encoding: .utf8) { print("RESYNC NEEDED: \(reason)") }
            if let error = try? String(contentsOfFile: log.dir + "/" + ReplayApplier.errorFileName, encoding: .utf8) {
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
            let last = try ReplayLogVerifier.verify(directory: log.dir).segments.last?.lastLSN ?? 0
            let reader = ReplayLogReader(directory: log.dir, from: last >= UInt64(count) ? last - UInt64(count) + 1 : 1)
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
            let report = try ReplayLogVerifier.verify(directory: log.dir)
            let records = report.segments.reduce(0) { $0 + $1.recordCount }
            for problem in report.problems { print("corrupt: \(problem)") }
            guard report.isSound else { throw ExitCode(1) }
            print("ok: \(records) records in \(report.segments.count) segments")
        }
    }

    /// Runs the applier until caught up or forever.
    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replay the log into the mirror.")
        @OptionGroup var log: LogOptions
        @Option(help: "Mirror dialect: mysql or postgres.") var dialect: String
        @Option(help: "Mirror host.") var host = "127.0.0.1"
        @Option(help: "Mirror port.") var port: Int
        @Option(help: "Mirror user.") var user: String
        @Option(help: "Mirror password (or SHADOWGATE_MIRROR_PASSWORD).") var password: String?
        @Option(help: "Mirror database.") var database: String
        @Flag(help: "Stop once every record has been applied.") var untilCaughtUp = false
        @Flag(help: "Write rejected records to dead-letter.log and continue instead of stopping.") var deadLetter = false

        func run() throws {
            guard let parsedDialect = ["mysql": ReplayDialect.mysql, "postgres": .postgres][dialect] else {
                throw ValidationError("--dialect must be mysql or postgres, not '\(dialect)'")
            }
            let mirror = MirrorConnectionParameters(
                host: host, port: port, user: user,
                password: password ?? ProcessInfo.processInfo.environment["SHADOWGATE_MIRROR_PASSWORD"] ?? "",
                database: database, dialect: parsedDialect)
            let applier = try ReplayApplier(
                configuration: .init(directory: log.dir, mirror: mirror, onRejected: deadLetter ? .deadLetter : .stop),
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
                let dir = log.dir + "/bench-\(count)"
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
