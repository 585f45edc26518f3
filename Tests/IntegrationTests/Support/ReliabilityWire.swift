import Foundation

/// Byte-level builders and a minimal login for both protocols, so tests can put a raw socket exactly where a
/// malformed input must arrive (before, during or after authentication).
enum ReliabilityMySQLWire {
    /// A packet: 3-byte little-endian length, sequence id, payload.
    static func packet(_ payload: [UInt8], sequence: UInt8) -> [UInt8] {
        header(length: payload.count, sequence: sequence) + payload
    }

    static func header(length: Int, sequence: UInt8) -> [UInt8] {
        [UInt8(length & 0xFF), UInt8((length >> 8) & 0xFF), UInt8((length >> 16) & 0xFF), sequence]
    }

    static let protocol41: UInt32 = 0x200
    static let secureConnection: UInt32 = 0x8000
    static let pluginAuth: UInt32 = 0x80000
    static let longPassword: UInt32 = 0x1
    static let connectWithDB: UInt32 = 0x8
    static let multiStatements: UInt32 = 0x10000
    static let multiResults: UInt32 = 0x20000

    /// HandshakeResponse41 for `user` with an empty password (the reliability user has none).
    static func handshakeResponse(user: String, database: String? = "mse_demo") -> [UInt8] {
        var caps = protocol41 | secureConnection | pluginAuth | longPassword | multiResults
        if database != nil { caps |= connectWithDB }
        var payload: [UInt8] = withUnsafeBytes(of: caps.littleEndian, Array.init)
        payload += withUnsafeBytes(of: UInt32(16 << 20).littleEndian, Array.init)
        payload.append(45)  // utf8mb4_general_ci
        payload += [UInt8](repeating: 0, count: 23)
        payload += Array(user.utf8) + [0]
        payload.append(0)  // auth response length: empty password
        if let database { payload += Array(database.utf8) + [0] }
        payload += Array("mysql_native_password".utf8) + [0]
        return payload
    }

    /// Reads one packet (header and payload).
    static func readPacket(_ socket: ReliabilityRawSocket, timeout: Double = 5) -> (sequence: UInt8, payload: [UInt8])? {
        guard let header = socket.readExactly(4, timeout: timeout) else { return nil }
        let length = Int(header[0]) | Int(header[1]) << 8 | Int(header[2]) << 16
        guard let payload = socket.readExactly(length, timeout: timeout) else { return nil }
        return (header[3], payload)
    }

    /// Connects and logs in as a passwordless user; returns the socket in the command phase.
    static func login(port: Int, user: String) throws -> ReliabilityRawSocket {
        let socket = try ReliabilityRawSocket(port: port)
        guard readPacket(socket) != nil else { throw ReliabilityRawSocket.Failure(description: "no MySQL greeting") }
        socket.send(packet(handshakeResponse(user: user), sequence: 1))
        guard var reply = readPacket(socket) else { throw ReliabilityRawSocket.Failure(description: "no login reply") }
        if reply.payload.first == 0xFE {  // auth switch: an empty password answers any plugin's scramble
            socket.send(packet([], sequence: reply.sequence &+ 1))
            guard let next = readPacket(socket) else { throw ReliabilityRawSocket.Failure(description: "no reply after auth switch") }
            reply = next
        }
        guard reply.payload.first == 0x00 else {
            throw ReliabilityRawSocket.Failure(
                description: "MySQL login failed: \(String(decoding: reply.payload.dropFirst(9), as: UTF8.self))")
        }
        return socket
    }

    /// COM_QUERY with `sql`, sequence 0.
    static func query(_ sql: String) -> [UInt8] { packet([0x03] + Array(sql.utf8), sequence: 0) }
}

enum ReliabilityPostgresWire {
    static func int32(_ value: Int32) -> [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }
    static func int16(_ value: Int16) -> [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }
    static func cString(_ text: String) -> [UInt8] { Array(text.utf8) + [0] }

    /// StartupMessage (protocol 3.0) with the given parameters.
    static func startup(_ parameters: [(String, String)], version: Int32 = 196_608) -> [UInt8] {
        var body = int32(version)
        for (key, value) in parameters { body += cString(key) + cString(value) }
        body.append(0)
        return int32(Int32(body.count + 4)) + body
    }

    /// A typed message: type byte, length (including itself), body.
    static func message(_ type: Character, _ body: [UInt8]) -> [UInt8] {
        [UInt8(ascii: type.unicodeScalars.first!)] + int32(Int32(body.count + 4)) + body
    }

    /// Reads one backend message.
    static func readMessage(_ socket: ReliabilityRawSocket, timeout: Double = 5) -> (type: UInt8, body: [UInt8])? {
        guard let header = socket.readExactly(5, timeout: timeout) else { return nil }
        let length = Int(Int32(bigEndian: header[1...4].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }))
        guard length >= 4, let body = socket.readExactly(length - 4, timeout: timeout) else { return nil }
        return (header[0], body)
    }

    /// Connects as a trust-authenticated user and reads until ReadyForQuery.
    static func login(port: Int, user: String = "shadow_trust", database: String = "mse_demo") throws -> ReliabilityRawSocket {
        let socket = try ReliabilityRawSocket(port: port)
        socket.send(startup([("user", user), ("database", database)]))
        while let message = readMessage(socket) {
            if message.type == UInt8(ascii: "Z") { return socket }
            if message.type == UInt8(ascii: "E") {
                throw ReliabilityRawSocket.Failure(description: "PostgreSQL login failed: \(String(decoding: message.body, as: UTF8.self))")
            }
            if message.type == UInt8(ascii: "R"), message.body.prefix(4) != [0, 0, 0, 0] {
                throw ReliabilityRawSocket.Failure(description: "PostgreSQL asked for a password; \(user) must be trusted")
            }
        }
        throw ReliabilityRawSocket.Failure(description: "PostgreSQL login: connection closed")
    }

    static func query(_ sql: String) -> [UInt8] { message("Q", cString(sql)) }
}
