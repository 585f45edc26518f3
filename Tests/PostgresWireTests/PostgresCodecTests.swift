import NIOCore
import Testing

@testable import PostgresWire

@Suite("PostgreSQL codecs")
struct PostgresCodecTests {
    func startupPacket(code: Int32, _ body: [UInt8] = []) -> ByteBuffer {
        var b = ByteBuffer()
        b.writeInteger(Int32(8 + body.count))
        b.writeInteger(code)
        b.writeBytes(body)
        return b
    }

    @Test("SSLRequest, GSSENCRequest and CancelRequest are recognised by their codes")
    func specialStartupCodes() throws {
        var decoder = PostgresStartupDecoder()
        var ssl = startupPacket(code: 80_877_103)
        #expect(try decoder.decode(buffer: &ssl) == .sslRequest)
        var gss = startupPacket(code: 80_877_104)
        #expect(try decoder.decode(buffer: &gss) == .gssEncryptionRequest)
        var cancel = PostgresMessageEncoder.cancelRequest(processID: 42, secretKey: -7)
        #expect(try decoder.decode(buffer: &cancel) == .cancelRequest(processID: 42, secretKey: -7))
    }

    @Test("a StartupMessage round-trips with its parameters in order")
    func startupRoundTrip() throws {
        let message = StartupMessage(parameters: [("user", "shadow"), ("database", "mse_demo"), ("options", "-c a.b=1")])
        var bytes = PostgresMessageEncoder.startup(message)
        var decoder = PostgresStartupDecoder()
        #expect(try decoder.decode(buffer: &bytes) == .startup(message))
        #expect(bytes.readableBytes == 0)
    }

    @Test("an incomplete startup packet asks for more bytes")
    func startupIncomplete() throws {
        var bytes = PostgresMessageEncoder.startup(StartupMessage(parameters: [("user", "u")]))
        var partial = bytes.readSlice(length: 9)!
        var decoder = PostgresStartupDecoder()
        #expect(try decoder.decode(buffer: &partial) == nil)
    }

    @Test("startup packets shorter than 8 or longer than 10,000 bytes are errors", arguments: [Int32(4), 7, 10_001, -1])
    func startupLengthLimits(length: Int32) {
        var b = ByteBuffer()
        b.writeInteger(length)
        b.writeInteger(Int32(196608))
        var decoder = PostgresStartupDecoder()
        #expect(throws: PostgresWireError.self) { try decoder.decode(buffer: &b) }
    }

    @Test("a protocol major version other than 3 is rejected")
    func unsupportedVersion() {
        var b = startupPacket(code: 4 << 16, [0])
        var decoder = PostgresStartupDecoder()
        #expect(throws: PostgresWireError.self) { try decoder.decode(buffer: &b) }
    }

    @Test("startup parameters without a terminator are malformed")
    func unterminatedParameters() {
        var b = startupPacket(code: 3 << 16, Array("user".utf8))
        var decoder = PostgresStartupDecoder()
        #expect(throws: PostgresWireError.self) { try decoder.decode(buffer: &b) }
    }

    @Test("the frame decoder splits typed messages and waits for incomplete ones")
    func framing() throws {
        var stream = PostgresMessageEncoder.query(sql: Array("SELECT 1".utf8))
        var second = PostgresMessageEncoder.readyForQuery(status: UInt8(ascii: "I"))
        stream.writeBuffer(&second)
        var decoder = PostgresFrameDecoder(maximumMessageSize: 1024)
        let first = try #require(try decoder.decode(buffer: &stream))
        #expect(first.id == UInt8(ascii: "Q"))
        #expect(first.bytes.readableBytes == 5 + 9)
        var partial = stream.readSlice(length: 3)!
        #expect(try decoder.decode(buffer: &partial) == nil)
    }

    @Test("a message length below 4 closes the connection")
    func shortLength() {
        var b = ByteBuffer(bytes: [UInt8(ascii: "Q"), 0, 0, 0, 3])
        var decoder = PostgresFrameDecoder(maximumMessageSize: 1024)
        #expect(throws: PostgresWireError.self) { try decoder.decode(buffer: &b) }
    }

    @Test("a message above the configured maximum is refused before it is buffered")
    func oversizedMessage() {
        var b = ByteBuffer(bytes: [UInt8(ascii: "D"), 0x10, 0, 0, 0])
        var decoder = PostgresFrameDecoder(maximumMessageSize: 1 << 20)
        #expect {
            try decoder.decode(buffer: &b)
        } throws: { error in
            (error as? PostgresWireError)?.code == .messageTooLarge
        }
    }

    @Test("Parse, Bind, Execute, Describe and Close are parsed as far as the proxy needs")
    func frontendMessages() throws {
        var decoder = PostgresFrameDecoder(maximumMessageSize: 1024)
        var parse = PostgresMessageEncoder.parse(
            statement: "s1", sql: Array("SELECT $1".utf8), parameterTypes: ByteBuffer(bytes: [0, 1, 0, 0, 0, 23]))
        let parsed = try FrontendMessage(frame: #require(try decoder.decode(buffer: &parse)))
        guard case .parse(let name, let sql, let types) = parsed else {
            Issue.record("not a parse: \(parsed)")
            return
        }
        #expect(name == "s1")
        #expect(String(buffer: sql) == "SELECT $1")
        #expect(types.readableBytes == 6)

        var bind = PostgresMessageEncoder.bind(portal: "p", statement: "s1")
        #expect(try FrontendMessage(frame: #require(try decoder.decode(buffer: &bind))) == .bind(portal: "p", statement: "s1"))
        var execute = PostgresMessageEncoder.execute(portal: "p", maxRows: 10)
        #expect(try FrontendMessage(frame: #require(try decoder.decode(buffer: &execute))) == .execute(portal: "p", maxRows: 10))
        var close = PostgresMessageEncoder.describeOrClose(id: UInt8(ascii: "C"), kind: UInt8(ascii: "S"), name: "s1")
        #expect(
            try FrontendMessage(frame: #require(try decoder.decode(buffer: &close))) == .close(kind: UInt8(ascii: "S"), name: "s1"))
    }

    @Test("a Bind without its statement name is malformed")
    func malformedBind() throws {
        var b = ByteBuffer()
        b.writeInteger(UInt8(ascii: "B"))
        b.writeInteger(Int32(6))
        b.writeBytes([UInt8(ascii: "p"), 0])
        var decoder = PostgresFrameDecoder(maximumMessageSize: 1024)
        let frame = try #require(try decoder.decode(buffer: &b))
        #expect(throws: PostgresWireError.self) { try FrontendMessage(frame: frame) }
    }

    @Test("an ErrorResponse carries severity, SQLSTATE and message fields")
    func errorResponseFields() throws {
        var bytes = PostgresMessageEncoder.errorResponse(sqlState: "SG001", message: "refused", hint: "map it")
        var decoder = PostgresFrameDecoder(maximumMessageSize: 1024)
        let fields = try PostgresErrorFields(frame: #require(try decoder.decode(buffer: &bytes)))
        #expect(fields["S"] == "ERROR")
        #expect(fields["C"] == "SG001")
        #expect(fields["M"] == "refused")
        #expect(fields["H"] == "map it")
    }
}
