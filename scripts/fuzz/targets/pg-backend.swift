// Fuzz target pg-backend: server→client bytes of one PostgreSQL connection. After a fixed StartupMessage the
// server's messages (PostgresFrameDecoder) go through BackendMessage, PostgresErrorFields and the session machine's
// response tracking; whenever the session is idle a simple Query is sent for the server's bytes to answer, so
// authentication, key data, ready-for-query and command tracking are all exercised. Traps are findings.
import NIOCore
import PostgresWire
import ShadowSQL

let query = frontendFrame(PostgresMessageEncoder.query(sql: Array("SELECT 1".utf8)))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    var input = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    var machine = PostgresSessionStateMachine(listener: listener, routing: routing, tlsAvailable: false)
    // First byte: whether the client is in the gray lane (connection label) or base.
    let user = input.readInteger(as: UInt8.self).map { $0 & 1 == 1 ? "gray_app" : "app" } ?? "app"
    guard case .connect = machine.startupPacketReceived(
        .startup(StartupMessage(parameters: [(name: "user", value: user), (name: "database", value: "mse_demo")])))
    else { return 0 }
    var decoder = PostgresFrameDecoder(maximumMessageSize: 1 << 20)
    var messages = 0
    while messages < 10_000 {
        let frame: PostgresFrame?
        do { frame = try decoder.decode(buffer: &input) } catch { return 0 }
        guard let frame else { return 0 }
        messages += 1
        _ = try? BackendMessage(frame: frame)
        _ = try? PostgresErrorFields(frame: frame)
        if case .protocolViolation = machine.backendFrameReceived(frame) { return 0 }
        if machine.isIdle, let query {
            if case .protocolViolation = machine.frontendFrameReceived(query) { return 0 }
        }
    }
    return 0
}
