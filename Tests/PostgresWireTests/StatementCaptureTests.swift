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
    @Test("in a mirrored lane COPY … FROM a server file is replaced by a stand-in and answered with an ErrorResponse naming it")
    func refusesCopyFrom() throws {
        var m = PostgresSessionStateMachineTests.ready()
        m.mirroredLanes = ["base"]
        let query = PostgresMessageEncoder.query(sql: Array("COPY t FROM '/srv/t.csv'".utf8))
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

@Suite struct PostgresCopyCaptureTests {
    static func copyData(_ text: String) -> PostgresFrame {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(ascii: "d"))
        buffer.writeInteger(Int32(4 + text.utf8.count))
        buffer.writeString(text)
        return PostgresSessionStateMachineTests.frame(buffer)
    }

    static func copyDone() -> PostgresFrame {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(ascii: "c"))
        buffer.writeInteger(Int32(4))
        return PostgresSessionStateMachineTests.frame(buffer)
    }

    static func capturing(limit: Int) -> PostgresSessionStateMachine {
        var m = PostgresSessionStateMachineTests.ready()
        var capture = PostgresStatementCapture()
        capture.copyLimit = limit
        m.capture = capture
        m.mirroredLanes = ["base"]
        return m
    }

    @Test("a COPY FROM STDIN in a mirrored lane is forwarded and its CopyData is kept with the statement, in order")
    func keepsCopyData() {
        var m = Self.capturing(limit: 1024)
        let query = PostgresMessageEncoder.query(sql: Array("COPY t FROM STDIN".utf8))
        guard case .forward = m.frontendFrameReceived(PostgresSessionStateMachineTests.frame(query)) else {
            Issue.record("COPY FROM STDIN was not forwarded")
            return
        }
        _ = m.backendFrameReceived(PostgresSessionStateMachineTests.backend("G", [0, 0, 0]))
        for part in ["1\ta\n2", "\tb\n"] {
            guard case .forward = m.frontendFrameReceived(Self.copyData(part)) else {
                Issue.record("CopyData was not forwarded")
                return
            }
        }
        guard case .forward = m.frontendFrameReceived(Self.copyDone()) else {
            Issue.record("CopyDone was not forwarded")
            return
        }
        _ = m.backendFrameReceived(PostgresSessionStateMachineTests.backend("C", Array("COPY 2\0".utf8)))
        _ = m.backendFrameReceived(PostgresSessionStateMachineTests.backend("Z", [UInt8(ascii: "I")]))
        let batch = m.takeCapturedBatch()
        #expect(batch?.statements.map(\.sql) == ["COPY t FROM STDIN"])
        #expect(batch?.statements.first?.copyData == Array("1\ta\n2\tb\n".utf8))
    }

    @Test("CopyData beyond the capture limit fails the COPY on the server with CopyFail naming the limit; the client's remaining copy messages are dropped")
    func failsOverLimit() {
        var m = Self.capturing(limit: 8)
        let query = PostgresMessageEncoder.query(sql: Array("COPY t FROM STDIN".utf8))
        _ = m.frontendFrameReceived(PostgresSessionStateMachineTests.frame(query))
        _ = m.backendFrameReceived(PostgresSessionStateMachineTests.backend("G", [0, 0, 0]))
        guard case .forward = m.frontendFrameReceived(Self.copyData("1\ta\n")) else {
            Issue.record("CopyData within the limit was not forwarded")
            return
        }
        guard case .send(let fail) = m.frontendFrameReceived(Self.copyData("2\tbbbb\n")) else {
            Issue.record("CopyData over the limit did not fail the COPY")
            return
        }
        #expect(fail.getInteger(at: fail.readerIndex, as: UInt8.self) == UInt8(ascii: "f"))
        #expect(String(buffer: fail).contains("captured up to 8 bytes per statement (replay_log.max_copy_bytes)"))
        guard case .discard = m.frontendFrameReceived(Self.copyData("3\tc\n")), case .discard = m.frontendFrameReceived(Self.copyDone()) else {
            Issue.record("copy messages after the CopyFail were not dropped")
            return
        }
        _ = m.backendFrameReceived(PostgresSessionStateMachineTests.frame(PostgresMessageEncoder.errorResponse(sqlState: "57014", message: "COPY from stdin failed")))
        _ = m.backendFrameReceived(PostgresSessionStateMachineTests.backend("Z", [UInt8(ascii: "I")]))
        #expect(m.takeCapturedBatch()?.statements.first?.failed == true)
        // The next query is handled normally.
        let next = PostgresMessageEncoder.query(sql: Array("SELECT 1".utf8))
        guard case .forward = m.frontendFrameReceived(PostgresSessionStateMachineTests.frame(next)) else {
            Issue.record("the query after the failed COPY was not forwarded")
            return
        }
    }

    @Test("a COPY FROM STDIN in a lane that is not mirrored keeps no data")
    func unmirroredLaneKeepsNothing() {
        var m = Self.capturing(limit: 4)
        m.mirroredLanes = ["gray"]
        _ = m.frontendFrameReceived(PostgresSessionStateMachineTests.frame(PostgresMessageEncoder.query(sql: Array("COPY t FROM STDIN".utf8))))
        _ = m.backendFrameReceived(PostgresSessionStateMachineTests.backend("G", [0, 0, 0]))
        guard case .forward = m.frontendFrameReceived(Self.copyData("1\tmore than four bytes\n")) else {
            Issue.record("CopyData of an unmirrored lane was not forwarded")
            return
        }
        _ = m.frontendFrameReceived(Self.copyDone())
        _ = m.backendFrameReceived(PostgresSessionStateMachineTests.backend("C", Array("COPY 1\0".utf8)))
        _ = m.backendFrameReceived(PostgresSessionStateMachineTests.backend("Z", [UInt8(ascii: "I")]))
        #expect(m.takeCapturedBatch()?.statements.first?.copyData == nil)
    }
}
