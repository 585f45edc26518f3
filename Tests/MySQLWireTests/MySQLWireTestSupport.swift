import MySQLWire
import NIOCore
import ShadowConfig
import ShadowSQL

/// Builders for wire packets used across the MySQLWire tests.
enum Wire {
    static func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

    /// A MariaDB-style greeting payload.
    static func greeting(
        capabilities: MySQLCapabilities = [.protocol41, .secureConnection, .pluginAuth, .connectAttributes,
                                           .pluginAuthLengthEncodedData, .deprecateEOF, .ssl, .compress,
                                           .queryAttributes, .multiStatements, .multiResults, .psMultiResults,
                                           .transactions, .connectWithDB, .localFiles, .sessionTrack],
        extended: UInt32 = 0x1F,
        scramble: [UInt8] = Array(1...20),
        plugin: String = "mysql_native_password"
    ) -> ByteBuffer {
        var b = ByteBuffer()
        b.writeInteger(UInt8(10))
        b.writeString("11.0.0-MariaDB"); b.writeInteger(UInt8(0))
        b.writeInteger(UInt32(42), endianness: .little)
        b.writeBytes(scramble[0..<8]); b.writeInteger(UInt8(0))
        let caps = capabilities.rawValue
        b.writeInteger(UInt16(truncatingIfNeeded: caps), endianness: .little)
        b.writeInteger(UInt8(45))
        b.writeInteger(UInt16(2), endianness: .little)
        b.writeInteger(UInt16(truncatingIfNeeded: caps >> 16), endianness: .little)
        b.writeInteger(UInt8(scramble.count + 1))
        b.writeRepeatingByte(0, count: 6)
        b.writeInteger(extended, endianness: .little)
        b.writeBytes(scramble[8...]); b.writeInteger(UInt8(0))
        b.writeString(plugin); b.writeInteger(UInt8(0))
        return b
    }

    static func response(user: String = "app", database: String? = "mse_demo", attributes: [(key: String, value: String)] = []) -> HandshakeResponse41 {
        HandshakeResponse41(
            capabilities: [.protocol41, .secureConnection, .pluginAuth, .connectAttributes, .pluginAuthLengthEncodedData,
                           .deprecateEOF, .multiStatements, .multiResults, .psMultiResults, .transactions,
                           .connectWithDB, .localFiles],
            username: user, authResponse: Array(repeating: 7, count: 20), database: database,
            authPluginName: "mysql_native_password", attributes: attributes)
    }

    static func query(_ sql: String, seq: UInt8 = 0) -> MySQLPacket {
        MySQLPacket(sequenceID: seq, payload: TextCommand.encode(.query, text: Array(sql.utf8)))
    }

    static func ok(status: MySQLServerStatus = [.autocommit], header: UInt8 = 0, seq: UInt8 = 1) -> MySQLFrame {
        MySQLFrame(sequenceID: seq, payload: OKPacket(status: status).encode(header: header))
    }

    static func frame(_ bytes: [UInt8], seq: UInt8) -> MySQLFrame {
        MySQLFrame(sequenceID: seq, payload: ByteBuffer(bytes: bytes))
    }

    static let listener = ListenerConfiguration(
        name: "l", wireProtocol: .mysql, listen: Endpoint(host: "127.0.0.1", port: 0),
        backend: Endpoint(host: "10.0.0.1", port: 3306))

    static func routing() -> RoutingTable {
        RoutingTable(configuration: ShadowgateConfiguration(
            listeners: [listener],
            lanes: [
                LaneConfiguration(name: "gray", mapping: LaneMapping(lane: "gray", tableSuffix: "_gray"), users: ["gray_app"]),
                LaneConfiguration(name: "db", mapping: LaneMapping(lane: "db", databases: ["mse_demo": "mse_demo_db"])),
                LaneConfiguration(name: "remote", mapping: LaneMapping(lane: "remote"),
                                  backends: ["l": Endpoint(host: "10.0.0.2", port: 3306)]),
            ]))
    }

    /// A machine (CLIENT_DEPRECATE_EOF) that sent `sql` and got its one-column result set's column count and
    /// definition (sequence ids 1 and 2): the next frame is a row.
    static func readingRows(_ sql: String = "SELECT a FROM t") -> MySQLSessionStateMachine {
        var machine = commandPhase()
        _ = machine.clientPacketReceived(query(sql))
        _ = machine.backendFrameReceived(frame([1], seq: 1))
        _ = machine.backendFrameReceived(frame([3, 0x64, 0x65, 0x66], seq: 2))
        return machine
    }

    /// A machine past the handshake, in the command phase, with CLIENT_DEPRECATE_EOF negotiated or not.
    static func commandPhase(deprecateEOF: Bool = true, attributes: [(key: String, value: String)] = [], user: String = "app") -> MySQLSessionStateMachine {
        var machine = MySQLSessionStateMachine(settings: .init(listener: listener, clientTLS: false), routing: routing())
        let greetingCaps: MySQLCapabilities = deprecateEOF
            ? [.protocol41, .secureConnection, .pluginAuth, .connectAttributes, .deprecateEOF, .multiResults, .connectWithDB]
            : [.protocol41, .secureConnection, .pluginAuth, .connectAttributes, .multiResults, .connectWithDB]
        _ = machine.backendGreetingReceived(MySQLFrame(sequenceID: 0, payload: greeting(capabilities: greetingCaps)))
        _ = machine.clientPacketReceived(MySQLPacket(sequenceID: 1, payload: response(user: user, attributes: attributes).encode()))
        _ = machine.backendFrameReceived(ok(seq: 2))
        return machine
    }
}

extension MySQLSessionStateMachine.Action {
    /// The payload of a packet sent to the client, if this action sends one.
    var clientPacket: MySQLPacket? {
        switch self {
        case .sendToClient(let p), .sendToClientAndClose(let p), .switchToLaneBackend(let p): return p
        default: return nil
        }
    }

    var backendPacket: MySQLPacket? {
        if case .sendToBackend(let p) = self { return p }
        return nil
    }
}
