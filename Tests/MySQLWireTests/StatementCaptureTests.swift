import NIOCore
import Testing

@testable import MySQLWire

@Suite struct StatementCaptureTests {
    /// COM_STMT_EXECUTE for statement 1 with `types` (type, unsigned) and already-encoded values.
    static func execute(nulls: [UInt8], types: [(UInt8, Bool)]?, values: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(0x17))
        buffer.writeInteger(UInt32(1), endianness: .little)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(1), endianness: .little)
        buffer.writeBytes(nulls)
        if let types {
            buffer.writeInteger(UInt8(1))
            for (type, unsigned) in types { buffer.writeBytes([type, unsigned ? 0x80 : 0]) }
        } else {
            buffer.writeInteger(UInt8(0))
        }
        buffer.writeBytes(values)
        return buffer
    }

    static func prepared(parameters: UInt16) -> MySQLStatementCapture {
        var capture = MySQLStatementCapture()
        capture.prepareSent(sql: "INSERT INTO t VALUES (?, ?, ?, ?, ?)", lane: "gray")
        capture.prepared(StmtPrepareOK(statementID: 1, numColumns: 0, numParams: parameters))
        return capture
    }

    @Test("an execute's binary values decode by type, NULLs come from the bitmap, and the types are remembered")
    func decodesValues() throws {
        var capture = Self.prepared(parameters: 5)
        var values: [UInt8] = []
        values += withUnsafeBytes(of: Int64(-5).littleEndian) { Array($0) }  // LONGLONG
        values += [3] + Array("abc".utf8)  // VAR_STRING, length-encoded
        values += withUnsafeBytes(of: (2.5 as Double).bitPattern.littleEndian) { Array($0) }  // DOUBLE
        values += [11, 0xE8, 0x07, 2, 29, 13, 14, 15, 0x40, 0xE2, 0x01, 0x00]  // DATETIME 2024-02-29 13:14:15.123456
        let firstDecoded = capture.execute(
            Self.execute(nulls: [0b0001_0000], types: [(0x08, false), (0xFD, false), (0x05, false), (0x0C, false), (0x06, false)], values: values),
            statement: 1)
        let first = try #require(firstDecoded)
        #expect(first.sql == "INSERT INTO t VALUES (?, ?, ?, ?, ?)" && first.lane == "gray")
        #expect(first.values == [.int(-5), .text("abc"), .double(2.5), .text("2024-02-29 13:14:15.123456"), .null])

        // Without new types the previous ones apply.
        let secondDecoded = capture.execute(
            Self.execute(nulls: [0b0001_1110], types: nil, values: withUnsafeBytes(of: UInt64.max) { Array($0) }), statement: 1)
        let second = try #require(secondDecoded)
        #expect(second.values == [.int(-1), .null, .null, .null, .null])
    }

    @Test("unsigned integers, TIME and long data decode faithfully")
    func unsignedTimeAndLongData() throws {
        var capture = Self.prepared(parameters: 3)
        var chunk = ByteBuffer()
        chunk.writeInteger(UInt8(0x18))
        chunk.writeInteger(UInt32(1), endianness: .little)
        chunk.writeInteger(UInt16(2), endianness: .little)
        chunk.writeBytes([0, 0xFF])
        capture.longData(chunk, statement: 1)
        var values: [UInt8] = withUnsafeBytes(of: UInt64.max.littleEndian) { Array($0) }
        values += [8, 1, 1, 0, 0, 0, 2, 3, 4]  // TIME -1 day 02:03:04
        let resultDecoded = capture.execute(
            Self.execute(nulls: [0], types: [(0x08, true), (0x0B, false), (0xFC, false)], values: values), statement: 1)
        let result = try #require(resultDecoded)
        #expect(result.values == [.unsigned(UInt64.max), .text("-26:03:04"), .bytes([0, 0xFF])])
    }

    @Test("an unknown statement, a truncated packet or a missing type list cannot be captured")
    func undecodable() {
        var capture = Self.prepared(parameters: 1)
        let noTypes = capture.execute(Self.execute(nulls: [0], types: nil, values: [1]), statement: 1)
        let truncated = capture.execute(Self.execute(nulls: [0], types: [(0x08, false)], values: [1, 2]), statement: 1)
        let unknown = capture.execute(Self.execute(nulls: [0], types: [(0x01, false)], values: [1]), statement: 9)
        #expect(noTypes == nil && truncated == nil && unknown == nil)
    }
}

@Suite struct MirroredLaneRefusalTests {
    @Test("in a mirrored lane LOAD DATA from a server file and XA are answered with an ERR naming the statement; other lanes are not affected")
    func refusesUncapturable() throws {
        var machine = Wire.commandPhase()
        machine.capturesStatements = true
        machine.mirroredLanes = ["base"]
        let action = machine.clientPacketReceived(Wire.query("LOAD DATA INFILE '/srv/x.csv' INTO TABLE t"))
        let packet = try #require(action.clientPacket)
        let err = try ERRPacket(payload: packet.payload)
        #expect(err.code == 1105)
        #expect(err.message.hasPrefix("shadowgate: refused in lane 'base', whose writes are mirrored (dual_write): LOAD DATA INFILE without LOCAL"))
        #expect(try ERRPacket(payload: #require(machine.clientPacketReceived(Wire.query("XA START 'x'")).clientPacket).payload)
            .message.contains("XA START is part of an XA transaction"))
        // The session is still usable: an ordinary write goes to the server.
        #expect(machine.clientPacketReceived(Wire.query("INSERT INTO t VALUES (1)")).backendPacket != nil)

        var gray = Wire.commandPhase(attributes: [("lane", "gray")])
        gray.capturesStatements = true
        gray.mirroredLanes = ["base"]
        // Gray is not mirrored: whatever its lane rules say, the dual-write refusal does not apply.
        if let packet = gray.clientPacketReceived(Wire.query("XA START 'x'")).clientPacket {
            #expect(try !ERRPacket(payload: packet.payload).message.contains("mirrored"))
        }
    }
}

@Suite struct MySQLLocalInfileCaptureTests {
    static func mirrored(limit: Int) -> MySQLSessionStateMachine {
        var machine = Wire.commandPhase()
        machine.capturesStatements = true
        machine.mirroredLanes = ["base"]
        machine.localInfileCaptureLimit = limit
        return machine
    }

    @Test("a mirrored LOAD DATA LOCAL INFILE passes the client's file to the server and reports it with the statement's outcome")
    func keepsFile() {
        var machine = Self.mirrored(limit: 64)
        #expect(machine.clientPacketReceived(Wire.query("LOAD DATA LOCAL INFILE 'x' INTO TABLE t")).backendPacket != nil)
        _ = machine.backendFrameReceived(Wire.frame([0xFB, 0x78], seq: 1))
        for (index, part) in ["1,a\n2", ",b\n"].enumerated() {
            let data = MySQLPacket(sequenceID: UInt8(2 + index), payload: ByteBuffer(string: part))
            #expect(machine.clientPacketReceived(data) == .sendToBackend(data))
        }
        _ = machine.clientPacketReceived(MySQLPacket(sequenceID: 4, payload: ByteBuffer()))
        _ = machine.backendFrameReceived(Wire.ok(seq: 5))
        let completion = machine.takeStatementCompletion()
        #expect(completion?.sql == "LOAD DATA LOCAL INFILE 'x' INTO TABLE t")
        #expect(completion?.localInfileData == Array("1,a\n2,b\n".utf8))
    }

    @Test("a mirrored LOAD DATA LOCAL INFILE over the capture limit is answered with an ERR naming the limit and the connection closes")
    func closesOverLimit() throws {
        var machine = Self.mirrored(limit: 8)
        _ = machine.clientPacketReceived(Wire.query("LOAD DATA LOCAL INFILE 'x' INTO TABLE t"))
        _ = machine.backendFrameReceived(Wire.frame([0xFB, 0x78], seq: 1))
        _ = machine.clientPacketReceived(MySQLPacket(sequenceID: 2, payload: ByteBuffer(string: "1,a\n")))
        let action = machine.clientPacketReceived(MySQLPacket(sequenceID: 3, payload: ByteBuffer(string: "2,bbbb\n")))
        guard case .sendToClientAndClose(let packet) = action else {
            Issue.record("the load over the limit did not close the connection: \(action)")
            return
        }
        #expect(packet.sequenceID == 4)
        #expect(try ERRPacket(payload: packet.payload).message.contains("captured up to 8 bytes per statement"))
    }

    @Test("a LOAD DATA LOCAL INFILE in a lane that is not mirrored keeps no copy of the file")
    func unmirroredKeepsNothing() {
        var machine = Self.mirrored(limit: 4)
        machine.mirroredLanes = ["gray"]
        _ = machine.clientPacketReceived(Wire.query("LOAD DATA LOCAL INFILE 'x' INTO TABLE t"))
        _ = machine.backendFrameReceived(Wire.frame([0xFB, 0x78], seq: 1))
        let data = MySQLPacket(sequenceID: 2, payload: ByteBuffer(string: "more than four bytes"))
        #expect(machine.clientPacketReceived(data) == .sendToBackend(data))
        _ = machine.clientPacketReceived(MySQLPacket(sequenceID: 3, payload: ByteBuffer()))
        _ = machine.backendFrameReceived(Wire.ok(seq: 4))
        #expect(machine.takeStatementCompletion()?.localInfileData == nil)
    }
}
