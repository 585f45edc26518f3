import NIOCore
import Testing

@testable import PostgresWire

@Suite struct PostgresStatementCaptureTests {
    static func bind(formats: [Int16], values: [[UInt8]?]) -> ByteBuffer {
        var body = ByteBuffer()
        body.writeBytes(Array("p1".utf8) + [0] + Array("s1".utf8) + [0])
        body.writeInteger(Int16(formats.count))
        for format in formats { body.writeInteger(format) }
        body.writeInteger(Int16(values.count))
        for value in values {
            if let value {
                body.writeInteger(Int32(value.count))
                body.writeBytes(value)
            } else {
                body.writeInteger(Int32(-1))
            }
        }
        body.writeInteger(Int16(0))
        return body
    }

    @Test("Bind values decode as text, binary or NULL following the format codes")
    func bindValues() {
        #expect(PostgresStatementCapture.parameters(ofBind: Self.bind(formats: [], values: [Array("42".utf8), nil])) == [.text("42"), .null])
        #expect(PostgresStatementCapture.parameters(ofBind: Self.bind(formats: [1], values: [[0, 0, 0, 7], [1]])) == [.binary([0, 0, 0, 7]), .binary([1])])
        #expect(PostgresStatementCapture.parameters(ofBind: Self.bind(formats: [0, 1], values: [Array("x".utf8), [9]])) == [.text("x"), .binary([9])])
    }

    @Test("a truncated Bind yields nothing instead of trapping")
    func truncated() {
        var body = Self.bind(formats: [], values: [Array("42".utf8)])
        body.moveWriterIndex(to: body.writerIndex - 4)
        #expect(PostgresStatementCapture.parameters(ofBind: body) == nil)
    }
}

@Suite struct PostgresMirroredLaneRefusalTests {
    @Test("in a mirrored lane COPY … FROM is replaced by a stand-in and answered with an ErrorResponse naming it")
    func refusesCopyFrom() throws {
        var m = PostgresSessionStateMachineTests.ready()
        m.mirroredLanes = ["base"]
        let query = PostgresMessageEncoder.query(sql: Array("COPY t FROM STDIN".utf8))
        guard case .send(let sent) = m.frontendFrameReceived(PostgresSessionStateMachineTests.frame(query)) else {
            Issue.record("COPY FROM was not replaced")
            return
        }
        #expect(String(buffer: sent).contains(String(decoding: PostgresSessionStateMachine.refusedStandIn, as: UTF8.self)))
        let serverError = PostgresMessageEncoder.errorResponse(sqlState: "42601", message: "syntax error")
        guard case .replace(let answer) = m.backendFrameReceived(PostgresSessionStateMachineTests.frame(serverError)) else {
            Issue.record("the server's error was not replaced by the refusal")
            return
        }
        #expect(String(buffer: answer).contains("refused in lane base, whose writes are mirrored (dual_write): COPY … FROM"))

        // COPY … TO is a read: forwarded.
        _ = m.backendFrameReceived(PostgresSessionStateMachineTests.backend("Z", [UInt8(ascii: "I")]))
        let read = PostgresMessageEncoder.query(sql: Array("COPY t TO STDOUT".utf8))
        guard case .forward = m.frontendFrameReceived(PostgresSessionStateMachineTests.frame(read)) else {
            Issue.record("COPY TO was not forwarded")
            return
        }
    }
}
