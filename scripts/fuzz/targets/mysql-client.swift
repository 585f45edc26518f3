// Fuzz target mysql-client: client→server bytes of one MySQL connection. They are framed with
// MySQLFrameDecoder + MySQLPacketAssembler and fed to MySQLSessionStateMachine after a fixed server greeting;
// the backend side is simulated (OK to authentication and to every command, the lane server's greeting) so the
// machine reaches the command phase and runs lane decisions, rewriting and refusals. Each packet also goes through
// the client-message decoders. Any trap is a finding; protocol errors are expected and end the input.
import MySQLWire
import NIOCore
import ShadowConfig
import ShadowSQL

let listener = ListenerConfiguration(
    name: "l", wireProtocol: .mysql, listen: Endpoint(host: "127.0.0.1", port: 0),
    backend: Endpoint(host: "10.0.0.1", port: 3306), maxMessageSize: 1 << 20)
let routing = RoutingTable(configuration: ShadowgateConfiguration(
    listeners: [listener],
    lanes: [
        LaneConfiguration(name: "gray", mapping: LaneMapping(lane: "gray", tableSuffix: "_gray"), users: ["gray_app"]),
        LaneConfiguration(name: "db", mapping: LaneMapping(lane: "db", databases: ["mse_demo": "mse_demo_db"])),
        LaneConfiguration(name: "remote", mapping: LaneMapping(lane: "remote"),
                          backends: ["l": Endpoint(host: "10.0.0.2", port: 3306)]),
    ]))

func greeting(_ capabilities: MySQLCapabilities) -> ByteBuffer {
    var b = ByteBuffer()
    b.writeInteger(UInt8(10))
    b.writeString("11.0.0-MariaDB"); b.writeInteger(UInt8(0))
    b.writeInteger(UInt32(42), endianness: .little)
    b.writeBytes(Array(1...8) as [UInt8]); b.writeInteger(UInt8(0))
    b.writeInteger(UInt16(truncatingIfNeeded: capabilities.rawValue), endianness: .little)
    b.writeInteger(UInt8(45))
    b.writeInteger(UInt16(2), endianness: .little)
    b.writeInteger(UInt16(truncatingIfNeeded: capabilities.rawValue >> 16), endianness: .little)
    b.writeInteger(UInt8(21))
    b.writeRepeatingByte(0, count: 6)
    b.writeInteger(UInt32(0x1F), endianness: .little)
    b.writeBytes(Array(9...20) as [UInt8]); b.writeInteger(UInt8(0))
    b.writeString("mysql_native_password"); b.writeInteger(UInt8(0))
    return b
}

let fullCapabilities: MySQLCapabilities = [
    .protocol41, .secureConnection, .pluginAuth, .connectAttributes, .pluginAuthLengthEncodedData, .deprecateEOF,
    .multiStatements, .multiResults, .psMultiResults, .transactions, .connectWithDB, .localFiles, .sessionTrack,
]
let greetings = [greeting(fullCapabilities), greeting(fullCapabilities.subtracting([.deprecateEOF, .pluginAuthLengthEncodedData]))]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    // First byte: which greeting (with or without CLIENT_DEPRECATE_EOF); the rest is the client's byte stream.
    let greetingPayload = greetings[Int(data[0] & 1)]
    var input = ByteBuffer(bytes: UnsafeBufferPointer(start: data + 1, count: size - 1))
    var machine = MySQLSessionStateMachine(settings: .init(listener: listener, clientTLS: false), routing: routing)
    _ = machine.backendGreetingReceived(MySQLFrame(sequenceID: 0, payload: greetingPayload))
    var decoder = MySQLFrameDecoder()
    var assembler = MySQLPacketAssembler(maxSize: 1 << 20)
    var backendSequence: UInt8 = 0
    var closed = false

    func run(_ action: MySQLSessionStateMachine.Action, depth: Int = 0) {
        guard depth < 8 else { return }
        switch action {
        case .none, .sendToClient, .forwardToClient, .startClientTLS:
            break
        case .sendToBackend(let packet), .startBackendTLS(_, let packet):
            backendSequence = packet.lastSequenceID &+ 1
            // Answer like a server with OKs (authentication done, command done; a prepare or result set ends in
            // an error, which is fine) until the machine is idle again, then run what the client queued.
            var answers = 0
            while !closed, answers < 3, !(machine.isCommandPhase && machine.isIdle) {
                let ok = MySQLFrame(sequenceID: backendSequence, payload: OKPacket().encode())
                backendSequence &+= 1
                answers += 1
                run(machine.backendFrameReceived(ok), depth: depth + 1)
            }
            if !closed, machine.isCommandPhase { run(machine.nextQueuedCommand(), depth: depth + 1) }
        case .connectLaneBackend:
            run(machine.laneBackendGreetingReceived(MySQLFrame(sequenceID: 0, payload: greetingPayload)), depth: depth + 1)
        case .switchToLaneBackend:
            break
        case .sendToClientAndClose, .sendToBackendAndClose, .closeConnection:
            closed = true
        }
    }

    while !closed {
        let frame: MySQLFrame?
        do { frame = try decoder.decode(buffer: &input) } catch { break }
        guard let frame else { break }
        let packet: MySQLPacket?
        do { packet = try assembler.push(frame) } catch { break }
        guard let packet else { continue }
        // The client-side message decoders see every packet too.
        _ = SSLRequest.isSSLRequest(packet.payload)
        _ = try? HandshakeResponse41(payload: packet.payload)
        _ = try? ChangeUser(payload: packet.payload, capabilities: fullCapabilities)
        _ = StatementCommand.statementID(of: packet.payload)
        _ = TextCommand.text(of: packet.payload)
        run(machine.clientPacketReceived(packet))
    }
    _ = machine.backendClosed()
    return 0
}
