import Foundation

/// One malformed or hostile input for the containment matrix.
struct ContainmentCase: Sendable, CustomStringConvertible {
    enum Stage: Sendable {
        /// Right after TCP connect (MySQL: after the greeting was read).
        case beforeLogin
        /// After a successful login, in the command phase.
        case afterLogin
    }

    enum Expectation: Sendable {
        /// The proxy (or server) must close the connection within 1 s.
        case closes
        /// A protocol-level answer (error or result) or a close within 1 s; the connection may stay usable.
        case answersOrCloses
    }

    var name: String
    var stage: Stage
    var bytes: [UInt8]
    var expectation: Expectation
    /// Send EOF (shut down writing) after the bytes.
    var halfClose = false

    var description: String { name }
}

enum MySQLContainmentCases {
    typealias W = ReliabilityMySQLWire

    static func nested(_ depth: Int) -> String {
        "/* lane=gray */ SELECT " + String(repeating: "(", count: depth) + "1" + String(repeating: ")", count: depth)
            + " FROM mse_demo_table"
    }

    static let all: [ContainmentCase] = {
        let response = W.handshakeResponse(user: "rel_raw")
        var cases: [ContainmentCase] = [
            .init(name: "length beyond the maximum packet (16 MiB - 1 announced, 1 MiB limit)", stage: .beforeLogin,
                  bytes: W.header(length: 0xFFFFFF, sequence: 1) + [UInt8](repeating: 0x41, count: 65536), expectation: .closes),
            .init(name: "0xFFFFFF continuation then EOF", stage: .afterLogin,
                  bytes: W.header(length: 0xFFFFFF, sequence: 0) + [0x03] + [UInt8](repeating: 0x20, count: 4096),
                  expectation: .closes, halfClose: true),
            .init(name: "wrong sequence id in the handshake response", stage: .beforeLogin,
                  bytes: W.packet(response, sequence: 7), expectation: .closes),
            .init(name: "truncated handshake response (capabilities only)", stage: .beforeLogin,
                  bytes: W.packet(Array(response.prefix(5)), sequence: 1), expectation: .closes),
            .init(name: "handshake response cut mid-packet then EOF", stage: .beforeLogin,
                  bytes: W.header(length: response.count, sequence: 1) + response.prefix(12), expectation: .closes, halfClose: true),
            .init(name: "empty handshake response", stage: .beforeLogin, bytes: W.packet([], sequence: 1), expectation: .closes),
            .init(name: "garbage instead of a handshake response", stage: .beforeLogin,
                  bytes: W.packet((0..<200).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }, sequence: 1), expectation: .closes),
            .init(name: "user name without terminator", stage: .beforeLogin,
                  bytes: W.packet(Array(response.prefix(32)) + [UInt8](repeating: 0x75, count: 300), sequence: 1), expectation: .closes),
            .init(name: "SSL request when TLS was not offered", stage: .beforeLogin,
                  bytes: W.packet(Array(response.prefix(32)).enumerated().map { $0.offset == 1 ? $0.element | 0x08 : $0.element }, sequence: 1),
                  expectation: .closes),
            .init(name: "connection attributes with a broken length", stage: .beforeLogin,
                  bytes: W.packet(attributesResponse([0xFC, 0xFF, 0xFF, 3, 0x6C, 0x61]), sequence: 1), expectation: .closes),
            .init(name: "unknown lane in the connection attribute", stage: .beforeLogin,
                  bytes: W.packet(attributesResponse([9, 4] + Array("lane".utf8) + [3] + Array("zzz".utf8)), sequence: 1),
                  expectation: .closes),
            .init(name: "unknown command byte", stage: .afterLogin, bytes: W.packet([0xEE, 1, 2, 3], sequence: 0),
                  expectation: .answersOrCloses),
            .init(name: "COM_STMT_EXECUTE for an unknown statement id", stage: .afterLogin,
                  bytes: W.packet([0x17, 0x39, 0x30, 0, 0, 0, 1, 0, 0, 0], sequence: 0), expectation: .answersOrCloses),
            .init(name: "COM_STMT_EXECUTE truncated inside the statement id", stage: .afterLogin,
                  bytes: W.packet([0x17, 0x01], sequence: 0), expectation: .answersOrCloses),
            .init(name: "broken length-encoded integer (COM_CHANGE_USER)", stage: .afterLogin,
                  bytes: W.packet([0x11] + Array("rel_raw".utf8) + [0, 0xFE, 0xFF], sequence: 0), expectation: .answersOrCloses),
            .init(name: "invalid UTF-8 in COM_QUERY (base lane)", stage: .afterLogin,
                  bytes: W.packet([0x03] + Array("SELECT '".utf8) + [0xFF, 0xFE, 0xC3, 0x28] + Array("'".utf8), sequence: 0),
                  expectation: .answersOrCloses),
            .init(name: "invalid UTF-8 in COM_QUERY (gray lane, rewritten)", stage: .afterLogin,
                  bytes: W.packet([0x03] + Array("/* lane=gray */ SELECT '".utf8) + [0xFF, 0xC0, 0x80] + Array("' FROM mse_demo_table".utf8), sequence: 0),
                  expectation: .answersOrCloses),
            .init(name: "compressed packet although compression was not negotiated", stage: .afterLogin,
                  bytes: [0x10, 0, 0, 0, 0x0C, 0, 0] + W.packet([0x03] + Array("SELECT 1".utf8), sequence: 0), expectation: .answersOrCloses),
            .init(name: "wrong sequence id in the command phase", stage: .afterLogin,
                  bytes: W.packet([0x03] + Array("SELECT 1".utf8), sequence: 9), expectation: .answersOrCloses),
            .init(name: "empty command packet", stage: .afterLogin, bytes: W.packet([], sequence: 0), expectation: .answersOrCloses),
            .init(name: "10,000-deep parentheses in a rewritten statement", stage: .afterLogin,
                  bytes: W.query(nested(10_000)), expectation: .answersOrCloses),
            .init(name: "unterminated comment of 512 KiB in a rewritten statement", stage: .afterLogin,
                  bytes: W.query("/* lane=gray */ SELECT * FROM mse_demo_table /*" + String(repeating: "x", count: 512 * 1024)),
                  expectation: .answersOrCloses),
            .init(name: "COM_QUIT followed by garbage", stage: .afterLogin,
                  bytes: W.packet([0x01], sequence: 0) + [UInt8](repeating: 0xAB, count: 64), expectation: .closes),
            .init(name: "second fragment announcing more than the limit", stage: .afterLogin,
                  bytes: W.header(length: 0xFFFFFF, sequence: 0) + [0x03] + [UInt8](repeating: 0x20, count: 0xFFFFFE)
                      + W.header(length: 0xFFFFFF, sequence: 1) + [UInt8](repeating: 0x20, count: 1024),
                  expectation: .closes),
        ]
        cases = cases.filter { !$0.bytes.isEmpty }
        return cases
    }()

    /// A handshake response with CLIENT_CONNECT_ATTRS and the given raw attribute block.
    static func attributesResponse(_ attributes: [UInt8]) -> [UInt8] {
        var payload = W.handshakeResponse(user: "rel_raw")
        payload[2] |= 0x10  // CLIENT_CONNECT_ATTRS (1 << 20)
        return payload + attributes
    }
}

enum PostgresContainmentCases {
    typealias W = ReliabilityPostgresWire

    static let all: [ContainmentCase] = {
        let startup = W.startup([("user", "shadow_trust"), ("database", "mse_demo")])
        return [
            .init(name: "startup length below 8", stage: .beforeLogin, bytes: W.int32(4) + W.int32(196_608), expectation: .closes),
            .init(name: "startup length above 10,000", stage: .beforeLogin,
                  bytes: W.int32(20_000) + W.int32(196_608) + [UInt8](repeating: 0x61, count: 2000), expectation: .closes),
            .init(name: "unknown protocol version 9.9", stage: .beforeLogin,
                  bytes: W.startup([("user", "shadow_trust")], version: 0x0009_0009), expectation: .closes),
            .init(name: "SSLRequest then garbage", stage: .beforeLogin,
                  bytes: W.int32(8) + W.int32(80_877_103) + [UInt8](repeating: 0x16, count: 300), expectation: .closes),
            .init(name: "GSSENCRequest then garbage", stage: .beforeLogin,
                  bytes: W.int32(8) + W.int32(80_877_104) + [UInt8](repeating: 0x99, count: 300), expectation: .closes),
            .init(name: "CancelRequest with a key nobody issued", stage: .beforeLogin,
                  bytes: W.int32(16) + W.int32(80_877_102) + W.int32(4242) + W.int32(-1), expectation: .closes),
            .init(name: "startup without a user", stage: .beforeLogin, bytes: W.startup([("database", "mse_demo")]), expectation: .closes),
            .init(name: "startup parameters without terminators", stage: .beforeLogin,
                  bytes: W.int32(30) + W.int32(196_608) + Array("user\0shadow_trust_no_nul".utf8).prefix(22), expectation: .closes),
            .init(name: "unknown lane in the startup options", stage: .beforeLogin,
                  bytes: W.startup([("user", "shadow_trust"), ("database", "mse_demo"), ("options", "-c shadow.lane=zzz")]),
                  expectation: .closes),
            .init(name: "a query before authentication completes", stage: .beforeLogin,
                  bytes: W.startup([("user", "shadow"), ("database", "mse_demo")]) + W.query("SELECT 1"), expectation: .closes),
            .init(name: "startup then EOF", stage: .beforeLogin, bytes: Array(startup.prefix(10)), expectation: .closes, halfClose: true),
            .init(name: "message length below 4", stage: .afterLogin, bytes: [UInt8(ascii: "Q")] + W.int32(2), expectation: .closes),
            .init(name: "message length above 1 GiB", stage: .afterLogin,
                  bytes: [UInt8(ascii: "Q")] + W.int32(Int32.max) + Array("SELECT 1".utf8), expectation: .closes),
            .init(name: "Bind with more parameters than Parse declared", stage: .afterLogin,
                  bytes: W.message("P", W.cString("") + W.cString("SELECT $1::int") + W.int16(1) + W.int32(23))
                      + W.message("B", W.cString("") + W.cString("") + W.int16(0) + W.int16(3)
                          + [W.int32(1) + [0x31], W.int32(1) + [0x32], W.int32(1) + [0x33]].flatMap { $0 } + W.int16(0))
                      + W.message("E", W.cString("") + W.int32(0)) + W.message("S", []),
                  expectation: .answersOrCloses),
            .init(name: "CopyData outside COPY", stage: .afterLogin,
                  bytes: W.message("d", Array("1\tx\n".utf8)) + W.message("c", []) + W.query("SELECT 1"), expectation: .answersOrCloses),
            .init(name: "unknown message type", stage: .afterLogin, bytes: W.message("!", [1, 2, 3]), expectation: .answersOrCloses),
            .init(name: "Execute of a portal that does not exist", stage: .afterLogin,
                  bytes: W.message("E", W.cString("nosuchportal") + W.int32(0)) + W.message("S", []), expectation: .answersOrCloses),
            .init(name: "Bind to a statement that does not exist", stage: .afterLogin,
                  bytes: W.message("B", W.cString("") + W.cString("nosuchstmt") + W.int16(0) + W.int16(0) + W.int16(0))
                      + W.message("S", []), expectation: .answersOrCloses),
            .init(name: "Query without a terminator", stage: .afterLogin,
                  bytes: W.message("Q", Array("SELECT 1".utf8)), expectation: .answersOrCloses),
            .init(name: "Parse declaring 30,000 parameter types with none sent", stage: .afterLogin,
                  bytes: W.message("P", W.cString("") + W.cString("SELECT 1") + W.int16(30_000)) + W.message("S", []),
                  expectation: .answersOrCloses),
            .init(name: "Describe with an invalid kind", stage: .afterLogin,
                  bytes: W.message("D", [UInt8(ascii: "Z")] + W.cString("x")) + W.message("S", []), expectation: .answersOrCloses),
            .init(name: "invalid UTF-8 in a rewritten query", stage: .afterLogin,
                  bytes: W.message("Q", Array("/* lane=gray */ SELECT '".utf8) + [0xFF, 0xC0, 0x80] + Array("' FROM mse_demo_table".utf8) + [0]),
                  expectation: .answersOrCloses),
            .init(name: "10,000-deep parentheses in a rewritten query", stage: .afterLogin,
                  bytes: W.query(MySQLContainmentCases.nested(10_000)), expectation: .answersOrCloses),
            .init(name: "FunctionCall by OID in a lane", stage: .afterLogin,
                  bytes: W.query("SET shadow.lane = 'gray'") + W.message("F", W.int32(1299) + W.int16(0) + W.int16(0) + W.int16(0)),
                  expectation: .answersOrCloses),
            .init(name: "Terminate followed by garbage", stage: .afterLogin,
                  bytes: W.message("X", []) + [UInt8](repeating: 0x42, count: 100), expectation: .closes),
        ]
    }()
}
