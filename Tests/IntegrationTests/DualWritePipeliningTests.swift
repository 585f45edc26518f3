import DatabaseClients
import Foundation
import TestSupport
import Testing

/// Sync dual-write holds each OK until its record is durable; a client that does not wait for its answers
/// (pipelining) must still get every answer, in order, with nothing processed out of turn.
@Suite(.serialized) struct DualWritePipeliningTests {
    @Test("MySQL: 150 pipelined autocommit INSERTs (150 KiB, past the held-input limit) are answered in order and all mirrored")
    func pipelinedWritesDuringHeldOKs() async throws {
        let env = try TestEnvironment.load()
        try env.createPasswordlessMySQLUser("dw_pipe")
        let base = TestEnvironment.uniqueName("dw_pipe")
        let mirror = base + "_m"
        let mirrorDatabase = TestEnvironment.uniqueName("dw_pipe_mirror")
        try DualWriteMySQLTests.createTables(env, base: base, mirrorDatabase: mirrorDatabase, mirror: mirror)
        defer { DualWriteMySQLTests.dropTables(env, base: base, mirrorDatabase: mirrorDatabase) }
        let harness = try await DualWriteHarness(
            env: env, wireProtocol: .mysql, tables: [base: mirror], durability: .sync, mirrorDatabase: mirrorDatabase)
        do {
            let socket = try ReliabilityMySQLWire.login(port: harness.port, user: "dw_pipe")
            defer { socket.close() }
            let filler = String(repeating: "x", count: 1000)
            var pipeline: [UInt8] = []
            for index in 1...150 {
                pipeline += ReliabilityMySQLWire.query(
                    "INSERT INTO \(base) (note, qty) VALUES ('p\(index)', LENGTH('\(filler)') + \(index))")
            }
            #expect(socket.send(pipeline))
            var insertIDs: [UInt64] = []
            for _ in 1...150 {
                guard let answer = ReliabilityMySQLWire.readPacket(socket, timeout: 20) else {
                    Issue.record("an answer is missing after \(insertIDs.count) OKs")
                    break
                }
                #expect(answer.payload.first == 0x00, "expected OK, got \(answer.payload.prefix(64))")
                // OK: header, affected rows, last insert id (length-encoded; small here).
                #expect(answer.payload.count > 2 && answer.payload[1] == 1)
                insertIDs.append(UInt64(answer.payload[2] < 0xFB ? UInt64(answer.payload[2]) : UInt64(answer.payload[3]) | UInt64(answer.payload[4]) << 8))
            }
            #expect(insertIDs == Array(1...150).map(UInt64.init), "answers out of order: \(insertIDs.prefix(20))")
            let status = try await harness.waitUntilCaughtUp()
            #expect(status.lastLSN == 150)
            let primaryRows = try DualWriteMySQLTests.rows(env, shadow: false, table: base)
            let mirrorRows = try DualWriteMySQLTests.rows(env, database: mirrorDatabase, shadow: true, table: mirror)
            #expect(primaryRows.count == 150)
            #expect(mirrorRows == primaryRows)
            #expect(primaryRows.last == ["150", "p150", "1150"])
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }
}
