// Shared by the PostgreSQL fuzz targets (compiled into pg-frontend and pg-backend).
import NIOCore
import PostgresWire
import ShadowConfig
import ShadowSQL

let listener = ListenerConfiguration(
    name: "orders-pg", wireProtocol: .postgres, listen: Endpoint(host: "127.0.0.1", port: 6432),
    backend: Endpoint(host: "127.0.0.1", port: 5432), maxMessageSize: 1 << 20)
let routing = RoutingTable(configuration: ShadowgateConfiguration(
    listeners: [listener],
    lanes: [
        LaneConfiguration(
            name: "gray", mapping: LaneMapping(lane: "gray", tableSuffix: "_gray"),
            users: ["gray_app"], applicationNamePrefixes: ["gray-"]),
        LaneConfiguration(name: "graydb", mapping: LaneMapping(lane: "graydb", databases: ["mse_demo": "mse_demo_gray"])),
        LaneConfiguration(
            name: "stress", mapping: LaneMapping(lane: "stress"),
            backends: ["orders-pg": Endpoint(host: "10.0.0.2", port: 5432)]),
    ]))

/// A backend message frame `id, length, body`.
func backendFrame(_ id: Character, _ body: [UInt8] = []) -> PostgresFrame {
    var b = ByteBuffer()
    b.writeInteger(id.asciiValue ?? 0)
    b.writeInteger(Int32(4 + body.count))
    b.writeBytes(body)
    return PostgresFrame(id: id.asciiValue ?? 0, bytes: b)
}

/// A client message frame `id, length, body`.
func frontendFrame(_ bytes: ByteBuffer) -> PostgresFrame? {
    var b = bytes
    var decoder = PostgresFrameDecoder(maximumMessageSize: 1 << 20)
    return try? decoder.decode(buffer: &b)
}
