// Sync-mode append throughput of the replay log: N appenders, each appending one record and waiting for its
// acknowledgement before the next (as a client connection waits for its held OK), for a fixed time per run.
// `--driver eventloops` (default) runs the appenders as connections do in the proxy: multiplexed on as many NIO
// event loops as cores, each acknowledgement hopping back to its loop through a promise. `--driver threads` gives
// every appender its own thread (a context switch per record: a harsher, scheduler-bound case).
// Variants (preallocation on/off, concurrent syncs) are interleaved within each round so that a change in machine
// load hits all of them alike; the summary reports medians over rounds.
import Foundation
import Logging
import NIOCore
import NIOPosix
import ReplayLog

struct Variant {
    let name: String
    let preallocationChunk: Int
    let concurrentSyncs: Int

    /// `append/1` (records extend the file, one sync at a time), `zero-filled/2` (1 MiB zero-filled chunks, two
    /// syncs at once).
    init?(_ text: Substring) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let syncs = Int(parts[1]), syncs > 0 else { return nil }
        switch parts[0] {
        case "append": preallocationChunk = 0
        case "zero-filled": preallocationChunk = 1 << 20
        default: return nil
        }
        concurrentSyncs = syncs
        name = String(text)
    }
}

struct Run {
    var records = 0
    var seconds = 0.0
    var syncs: UInt64 = 0
    var latencies: [Double] = []
    var perSecond: Double { Double(records) / seconds }
    var perSync: Double { syncs == 0 ? 0 : Double(records) / Double(syncs) }
    func latency(_ quantile: Double) -> Double {
        guard !latencies.isEmpty else { return 0 }
        let sorted = latencies.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * quantile))]
    }
}

func option(_ name: String, default value: String) -> String {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return value }
    return arguments[index + 1]
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

func now() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// A one-slot mailbox an appender waits on (what a connection's event loop does for its held OK).
final class Acknowledgement: @unchecked Sendable {
    let semaphore = DispatchSemaphore(value: 0)
}

/// One simulated connection on an event loop: append, wait for the acknowledgement on the loop, repeat.
final class LoopAppender {
    let loop: any EventLoop
    let writer: ReplayLogWriter
    let record: ReplayRecord
    let deadline: Double
    let done: (LoopAppender) -> Void
    var latencies: [Double] = []

    init(loop: any EventLoop, writer: ReplayLogWriter, record: ReplayRecord, deadline: Double, done: @escaping (LoopAppender) -> Void) {
        self.loop = loop
        self.writer = writer
        self.record = record
        self.deadline = deadline
        self.done = done
        latencies.reserveCapacity(200_000)
    }

    func step() {
        let sent = now()
        guard sent < deadline else { return done(self) }
        let promise = loop.makePromise(of: Void.self)
        writer.append(record) { _ in promise.succeed(()) }
        promise.futureResult.whenSuccess {
            self.latencies.append(now() - sent)
            self.step()
        }
    }
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
let driver = option("--driver", default: "eventloops")

func benchRecord(_ task: Int) -> ReplayRecord {
    // ~100-byte records like an autocommit INSERT; built once, so the loop measures the log.
    ReplayRecord(
        timestampMicros: 1_700_000_000_000_000, connectionID: UInt64(task), transactionID: 1, dialect: .mysql,
        target: "base@bench",
        statements: [ReplayStatement(sql: "INSERT INTO mse_demo_table (location) VALUES ('bench-\(task)')")])
}

func measure(directory: String, variant: Variant, appenders: Int, seconds: Double) throws -> Run {
    try? FileManager.default.removeItem(atPath: directory)
    let writer = try ReplayLogWriter(
        configuration: .init(
            directory: directory, preallocationChunk: variant.preallocationChunk,
            concurrentSyncs: variant.concurrentSyncs),
        logger: Logger(label: "bench"))
    let lock = NSLock()
    var total = Run()
    let finished = DispatchGroup()
    let start = now()
    let deadline = start + seconds
    if driver == "eventloops" {
        for task in 0..<appenders {
            finished.enter()
            let loop = group.next()
            let appender = LoopAppender(loop: loop, writer: writer, record: benchRecord(task), deadline: deadline) {
                appender in
                lock.lock()
                total.records += appender.latencies.count
                total.latencies += appender.latencies
                lock.unlock()
                finished.leave()
            }
            loop.execute { appender.step() }
        }
    }
    for task in 0..<appenders where driver != "eventloops" {
        finished.enter()
        let thread = Thread {
            let record = benchRecord(task)
            let acknowledgement = Acknowledgement()
            var latencies: [Double] = []
            latencies.reserveCapacity(200_000)
            while true {
                let sent = now()
                if sent >= deadline { break }
                writer.append(record) { _ in acknowledgement.semaphore.signal() }
                acknowledgement.semaphore.wait()
                latencies.append(now() - sent)
            }
            lock.lock()
            total.records += latencies.count
            total.latencies += latencies
            lock.unlock()
            finished.leave()
        }
        thread.start()
    }
    finished.wait()
    total.seconds = now() - start
    total.syncs = writer.status.syncCount
    writer.close()
    try? FileManager.default.removeItem(atPath: directory)
    return total
}

let directory = option("--dir", default: NSTemporaryDirectory() + "replay-append-bench")
let appenderCounts = option("--appenders", default: "1,16,64").split(separator: ",").compactMap { Int($0) }
let seconds = Double(option("--seconds", default: "3")) ?? 3
let rounds = Int(option("--rounds", default: "5")) ?? 5
let variants = option("--variants", default: "append/1,zero-filled/1,zero-filled/2").split(separator: ",")
    .compactMap(Variant.init)
guard !variants.isEmpty, !appenderCounts.isEmpty else {
    print("usage: replay-append-bench --dir DIR [--appenders 1,16,64] [--seconds 3] [--rounds 5] "
        + "[--variants append/1,zero-filled/1,zero-filled/2]")
    exit(2)
}
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
if let probes = Int(option("--probe-syncs", default: "")) {
    probeSyncs(directory: directory, iterations: probes)
    exit(0)
}

var results: [String: [Run]] = [:]
for round in 1...rounds {
    for appenders in appenderCounts {
        for variant in variants {
            let run = try measure(
                directory: directory + "/run", variant: variant, appenders: appenders, seconds: seconds)
            results["\(appenders) \(variant.name)", default: []].append(run)
            print(String(
                format: "round %d appenders=%-3d %-14@ records/s=%8.0f records/sync=%6.1f p50=%6.0fus p99=%7.0fus",
                round, appenders, variant.name as NSString, run.perSecond, run.perSync,
                run.latency(0.5) * 1e6, run.latency(0.99) * 1e6))
        }
    }
}

print("\nmedians over \(rounds) rounds of \(seconds) s, driver \(driver) (\(System.coreCount) cores):")
print("| appenders | variant | records/s | records per fdatasync | ack p50 | ack p99 |")
print("|---|---|---|---|---|---|")
for appenders in appenderCounts {
    for variant in variants {
        let runs = results["\(appenders) \(variant.name)"] ?? []
        print(String(
            format: "| %d | %@ | %.0f | %.1f | %.0f µs | %.0f µs |", appenders, variant.name as NSString,
            median(runs.map(\.perSecond)), median(runs.map(\.perSync)), median(runs.map { $0.latency(0.5) }) * 1e6,
            median(runs.map { $0.latency(0.99) }) * 1e6))
    }
}
