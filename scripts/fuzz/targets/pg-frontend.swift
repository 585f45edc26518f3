// Fuzz target pg-frontend: client→server bytes of one PostgreSQL connection. The startup phase goes through
// PostgresStartupDecoder (SSLRequest, GSSENCRequest, CancelRequest, StartupMessage) into the session machine; after
// a simulated AuthenticationOk + ReadyForQuery the typed messages go through PostgresFrameDecoder, FrontendMessage
// and the machine (lanes, rewriting, refusals). Simulated server answers (CommandComplete/ReadyForQuery for Query
// and Sync) keep the pipeline moving. Thrown errors and protocol violations are expected; traps are findings.
import NIOCore
import PostgresWire
import ShadowSQL

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    var machine = PostgresSessionStateMachine(listener: listener, routing: routing, tlsAvailable: false)
    var startup = PostgresStartupDecoder()
    // Startup phase: at most a few untyped packets.
    var started = false
    for _ in 0..<4 {
        let packet: PostgresStartupPacket?
        do { packet = try startup.decode(buffer: &input) } catch { return 0 }
        guard let packet else { return 0 }
        switch machine.startupPacketReceived(packet) {
        case .reply, .startTLS: continue
        case .cancel, .reject: return 0
        case .connect: started = true
        }
        if case .startup(let message) = packet { _ = StartupOptions(parsing: message.value(of: "options") ?? "") }
        break
    }
    guard started else { return 0 }
    _ = machine.backendFrameReceived(backendFrame("R", [0, 0, 0, 0]))
    _ = machine.backendFrameReceived(backendFrame("Z", [UInt8(ascii: "I")]))

    var decoder = PostgresFrameDecoder(maximumMessageSize: 1 << 20)
    var messages = 0
    while messages < 10_000 {
        let frame: PostgresFrame?
        do { frame = try decoder.decode(buffer: &input) } catch { return 0 }
        guard let frame else { return 0 }
        messages += 1
        switch machine.frontendFrameReceived(frame) {
        case .forward, .send, .discard: break
        case .forwardAndClose, .protocolViolation: return 0
        }
        // Answer like a server at the end of a simple query or an extended-protocol pipeline.
        if frame.id == UInt8(ascii: "Q") {
            _ = machine.backendFrameReceived(backendFrame("C", Array("SELECT 1".utf8) + [0]))
            _ = machine.backendFrameReceived(backendFrame("Z", [machine.transactionStatus]))
        } else if frame.id == UInt8(ascii: "S") {
            _ = machine.backendFrameReceived(backendFrame("Z", [machine.transactionStatus]))
        }
    }
    return 0
}
