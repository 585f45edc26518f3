@testable import MySQLWire
import NIOCore
import ShadowConfig
import Testing

@Suite struct SessionHandshakeTests {
    func fresh(clientTLS: Bool = false) -> MySQLSessionStateMachine {
        MySQLSessionStateMachine(settings: .init(listener: Wire.listener, clientTLS: clientTLS), routing: Wire.routing())
    }

    @Test("the server greeting is relayed to the client with unsupported capabilities masked")
    func relaysMaskedGreeting() throws {
        var machine = fresh()
        let action = machine.backendGreetingReceived(MySQLFrame(sequenceID: 0, payload: Wire.greeting()))
        let packet = try #require(action.clientPacket)
        let caps = try HandshakeV10(payload: packet.payload).capabilities
        #expect(!caps.contains(.compress) && !caps.contains(.ssl) && !caps.contains(.queryAttributes))
    }

    @Test("a malformed greeting closes the connection with a protocol error")
    func malformedGreeting() {
        var machine = fresh()
        let action = machine.backendGreetingReceived(Wire.frame([10, 0x41], seq: 0))
        guard case .closeConnection = action else { Issue.record("expected close, got \(action)"); return }
    }

    @Test("the handshake response is forwarded with masked capabilities and the login completes on OK")
    func plainHandshake() throws {
        var machine = fresh()
        _ = machine.backendGreetingReceived(MySQLFrame(sequenceID: 0, payload: Wire.greeting()))
        var response = Wire.response()
        response.capabilities.insert(.compress)
        let forwarded = try #require(machine.clientPacketReceived(MySQLPacket(sequenceID: 1, payload: response.encode())).backendPacket)
        #expect(forwarded.sequenceID == 1)
        #expect(try !HandshakeResponse41(payload: forwarded.payload).capabilities.contains(.compress))
        #expect(machine.backendFrameReceived(Wire.ok(seq: 2)).clientPacket?.sequenceID == 2)
        #expect(machine.isCommandPhase)
    }

    @Test("after an SSLRequest the client's sequence ids are one ahead of the server's and are translated")
    func tlsSequenceTranslation() throws {
        var machine = fresh(clientTLS: true)
        _ = machine.backendGreetingReceived(MySQLFrame(sequenceID: 0, payload: Wire.greeting()))
        var response = Wire.response()
        response.capabilities.insert(.ssl)
        #expect(machine.clientPacketReceived(MySQLPacket(sequenceID: 1, payload: SSLRequest.encode(from: response))) == .startClientTLS)
        let forwarded = try #require(machine.clientPacketReceived(MySQLPacket(sequenceID: 2, payload: response.encode())).backendPacket)
        #expect(forwarded.sequenceID == 1)
        #expect(try !HandshakeResponse41(payload: forwarded.payload).capabilities.contains(.ssl))
        // Auth switch from the server (seq 2) reaches the client as seq 3; the client's answer (4) goes out as 3.
        let switchRequest = AuthSwitchRequest(pluginName: "client_ed25519", pluginData: Array(1...32))
        #expect(machine.backendFrameReceived(MySQLFrame(sequenceID: 2, payload: switchRequest.encode())).clientPacket?.sequenceID == 3)
        #expect(machine.clientPacketReceived(MySQLPacket(sequenceID: 4, payload: ByteBuffer(repeating: 1, count: 64))).backendPacket?.sequenceID == 3)
        // caching_sha2 fast-auth success (0x01 0x03) is relayed, then the OK.
        #expect(machine.backendFrameReceived(Wire.frame([0x01, 0x03], seq: 4)).clientPacket?.sequenceID == 5)
        #expect(machine.backendFrameReceived(Wire.ok(seq: 5)).clientPacket?.sequenceID == 6)
        #expect(machine.isCommandPhase)
    }

    @Test("an SSLRequest to a listener without TLS closes the connection")
    func sslWithoutTLS() {
        var machine = fresh()
        _ = machine.backendGreetingReceived(MySQLFrame(sequenceID: 0, payload: Wire.greeting()))
        var response = Wire.response()
        response.capabilities.insert(.ssl)
        guard case .closeConnection = machine.clientPacketReceived(MySQLPacket(sequenceID: 1, payload: SSLRequest.encode(from: response))) else {
            Issue.record("expected close"); return
        }
    }

    @Test("an unknown lane in the connection attribute is answered with an ERR naming the lanes, then closed")
    func unknownLane() throws {
        var machine = fresh()
        _ = machine.backendGreetingReceived(MySQLFrame(sequenceID: 0, payload: Wire.greeting()))
        let action = machine.clientPacketReceived(MySQLPacket(sequenceID: 1, payload: Wire.response(attributes: [("lane", "purple")]).encode()))
        guard case .sendToClientAndClose(let packet) = action else { Issue.record("got \(action)"); return }
        #expect(packet.sequenceID == 2)
        let err = try ERRPacket(payload: packet.payload)
        #expect(err.message.contains("unknown lane 'purple'") && err.message.contains("base, gray, db, remote"))
    }

    @Test("the connection attribute and the login user choose the connection lane; the database follows the lane's map")
    func connectionLane() throws {
        var machine = fresh()
        _ = machine.backendGreetingReceived(MySQLFrame(sequenceID: 0, payload: Wire.greeting()))
        let forwarded = try #require(machine.clientPacketReceived(MySQLPacket(sequenceID: 1, payload: Wire.response(attributes: [("lane", "db")]).encode())).backendPacket)
        #expect(machine.connectionLane?.name == "db")
        #expect(try HandshakeResponse41(payload: forwarded.payload).database == "mse_demo_db")
        #expect(Wire.commandPhase(user: "gray_app").connectionLane?.name == "gray")
        #expect(Wire.commandPhase(attributes: [("lane", "base")], user: "gray_app").connectionLane == nil)
    }

    @Test("a lane with its own server: connect there, auth-switch the client to its scramble, forward the new response")
    func laneServerAtHandshake() throws {
        var machine = fresh()
        _ = machine.backendGreetingReceived(MySQLFrame(sequenceID: 0, payload: Wire.greeting()))
        let response = Wire.response(attributes: [("lane", "remote")])
        #expect(machine.clientPacketReceived(MySQLPacket(sequenceID: 1, payload: response.encode())) == .connectLaneBackend(Endpoint(host: "10.0.0.2", port: 3306)))
        let laneGreeting = Wire.greeting(scramble: Array(100...131), plugin: "client_ed25519")
        let switchPacket = try #require(machine.laneBackendGreetingReceived(MySQLFrame(sequenceID: 0, payload: laneGreeting)).clientPacket)
        #expect(switchPacket.sequenceID == 2)
        let request = try AuthSwitchRequest(payload: switchPacket.payload)
        #expect(request.pluginName == "client_ed25519")
        #expect(request.pluginData == Array(100...131))
        let signature = [UInt8](repeating: 0x5A, count: 64)
        let forwarded = try #require(machine.clientPacketReceived(MySQLPacket(sequenceID: 3, payload: ByteBuffer(bytes: signature))).backendPacket)
        #expect(forwarded.sequenceID == 1)
        let sent = try HandshakeResponse41(payload: forwarded.payload)
        #expect(sent.authResponse == signature)
        #expect(sent.authPluginName == "client_ed25519")
        #expect(sent.username == "app" && sent.attribute("lane") == "remote" && sent.database == "mse_demo")
        #expect(machine.backendFrameReceived(Wire.ok(seq: 2)).clientPacket?.sequenceID == 4)
        #expect(machine.backend == Endpoint(host: "10.0.0.2", port: 3306))
    }

    @Test("an unreachable backend before the greeting is reported as error 1429 without SQLSTATE")
    func unreachable() throws {
        var machine = fresh()
        let action = machine.backendUnreachable(Endpoint(host: "10.0.0.1", port: 3306), reason: "refused")
        guard case .sendToClientAndClose(let packet) = action else { Issue.record("got \(action)"); return }
        #expect(packet.sequenceID == 0)
        #expect(packet.payload.getBytes(at: 0, length: 3) == [0xFF, 0x95, 0x05])
        #expect(packet.payload.getString(at: 3, length: packet.payload.readableBytes - 3)?.contains("10.0.0.1:3306") == true)
    }
}

@Suite struct SessionCommandTests {
    @Test("a base-lane query is forwarded as the same packet and a result set ending in OK completes it")
    func baseQueryAndResultSet() {
        var machine = Wire.commandPhase()
        let query = Wire.query("SELECT a FROM t")
        #expect(machine.clientPacketReceived(query) == .sendToBackend(query))
        #expect(!machine.isIdle)
        let frames = [Wire.frame([1], seq: 1), Wire.frame([3, 0x64, 0x65, 0x66], seq: 2), Wire.frame([1, 0x41], seq: 3), Wire.frame([1, 0x42], seq: 4)]
        for frame in frames { #expect(machine.backendFrameReceived(frame) == .forwardToClient(frame)) }
        #expect(!machine.isIdle)
        _ = machine.backendFrameReceived(Wire.ok(status: [.autocommit, .inTransaction], header: 0xFE, seq: 5))
        #expect(machine.isIdle)
        #expect(machine.inTransaction)
    }

    /// Frames as the server sends them: header (length, sequence id) and payload, back to back.
    static func raw(_ frames: [MySQLFrame], then tail: [UInt8] = []) -> ByteBuffer {
        var bytes = ByteBuffer()
        for frame in frames {
            MySQLFrame.writeHeader(length: frame.payload.readableBytes, sequenceID: frame.sequenceID, into: &bytes)
            bytes.writeImmutableBuffer(frame.payload)
        }
        bytes.writeBytes(tail)
        return bytes
    }

    @Test("a whole result set, from its column count to the OK that ends it, is taken as one run of raw bytes")
    func answerRunTakesAWholeResultSet() {
        var machine = Wire.commandPhase()
        _ = machine.clientPacketReceived(Wire.query("SELECT a FROM t"))
        let head = [Wire.frame([1], seq: 1), Wire.frame([3, 0x64, 0x65, 0x66], seq: 2)]
        let rows = [Wire.frame([1, 0x41], seq: 3), Wire.frame([0xFB], seq: 4), Wire.frame([2, 0x42, 0x43], seq: 5)]
        let end = Wire.ok(status: [.autocommit, .inTransaction], header: 0xFE, seq: 6)
        // A partial frame after the end stays for later.
        var received = Self.raw(head + rows + [end], then: [9, 0, 0])
        let run = machine.backendAnswerRun(received)
        #expect(run.length == received.readableBytes - 3)
        #expect(run.completed)
        #expect(machine.isIdle)
        #expect(machine.inTransaction)
        #expect(machine.completedAnswers == 1)
        received.moveReaderIndex(forwardBy: run.length)
        #expect(machine.backendAnswerRun(received).length == 0, "nothing is expected once the answer is complete")
    }

    @Test("an answer arriving in pieces is taken run by run, each up to its last whole frame")
    func answerRunAcrossReads() {
        var machine = Wire.commandPhase()
        _ = machine.clientPacketReceived(Wire.query("SELECT a FROM t"))
        let first = Self.raw([Wire.frame([1], seq: 1), Wire.frame([3, 0x64, 0x65, 0x66], seq: 2)], then: [2, 0, 0, 3, 1])
        #expect(machine.backendAnswerRun(first) == (13, false))
        #expect(!machine.isIdle)
        let second = Self.raw([Wire.frame([1, 0x41], seq: 3), Wire.ok(header: 0xFE, seq: 4)])
        #expect(machine.backendAnswerRun(second) == (second.readableBytes, true))
        #expect(machine.isIdle)
    }

    @Test("an answer run stops before an incomplete frame, a packet of 16 MiB or more, an empty frame and a malformed column count")
    func answerRunStopsBeforeAnythingUnusual() {
        var machine = Wire.readingRows()
        let row = Wire.frame([1, 0x41], seq: 3)
        #expect(machine.backendAnswerRun(Self.raw([row], then: [2, 0, 0, 4, 1])).length == 6, "a frame whose payload has not all arrived")
        #expect(machine.backendAnswerRun(Self.raw([row], then: [0xFF, 0xFF, 0xFF, 4, 0xFE])).length == 6, "the first frame of a split packet")
        #expect(machine.backendAnswerRun(Self.raw([row, Wire.frame([], seq: 4), row])).length == 6)
        // Binary rows start with 0x00.
        #expect(machine.backendAnswerRun(Self.raw([Wire.frame([0x00, 0x00, 0x01], seq: 3), row])).length == 13)
        var fresh = Wire.commandPhase()
        _ = fresh.clientPacketReceived(Wire.query("SELECT a FROM t"))
        #expect(fresh.backendAnswerRun(Self.raw([Wire.frame([0xFC, 0x01, 0x00], seq: 1)])).length == 0, "a two-byte column count goes frame by frame")
        #expect(fresh.backendAnswerRun(Self.raw([Wire.frame([0xFB, 0x66], seq: 1)])).length == 0, "a LOCAL INFILE request goes frame by frame")
    }

    @Test("an ERR ends an answer run, in the rows and as the first packet, and completes the answer")
    func answerRunEndsAtAnError() {
        var machine = Wire.readingRows()
        let row = Wire.frame([1, 0x41], seq: 3)
        let err = MySQLFrame(sequenceID: 4, payload: ERRPacket(code: 1317, sqlState: "70100", message: "interrupted").encode())
        #expect(machine.backendAnswerRun(Self.raw([row, err, row])) == (6 + 4 + err.payload.readableBytes, true))
        #expect(machine.isIdle)
        _ = machine.clientPacketReceived(Wire.query("SELECT nothing"))
        #expect(machine.backendAnswerRun(Self.raw([MySQLFrame(sequenceID: 1, payload: err.payload)])).completed)
        #expect(machine.isIdle)
    }

    @Test("an answer run stops before the end of an answer whose completion needs more than its status")
    func answerRunLeavesCompletionsThatNeedThePacket() {
        var machine = Wire.commandPhase()
        machine.capturesStatements = true
        _ = machine.clientPacketReceived(Wire.query("SELECT a FROM t"))
        let ok = Wire.ok(seq: 1)
        #expect(machine.backendAnswerRun(Self.raw([ok])).length == 0, "dual-write needs the OK's last insert id")
        var reset = Wire.commandPhase()
        _ = reset.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: ByteBuffer(bytes: [MySQLCommand.resetConnection.rawValue])))
        #expect(reset.backendAnswerRun(Self.raw([ok])).length == 0, "a reset is applied when its OK is decoded")
        var prepare = Wire.commandPhase()
        _ = prepare.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: TextCommand.encode(.stmtPrepare, text: Array("SELECT 1".utf8))))
        #expect(prepare.backendAnswerRun(Self.raw([ok])).length == 0, "a prepare's answer goes frame by frame")
    }

    @Test("without CLIENT_DEPRECATE_EOF an answer run passes the EOF after the definitions and ends at the EOF after the rows")
    func answerRunWithEOF() {
        var machine = Wire.commandPhase(deprecateEOF: false)
        _ = machine.clientPacketReceived(Wire.query("SELECT a, b FROM t"))
        let definitions = [Wire.frame([2], seq: 1), Wire.frame([3, 0x64, 0x65, 0x66], seq: 2), Wire.frame([0xFE, 0x64], seq: 3)]
        let columnsEOF = MySQLFrame(sequenceID: 4, payload: EOFPacket(status: [.autocommit]).encode())
        let row = Wire.frame([1, 0x31], seq: 5)
        // A row may start with 0xFE when it is 9 bytes or longer; only a shorter one is the EOF.
        let longRow = Wire.frame([0xFE] + Array(repeating: 0x41, count: 9), seq: 6)
        let eof = MySQLFrame(sequenceID: 7, payload: EOFPacket(status: [.autocommit, .inTransaction]).encode())
        let received = Self.raw(definitions + [columnsEOF, row, longRow, eof])
        #expect(machine.backendAnswerRun(received) == (received.readableBytes, true))
        #expect(machine.isIdle)
        #expect(machine.inTransaction)
    }

    @Test("an OK with SERVER_MORE_RESULTS_EXISTS continues the run into the next result of a multi-statement")
    func answerRunAcrossMultiResults() {
        var machine = Wire.commandPhase()
        _ = machine.clientPacketReceived(Wire.query("UPDATE t SET a = 1; SELECT a FROM t"))
        let frames = [
            Wire.ok(status: [.autocommit, .moreResultsExist], seq: 1), Wire.frame([1], seq: 2),
            Wire.frame([3, 0x64, 0x65, 0x66], seq: 3), Wire.frame([1, 0x41], seq: 4), Wire.ok(header: 0xFE, seq: 5),
        ]
        let received = Self.raw(frames)
        #expect(machine.backendAnswerRun(received) == (received.readableBytes, true))
        #expect(machine.isIdle)
    }

    @Test("for any split of any answer, runs plus frame-by-frame decoding end in the same state as frame-by-frame alone")
    func answerRunMatchesFrameByFrame() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<400 {
            let deprecateEOF = Bool.random(using: &generator)
            let frames = Self.randomAnswer(deprecateEOF: deprecateEOF, using: &generator)
            var reference = Wire.commandPhase(deprecateEOF: deprecateEOF)
            _ = reference.clientPacketReceived(Wire.query("SELECT a FROM t"))
            var candidate = reference
            for frame in frames { _ = reference.backendFrameReceived(frame) }
            // Deliver the answer's bytes in random pieces, as reads would.
            let bytes = Self.raw(frames)
            var pending = ByteBuffer()
            var decoder = MySQLFrameDecoder()
            var offset = 0
            while offset < bytes.readableBytes {
                let size = Int.random(in: 1...max(1, bytes.readableBytes - offset), using: &generator)
                pending.writeImmutableBuffer(bytes.getSlice(at: offset, length: size)!)
                offset += size
                while true {
                    let run = candidate.backendAnswerRun(pending)
                    pending.moveReaderIndex(forwardBy: run.length)
                    guard let frame = try? decoder.decode(buffer: &pending) else { break }
                    _ = candidate.backendFrameReceived(frame)
                }
            }
            #expect(pending.readableBytes == 0)
            #expect(candidate.isIdle == reference.isIdle)
            #expect(candidate.inTransaction == reference.inTransaction)
            #expect(candidate.completedAnswers == reference.completedAnswers)
            #expect(candidate.tracker == reference.tracker, "frames: \(frames.map { Array($0.payload.readableBytesView) })")
        }
    }

    /// One server answer to a text query: an OK, an ERR, or result sets (chained with SERVER_MORE_RESULTS_EXISTS)
    /// with random definitions and rows, some of them starting with the bytes that mean something elsewhere.
    static func randomAnswer(deprecateEOF: Bool, using generator: inout SystemRandomNumberGenerator) -> [MySQLFrame] {
        var frames: [MySQLFrame] = []
        var seq: UInt8 = 1
        func add(_ payload: ByteBuffer) { frames.append(MySQLFrame(sequenceID: seq, payload: payload)); seq &+= 1 }
        let results = Int.random(in: 1...3, using: &generator)
        for index in 0..<results {
            var status: MySQLServerStatus = Bool.random(using: &generator) ? [.autocommit] : [.autocommit, .inTransaction]
            if index < results - 1 { status.insert(.moreResultsExist) }
            switch Int.random(in: 0..<5, using: &generator) {
            case 0:
                add(OKPacket(affectedRows: UInt64.random(in: 0...70_000, using: &generator), lastInsertID: UInt64.random(in: 0...1 << 40, using: &generator), status: status).encode())
            case 1 where index == results - 1:
                add(ERRPacket(code: 1146, sqlState: "42S02", message: "no such table").encode())
            default:
                let columns = Int.random(in: 1...3, using: &generator)
                add(ByteBuffer(bytes: [UInt8(columns)]))
                for _ in 0..<columns { add(ByteBuffer(bytes: [0xFE, 0x64] + Array(repeating: 0x41, count: Int.random(in: 0...12, using: &generator)))) }
                if !deprecateEOF { add(EOFPacket(status: status.subtracting(.moreResultsExist)).encode()) }
                for _ in 0..<Int.random(in: 0...4, using: &generator) {
                    let first: UInt8 = [0x00, 0x01, 0xFB, 0xFE, 0x41].randomElement(using: &generator)!
                    // A row starting 0xFE is at least 9 bytes long (a row that short would read as the end).
                    let length = first == 0xFE ? Int.random(in: 9...20, using: &generator) : Int.random(in: 1...20, using: &generator)
                    add(ByteBuffer(bytes: [first] + Array(repeating: 0x42, count: length - 1)))
                }
                if Int.random(in: 0..<8, using: &generator) == 0 && index == results - 1 {
                    add(ERRPacket(code: 1317, sqlState: "70100", message: "interrupted").encode())
                } else if deprecateEOF {
                    add(OKPacket(status: status).encode(header: 0xFE))
                } else {
                    add(EOFPacket(status: status).encode())
                }
            }
            if frames.last.map({ $0.payload.getInteger(at: $0.payload.readerIndex, as: UInt8.self) == ERRPacket.header }) == true { break }
        }
        return frames
    }

    @Test("without CLIENT_DEPRECATE_EOF a result set ends at the second EOF")
    func eofResultSet() {
        var machine = Wire.commandPhase(deprecateEOF: false)
        _ = machine.clientPacketReceived(Wire.query("SELECT 1"))
        let eof = MySQLFrame(sequenceID: 3, payload: EOFPacket(status: [.autocommit]).encode())
        for frame in [Wire.frame([1], seq: 1), Wire.frame([3, 0x64, 0x65, 0x66], seq: 2), eof, Wire.frame([1, 0x31], seq: 4)] {
            _ = machine.backendFrameReceived(frame)
            #expect(!machine.isIdle)
        }
        _ = machine.backendFrameReceived(MySQLFrame(sequenceID: 5, payload: EOFPacket(status: [.autocommit]).encode()))
        #expect(machine.isIdle)
    }

    @Test("multi-statement results chain with SERVER_MORE_RESULTS_EXISTS until a result without it")
    func multiResults() {
        var machine = Wire.commandPhase()
        _ = machine.clientPacketReceived(Wire.query("INSERT ...; SELECT 1"))
        _ = machine.backendFrameReceived(Wire.ok(status: [.autocommit, .moreResultsExist], seq: 1))
        #expect(!machine.isIdle)
        _ = machine.backendFrameReceived(Wire.frame([1], seq: 2))
        _ = machine.backendFrameReceived(Wire.frame([3, 0x64, 0x65, 0x66], seq: 3))
        _ = machine.backendFrameReceived(Wire.frame([1, 0x31], seq: 4))
        _ = machine.backendFrameReceived(Wire.ok(status: [.autocommit], header: 0xFE, seq: 5))
        #expect(machine.isIdle)
    }

    @Test("a command sent while an answer is in flight waits and runs when the answer completes")
    func queuesPipelinedCommands() {
        var machine = Wire.commandPhase()
        _ = machine.clientPacketReceived(Wire.query("SELECT 1"))
        let second = Wire.query("SELECT 2")
        #expect(machine.clientPacketReceived(second) == MySQLSessionStateMachine.Action.none)
        #expect(machine.nextQueuedCommand() == MySQLSessionStateMachine.Action.none)
        _ = machine.backendFrameReceived(Wire.ok(seq: 1))
        #expect(machine.nextQueuedCommand() == .sendToBackend(second))
    }

    @Test("LOCAL INFILE: the client's data packets and empty terminator go to the server, then its OK ends the command")
    func localInfile() {
        var machine = Wire.commandPhase()
        _ = machine.clientPacketReceived(Wire.query("LOAD DATA LOCAL INFILE 'x' INTO TABLE t"))
        _ = machine.backendFrameReceived(Wire.frame([0xFB, 0x78], seq: 1))
        let data = MySQLPacket(sequenceID: 2, payload: ByteBuffer(string: "1,a\n"))
        #expect(machine.clientPacketReceived(data) == .sendToBackend(data))
        let end = MySQLPacket(sequenceID: 3, payload: ByteBuffer())
        #expect(machine.clientPacketReceived(end) == .sendToBackend(end))
        #expect(!machine.isIdle)
        _ = machine.backendFrameReceived(Wire.ok(seq: 4))
        #expect(machine.isIdle)
    }

    @Test("a prepared statement's definitions are tracked and its id is remembered with the lane")
    func prepareAndExecute() throws {
        var machine = Wire.commandPhase()
        let prepare = MySQLPacket(sequenceID: 0, payload: TextCommand.encode(.stmtPrepare, text: Array("SELECT ?".utf8)))
        #expect(machine.clientPacketReceived(prepare) == .sendToBackend(prepare))
        _ = machine.backendFrameReceived(MySQLFrame(sequenceID: 1, payload: StmtPrepareOK(statementID: 5, numColumns: 1, numParams: 1).encode()))
        _ = machine.backendFrameReceived(Wire.frame([3, 0x64, 0x65, 0x66], seq: 2))
        #expect(!machine.isIdle)
        _ = machine.backendFrameReceived(Wire.frame([3, 0x64, 0x65, 0x66], seq: 3))
        #expect(machine.isIdle)
        var body = StatementCommand.encode(.stmtExecute, statementID: 5)
        body.writeBytes([0, 1, 0, 0, 0, 0, 1, 0x08, 0, 7, 0, 0, 0, 0, 0, 0, 0])
        let execute = MySQLPacket(sequenceID: 0, payload: body)
        #expect(machine.clientPacketReceived(execute) == .sendToBackend(execute))
        // Binary rows start with 0x00 and are not mistaken for an OK.
        for frame in [Wire.frame([1], seq: 1), Wire.frame([3, 0x64, 0x65, 0x66], seq: 2), Wire.frame([0, 0, 1], seq: 3)] {
            _ = machine.backendFrameReceived(frame)
            #expect(!machine.isIdle)
        }
        _ = machine.backendFrameReceived(Wire.ok(header: 0xFE, seq: 4))
        #expect(machine.isIdle)
    }

    @Test("executing a statement in another lane than it was prepared in is refused with an ERR at sequence id 1")
    func crossLaneExecuteRefused() throws {
        var machine = Wire.commandPhase(attributes: [("lane", "gray")])
        _ = machine.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: TextCommand.encode(.stmtPrepare, text: Array("DO 1".utf8))))
        _ = machine.backendFrameReceived(MySQLFrame(sequenceID: 1, payload: StmtPrepareOK(statementID: 9, numColumns: 0, numParams: 0).encode()))
        #expect(machine.isIdle)
        machine.sessionLane = "base"
        let action = machine.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: StatementCommand.encode(.stmtExecute, statementID: 9)))
        let packet = try #require(action.clientPacket)
        #expect(packet.sequenceID == 1)
        #expect(try ERRPacket(payload: packet.payload).message.contains("prepared in lane 'gray'"))
        #expect(machine.isIdle)
    }

    @Test("COM_INIT_DB follows the lane's database map")
    func initDBMapped() throws {
        var machine = Wire.commandPhase(attributes: [("lane", "db")])
        let packet = try #require(machine.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: TextCommand.encode(.initDB, text: Array("mse_demo".utf8)))).backendPacket)
        #expect(TextCommand.text(of: packet.payload) == ByteBuffer(string: "mse_demo_db"))
        _ = machine.backendFrameReceived(Wire.ok(seq: 1))
        #expect(machine.currentDatabase == "mse_demo")
    }

    @Test("COM_RESET_CONNECTION clears the session lane once the server confirms")
    func resetConnection() {
        var machine = Wire.commandPhase()
        machine.sessionLane = "gray"
        _ = machine.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: ByteBuffer(bytes: [MySQLCommand.resetConnection.rawValue])))
        #expect(machine.sessionLane == "gray")
        _ = machine.backendFrameReceived(Wire.ok(seq: 1))
        #expect(machine.sessionLane == nil)
    }

    @Test("a server packet while no command is in flight closes the connection; an unsolicited ERR is relayed first")
    func unexpectedBackendPackets() {
        var machine = Wire.commandPhase()
        guard case .closeConnection = machine.backendFrameReceived(Wire.ok(seq: 1)) else { Issue.record("expected close"); return }
        var other = Wire.commandPhase()
        let err = MySQLFrame(sequenceID: 0, payload: ERRPacket(code: 1927, sqlState: "70100", message: "killed").encode())
        guard case .sendToClientAndClose = other.backendFrameReceived(err) else { Issue.record("expected relay"); return }
    }

    @Test("COM_QUIT is forwarded and the connection closes")
    func quit() {
        var machine = Wire.commandPhase()
        let quit = MySQLPacket(sequenceID: 0, payload: ByteBuffer(bytes: [0x01]))
        #expect(machine.clientPacketReceived(quit) == .sendToBackendAndClose(quit))
    }

    @Test("frames inside a ≥16 MiB row are passed over without being read as packets")
    func continuationRows() {
        var machine = Wire.readingRows("SELECT b")
        _ = machine.backendFrameReceived(MySQLFrame(sequenceID: 3, payload: ByteBuffer(repeating: 0xFE, count: 0xFF_FFFF)))
        // A continuation frame that happens to look like an OK must not end the result.
        _ = machine.backendFrameReceived(Wire.ok(header: 0xFE, seq: 4))
        #expect(!machine.isIdle)
        _ = machine.backendFrameReceived(Wire.ok(header: 0xFE, seq: 5))
        #expect(machine.isIdle)
    }
}

@Suite struct SessionLaneTests {
    @Test("an execute of 'the statement just prepared' after a refused prepare is refused, never sent to the server")
    func pipelinedExecuteAfterRefusedPrepare() throws {
        var machine = Wire.commandPhase()
        // Prepare a statement successfully first, so the server has a "last prepared" statement.
        _ = machine.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: TextCommand.encode(.stmtPrepare, text: Array("DO 1".utf8))))
        _ = machine.backendFrameReceived(MySQLFrame(sequenceID: 1, payload: StmtPrepareOK(statementID: 1, numColumns: 0, numParams: 0).encode()))
        // The next prepare is refused by the proxy (its lane lives on another server).
        machine.sessionLane = "remote"
        let refused = machine.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: TextCommand.encode(.stmtPrepare, text: Array("DO 2".utf8))))
        #expect(refused.clientPacket != nil)
        machine.sessionLane = nil
        let execute = machine.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: StatementCommand.encode(.stmtExecute, statementID: StatementCommand.lastPrepared)))
        #expect(execute.backendPacket == nil)
        #expect(execute.clientPacket != nil)
    }

    @Test("a session switch to a lane that lives on another server is refused with advice to label the connection")
    func sessionSwitchToOtherServer() throws {
        var machine = Wire.commandPhase()
        machine.sessionLane = "remote"
        let action = machine.clientPacketReceived(Wire.query("SELECT 1"))
        let packet = try #require(action.clientPacket)
        let message = try ERRPacket(payload: packet.payload).message
        #expect(message.contains("lane 'remote' lives on another server"))
        #expect(message.contains("connection attribute 'lane'"))
        #expect(machine.isIdle)
    }

    @Test("COM_CHANGE_USER re-evaluates the lane from the new login once the server accepts it")
    func changeUserReevaluatesLane() {
        var machine = Wire.commandPhase()
        machine.sessionLane = "base"
        var payload = ByteBuffer(bytes: [MySQLCommand.changeUser.rawValue])
        payload.writeString("gray_app"); payload.writeInteger(UInt8(0))
        payload.writeInteger(UInt8(20)); payload.writeRepeatingByte(1, count: 20)
        payload.writeString("mse_demo"); payload.writeInteger(UInt8(0))
        payload.writeInteger(UInt16(45), endianness: .little)
        payload.writeString("mysql_native_password"); payload.writeInteger(UInt8(0))
        let change = MySQLPacket(sequenceID: 0, payload: payload)
        #expect(machine.clientPacketReceived(change) == .sendToBackend(change))
        // Auth switch and the client's answer are relayed during the exchange.
        _ = machine.backendFrameReceived(MySQLFrame(sequenceID: 1, payload: AuthSwitchRequest(pluginName: "mysql_native_password", pluginData: Array(1...20)).encode()))
        let answer = MySQLPacket(sequenceID: 2, payload: ByteBuffer(repeating: 3, count: 20))
        #expect(machine.clientPacketReceived(answer) == .sendToBackend(answer))
        #expect(machine.connectionLane == nil)
        _ = machine.backendFrameReceived(Wire.ok(seq: 3))
        #expect(machine.isIdle)
        #expect(machine.connectionLane?.name == "gray")
        #expect(machine.sessionLane == nil)
        #expect(machine.user == "gray_app")
    }
}

@Suite struct SessionDatabaseTests {
    @Test("USE of a mapped database in a database lane is sent as USE of the shadow database")
    func useFollowsLane() throws {
        var machine = Wire.commandPhase(attributes: [("lane", "db")])
        let packet = try #require(machine.clientPacketReceived(Wire.query("USE mse_demo")).backendPacket)
        #expect(TextCommand.text(of: packet.payload) == ByteBuffer(string: "USE `mse_demo_db`"))
        _ = machine.backendFrameReceived(Wire.ok(seq: 1))
        #expect(machine.currentDatabase == "mse_demo")
        var base = Wire.commandPhase()
        let query = Wire.query("USE mse_demo")
        #expect(base.clientPacketReceived(query) == .sendToBackend(query))
    }

    @Test("USE of a mapped database inside a multi-statement query is refused: nothing is dropped or run in base")
    func useInMultiStatementRefused() throws {
        for sql in [
            "USE mse_demo; INSERT INTO mse_demo_table (location) VALUES ('x')",
            "SET @a = 1; USE mse_demo; INSERT INTO mse_demo_table (location) VALUES ('x')",
            "SELECT 1; USE mse_demo",
        ] {
            var machine = Wire.commandPhase(attributes: [("lane", "db")])
            _ = machine.clientPacketReceived(Wire.query("USE other"))
            _ = machine.backendFrameReceived(Wire.ok(seq: 1))
            let action = machine.clientPacketReceived(Wire.query(sql))
            #expect(action.backendPacket == nil, "\(sql)")
            let err = try #require(action.clientPacket.flatMap { try? ERRPacket(payload: $0.payload) })
            #expect(err.message.contains("USE mse_demo"), "\(sql)")
            #expect(err.message.contains("statement of its own"), "\(sql)")
            // The refused USE did not stick, and the connection takes the next statement.
            #expect(machine.currentDatabase == "other")
            #expect(machine.clientPacketReceived(Wire.query("USE mse_demo")).backendPacket != nil)
        }
        // A trailing `;` is still one statement; an unmapped database in a multi-statement query is not a concern.
        var machine = Wire.commandPhase(attributes: [("lane", "db")])
        let alone = try #require(machine.clientPacketReceived(Wire.query("USE mse_demo;")).backendPacket)
        #expect(TextCommand.text(of: alone.payload) == ByteBuffer(string: "USE `mse_demo_db`"))
        _ = machine.backendFrameReceived(Wire.ok(seq: 1))
        #expect(machine.clientPacketReceived(Wire.query("USE other; SELECT 1")).backendPacket != nil)
    }
}

@Suite struct SessionRemoteLaneTests {
    func remoteCommandPhase() -> MySQLSessionStateMachine {
        var machine = MySQLSessionStateMachine(settings: .init(listener: Wire.listener, clientTLS: false), routing: Wire.routing())
        _ = machine.backendGreetingReceived(MySQLFrame(sequenceID: 0, payload: Wire.greeting()))
        _ = machine.clientPacketReceived(MySQLPacket(sequenceID: 1, payload: Wire.response(attributes: [("lane", "remote")]).encode()))
        _ = machine.laneBackendGreetingReceived(MySQLFrame(sequenceID: 0, payload: Wire.greeting()))
        _ = machine.clientPacketReceived(MySQLPacket(sequenceID: 3, payload: ByteBuffer(repeating: 1, count: 20)))
        _ = machine.backendFrameReceived(Wire.ok(seq: 2))
        return machine
    }

    @Test("on a connection moved to a lane's own server, switching the session to base is refused")
    func switchToBaseRefused() throws {
        var machine = remoteCommandPhase()
        #expect(machine.isCommandPhase)
        let action = machine.clientPacketReceived(Wire.query("SET @lane = 'base'"))
        let packet = try #require(action.clientPacket)
        #expect(try ERRPacket(payload: packet.payload).message.contains("lane 'base' lives on another server"))
        #expect(machine.sessionLane == nil)
        let select = Wire.query("SELECT 1")
        #expect(machine.clientPacketReceived(select) == .sendToBackend(select))
    }
}

@Suite struct SessionParameterTypeTests {
    @Test("an execute is forwarded unchanged whether it binds new parameter types or reuses the previous ones; one cut inside its types is refused")
    func executeHeaderChecks() throws {
        var machine = Wire.commandPhase()
        _ = machine.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: TextCommand.encode(.stmtPrepare, text: Array("SELECT ?, ?".utf8))))
        _ = machine.backendFrameReceived(MySQLFrame(sequenceID: 1, payload: StmtPrepareOK(statementID: 3, numColumns: 0, numParams: 2).encode()))
        _ = machine.backendFrameReceived(Wire.frame([3, 0x64, 0x65, 0x66], seq: 2))
        _ = machine.backendFrameReceived(Wire.frame([3, 0x64, 0x65, 0x66], seq: 3))
        #expect(machine.isIdle)
        var execute = StatementCommand.encode(.stmtExecute, statementID: 3)
        execute.writeInteger(UInt8(0)); execute.writeInteger(UInt32(1), endianness: .little)
        execute.writeInteger(UInt8(0))            // NULL bitmap
        execute.writeInteger(UInt8(1))            // new params bound
        execute.writeInteger(UInt16(0x08), endianness: .little)   // LONGLONG
        execute.writeInteger(UInt16(0xFE), endianness: .little)   // STRING
        execute.writeBytes([1, 0, 0, 0, 0, 0, 0, 0, 1, 0x41])
        #expect(machine.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: execute)).backendPacket?.payload == execute)
        _ = machine.backendFrameReceived(Wire.ok(seq: 1))
        var again = StatementCommand.encode(.stmtExecute, statementID: 3)
        again.writeInteger(UInt8(0)); again.writeInteger(UInt32(1), endianness: .little)
        again.writeInteger(UInt8(0)); again.writeInteger(UInt8(0))
        again.writeBytes([2, 0, 0, 0, 0, 0, 0, 0, 1, 0x42])
        #expect(machine.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: again)).backendPacket?.payload == again)
        _ = machine.backendFrameReceived(Wire.ok(seq: 1))
        let cut = execute.getSlice(at: execute.readerIndex, length: 14)!  // new params bound, then one type byte of four
        let refused = machine.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: cut))
        #expect(refused.backendPacket == nil)
        #expect(refused.clientPacket != nil)
        #expect(machine.isIdle)
    }

    @Test("a COM_STMT_EXECUTE too short for its statement's parameters is refused, not forwarded")
    func truncatedExecuteRefused() throws {
        var machine = Wire.commandPhase()
        _ = machine.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: TextCommand.encode(.stmtPrepare, text: Array("SELECT ?".utf8))))
        _ = machine.backendFrameReceived(MySQLFrame(sequenceID: 1, payload: StmtPrepareOK(statementID: 4, numColumns: 0, numParams: 1).encode()))
        _ = machine.backendFrameReceived(Wire.frame([3, 0x64, 0x65, 0x66], seq: 2))
        let action = machine.clientPacketReceived(MySQLPacket(sequenceID: 0, payload: StatementCommand.encode(.stmtExecute, statementID: 4)))
        #expect(action.backendPacket == nil)
        #expect(action.clientPacket != nil)
        #expect(machine.isIdle)
    }
}

@Suite struct SessionLaneServerFaultTests {
    @Test("an unreachable lane server is reported to the client after its handshake response, with SQLSTATE")
    func laneServerUnreachable() throws {
        var machine = MySQLSessionStateMachine(settings: .init(listener: Wire.listener, clientTLS: false), routing: Wire.routing())
        _ = machine.backendGreetingReceived(MySQLFrame(sequenceID: 0, payload: Wire.greeting()))
        _ = machine.clientPacketReceived(MySQLPacket(sequenceID: 1, payload: Wire.response(attributes: [("lane", "remote")]).encode()))
        let action = machine.backendUnreachable(Endpoint(host: "10.0.0.2", port: 3306), reason: "refused")
        guard case .sendToClientAndClose(let packet) = action else { Issue.record("got \(action)"); return }
        #expect(packet.sequenceID == 2)
        let err = try ERRPacket(payload: packet.payload)
        #expect(err.code == 1429 && err.sqlState == "HY000")
        #expect(err.message.contains("10.0.0.2:3306"))
    }
}

@Suite struct SessionRefusalTests {
    @Test("a refused multi-statement that also switches the lane leaves the session lane unchanged")
    func refusedSwitchDoesNotStick() throws {
        var machine = Wire.commandPhase()
        // "remote" lives on another server than this connection: the switch itself is refused.
        let action = machine.clientPacketReceived(Wire.query("SET @lane = 'remote'"))
        #expect(action.clientPacket != nil)
        #expect(machine.sessionLane == nil)
        // A switch to gray followed by a statement with an unknown-lane hint: refused as a whole.
        let mixed = machine.clientPacketReceived(Wire.query("/* lane=purple */ SET @lane = 'gray'"))
        #expect(mixed.clientPacket != nil)
        #expect(machine.sessionLane == nil)
        let ok = Wire.query("SET @lane = 'gray'")
        #expect(machine.clientPacketReceived(ok) == .sendToBackend(ok))
        #expect(machine.sessionLane == "gray")
    }
}
