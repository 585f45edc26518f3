import Foundation
import Logging
@testable import ReplayLog

/// A fresh temporary directory per test, removed by the caller with `cleanup()`.
struct TemporaryDirectory {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "replaylog-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// SplitMix64: a seeded generator so property-style tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let testLogger = Logger(label: "replaylog-tests")

func sampleRecord(_ n: Int = 0, sql: String = "INSERT INTO t VALUES (1)") -> ReplayRecord {
    ReplayRecord(
        timestampMicros: 1_700_000_000_000_000 + Int64(n), connectionID: UInt64(n % 7), transactionID: UInt64(n),
        dialect: .mysql, target: "mirror", statements: [ReplayStatement(sql: sql)])
}

func randomString(_ g: inout SeededGenerator, maxLength: Int) -> String {
    let alphabet = Array("abcXYZ019 '\"`\\;é漢😀\n\t")
    let length = Int.random(in: 0...maxLength, using: &g)
    return String((0..<length).map { _ in alphabet.randomElement(using: &g)! })
}

func randomRecord(_ g: inout SeededGenerator) -> ReplayRecord {
    let statementCount = Int.random(in: 1...4, using: &g)
    let statements = (0..<statementCount).map { _ -> ReplayStatement in
        var parameters: [ReplayValue]?
        if Bool.random(using: &g) {
            parameters = (0..<Int.random(in: 0...5, using: &g)).map { _ in
                switch Int.random(in: 0..<5, using: &g) {
                case 0: .null
                case 1: .int64(Int64.random(in: .min ... .max, using: &g))
                case 2: .double(Double.random(in: -1e300...1e300, using: &g))
                case 3: .text(randomString(&g, maxLength: 40))
                default: .bytes((0..<Int.random(in: 0...40, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) })
                }
            }
        }
        let context = ReplayContext(
            insertID: Bool.random(using: &g) ? UInt64.random(in: 0...UInt64.max, using: &g) : nil,
            lastInsertID: Bool.random(using: &g) ? UInt64.random(in: 0...UInt64.max, using: &g) : nil,
            timestampMicros: Bool.random(using: &g) ? Int64.random(in: 0...Int64.max, using: &g) : nil,
            schema: Bool.random(using: &g) ? randomString(&g, maxLength: 12) : nil)
        return ReplayStatement(sql: randomString(&g, maxLength: 200), parameters: parameters, context: context)
    }
    return ReplayRecord(
        lsn: UInt64.random(in: 1...UInt64.max, using: &g), timestampMicros: Int64.random(in: .min ... .max, using: &g),
        connectionID: g.next(), transactionID: g.next(), dialect: Bool.random(using: &g) ? .mysql : .postgres,
        target: randomString(&g, maxLength: 16), flags: ReplayRecordFlags(rawValue: UInt16.random(in: 0...3, using: &g)),
        statements: statements)
}
