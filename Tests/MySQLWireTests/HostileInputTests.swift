@testable import MySQLWire
import NIOCore
import Testing

/// Random and truncated input must end in an error or a close action, never a trap.
@Suite struct HostileInputTests {
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
    }

    static func randomPayload(_ g: inout Generator, maxLength: Int = 64) -> ByteBuffer {
        let length = Int(g.next() % UInt64(maxLength))
        // Bias towards the bytes that carry meaning in this protocol.
        let interesting: [UInt8] = [0x00, 0x01, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF, 10]
        return ByteBuffer(bytes: (0..<length).map { _ in
            g.next() % 3 == 0 ? interesting[Int(g.next() % UInt64(interesting.count))] : UInt8(truncatingIfNeeded: g.next())
        })
    }

    @Test("message decoders reject random and truncated payloads with errors, never traps")
    func decodersSurviveGarbage() {
        var g = Generator(state: 42)
        let valid = [Wire.greeting(), Wire.response(attributes: [("lane", "gray")]).encode()]
        for _ in 0..<3000 {
            let payload = Self.randomPayload(&g)
            _ = try? HandshakeV10(payload: payload)
            _ = try? HandshakeV10.maskCapabilities(in: payload, tls: true)
            _ = try? HandshakeResponse41(payload: payload)
            _ = try? ChangeUser(payload: payload, capabilities: [.secureConnection, .pluginAuth, .connectAttributes])
            _ = try? OKPacket(payload: payload)
            _ = try? ERRPacket(payload: payload)
            _ = try? StmtPrepareOK(payload: payload)
            _ = try? AuthSwitchRequest(payload: payload)
            var copy = payload
            _ = try? copy.readLengthEncodedSlice()
        }
        for message in valid {
            for cut in 0..<message.readableBytes {
                let truncated = message.getSlice(at: 0, length: cut)!
                _ = try? HandshakeV10(payload: truncated)
                _ = try? HandshakeResponse41(payload: truncated)
            }
        }
    }

    @Test("random server frames in the command phase end in forwarding or a close, and the machine stays consistent")
    func stateMachineSurvivesGarbage() {
        var g = Generator(state: 7)
        for _ in 0..<500 {
            var machine = Wire.commandPhase(deprecateEOF: g.next() % 2 == 0)
            _ = machine.clientPacketReceived(Wire.query("SELECT 1"))
            for step in 0..<20 {
                let action: MySQLSessionStateMachine.Action
                if g.next() % 4 == 0 {
                    action = machine.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: Self.randomPayload(&g)))
                } else {
                    action = machine.backendFrameReceived(MySQLFrame(sequenceID: UInt8(step), payload: Self.randomPayload(&g)))
                }
                if case .closeConnection = action { break }
                if case .sendToClientAndClose = action { break }
                _ = machine.nextQueuedCommand()
            }
        }
    }
}
