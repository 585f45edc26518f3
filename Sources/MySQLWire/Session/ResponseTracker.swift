import NIOCore

/// Follows the server's answer to one command, frame by frame, without buffering it: it only needs each logical
/// packet's first byte (and a few header bytes) to know where the answer ends. Frames inside a ≥ 16 MiB packet
/// are passed over uninterpreted.
public struct ResponseTracker: Sendable, Hashable {
    /// What the server sends next.
    public enum Expectation: Sendable, Hashable {
        /// Nothing: no command in flight.
        case idle
        /// The first packet of a (possibly chained) result: OK, ERR, LOCAL INFILE request or a column count.
        case result(binary: Bool)
        /// Column definitions still to come.
        case columns(remaining: UInt64, binary: Bool)
        /// The EOF after column definitions (without CLIENT_DEPRECATE_EOF).
        case columnsEOF(binary: Bool)
        /// Rows until EOF/OK or ERR.
        case rows(binary: Bool)
        /// The answer to COM_STMT_PREPARE.
        case prepareOK
        case prepareParams(remaining: UInt16, columns: UInt16)
        case prepareParamsEOF(columns: UInt16)
        case prepareColumns(remaining: UInt16)
        case prepareColumnsEOF
        /// COM_FIELD_LIST: column definitions until EOF or ERR.
        case fieldList
        /// One packet of any kind (OK, ERR, EOF, a statistics string).
        case single
        /// The client is sending LOCAL INFILE data; the server waits for its empty packet.
        case localInfileData
        /// COM_CHANGE_USER's authentication exchange.
        case authentication
    }

    /// What one backend frame meant.
    public enum Outcome: Sendable, Hashable {
        /// More of the answer follows.
        case continuing
        /// The answer is complete; `status` is the last OK/EOF's status, if any.
        case complete(status: MySQLServerStatus?, error: Bool)
        /// COM_STMT_PREPARE succeeded with this statement id and parameter count (the definitions follow).
        case prepared(statementID: UInt32, parameterCount: UInt16)
        /// The server asked for a LOCAL INFILE: client data packets follow.
        case localInfileRequested
    }

    public private(set) var expectation: Expectation = .idle
    /// The status flags of the last OK or EOF the server sent (any of them: a final one, one inside a multi-result
    /// chain, the EOF after column definitions), or those the greeting and login set. They are session state the
    /// server reports with every OK/EOF, such as SERVER_STATUS_NO_BACKSLASH_ESCAPES; kept across commands.
    public var serverStatus: MySQLServerStatus?
    /// Whether the client negotiated CLIENT_DEPRECATE_EOF (result sets end with an OK, not EOF).
    public var deprecateEOF: Bool
    private var inContinuation = false

    public init(deprecateEOF: Bool) {
        self.deprecateEOF = deprecateEOF
    }

    public var isIdle: Bool { expectation == .idle }

    /// Starts tracking the answer to a command.
    public mutating func expect(_ expectation: Expectation) {
        self.expectation = expectation
        inContinuation = false
    }

    /// The client's empty packet ended LOCAL INFILE data: the server now answers like a query.
    public mutating func localInfileFinished() {
        expectation = .result(binary: false)
    }

    /// Consumes one backend frame.
    public mutating func frame(_ frame: MySQLFrame) throws -> Outcome {
        if inContinuation {
            inContinuation = frame.continues
            return .continuing
        }
        inContinuation = frame.continues
        // What a look at the first bytes decides is decided the same way for runs and for single frames.
        if let outcome = frame.payload.withUnsafeReadableBytes({ self.step($0) }) { return outcome }
        let payload = frame.payload
        let first = payload.getInteger(at: payload.readerIndex, as: UInt8.self)
        switch expectation {
        case .idle, .localInfileData:
            throw MySQLWireError(.unexpectedPacket, "server sent a packet while no answer was expected")
        case .single, .columns, .rows:
            return .continuing  // unreachable: ``step(_:)`` decides every frame of these
        case .authentication:
            switch first {
            case 0x00:
                expectation = .idle
                let status = Self.status(of: payload)
                if let status { serverStatus = status }
                return .complete(status: status, error: false)
            case ERRPacket.header: expectation = .idle; return .complete(status: nil, error: true)
            default: return .continuing
            }
        case .result(let binary):
            // OK, ERR and one-byte column counts went through ``step(_:)``.
            if first == 0xFB {
                expectation = .localInfileData
                return .localInfileRequested
            }
            var buffer = payload
            let count = try buffer.readLengthEncodedInteger()
            guard count > 0 else { throw MySQLWireError(.invalidValue, "result set with zero columns") }
            expectation = .columns(remaining: count, binary: binary)
            return .continuing
        case .columnsEOF:
            throw MySQLWireError(.unexpectedPacket, "expected EOF after column definitions")
        case .prepareOK:
            if first == ERRPacket.header {
                expectation = .idle
                return .complete(status: nil, error: true)
            }
            let ok = try StmtPrepareOK(payload: payload)
            if ok.numParams > 0 {
                expectation = .prepareParams(remaining: ok.numParams, columns: ok.numColumns)
            } else if ok.numColumns > 0 {
                expectation = .prepareColumns(remaining: ok.numColumns)
            } else {
                expectation = .idle
            }
            return .prepared(statementID: ok.statementID, parameterCount: ok.numParams)
        case .prepareParams(let remaining, let columns):
            if remaining > 1 {
                expectation = .prepareParams(remaining: remaining - 1, columns: columns)
            } else if !deprecateEOF {
                expectation = .prepareParamsEOF(columns: columns)
            } else {
                expectation = columns > 0 ? .prepareColumns(remaining: columns) : .idle
                if columns == 0 { return .complete(status: nil, error: false) }
            }
            return .continuing
        case .prepareParamsEOF(let columns):
            guard EOFPacket.isEOF(payload) else { throw MySQLWireError(.unexpectedPacket, "expected EOF after parameters") }
            if let status = Self.status(of: payload) { serverStatus = status }
            expectation = columns > 0 ? .prepareColumns(remaining: columns) : .idle
            return columns > 0 ? .continuing : .complete(status: nil, error: false)
        case .prepareColumns(let remaining):
            if remaining > 1 {
                expectation = .prepareColumns(remaining: remaining - 1)
                return .continuing
            }
            if !deprecateEOF {
                expectation = .prepareColumnsEOF
                return .continuing
            }
            expectation = .idle
            return .complete(status: nil, error: false)
        case .prepareColumnsEOF:
            guard EOFPacket.isEOF(payload) else { throw MySQLWireError(.unexpectedPacket, "expected EOF after columns") }
            if let status = Self.status(of: payload) { serverStatus = status }
            expectation = .idle
            return .complete(status: nil, error: false)
        case .fieldList:
            if first == ERRPacket.header || EOFPacket.isEOF(payload) {
                expectation = .idle
                let status = Self.status(of: payload)
                if let status { serverStatus = status }
                return .complete(status: status, error: first == ERRPacket.header)
            }
            return .continuing
        }
    }

    /// How far ``answerRun(in:mayComplete:)`` took the answer.
    public struct Run: Sendable, Hashable {
        /// How the answer ended, when the run's last frame completed it.
        public struct Completion: Sendable, Hashable {
            /// The final OK's or EOF's status flags; nil after an ERR.
            public var status: MySQLServerStatus?
            public var error: Bool
        }

        /// Bytes of whole frames consumed from the start of the input (headers included).
        public var length: Int
        /// Set when the last frame of the run completed the answer.
        public var completion: Completion?
    }

    /// Consumes the run of whole frames at the start of `bytes` (raw frames, header included) that a look at their
    /// header and first bytes decides, exactly as ``frame(_:)`` would have: the first packet of a result (OK, ERR or
    /// a one-byte column count), column definitions, the EOF after them, rows, and the OK/EOF or ERR that ends a
    /// result set or a one-packet answer. With `mayComplete` false the run stops before the frame that would
    /// complete the answer; it always stops after it (the tracker is then idle), and before anything else: a LOCAL
    /// INFILE request, the answer to a prepare or a change of user, an empty or incomplete frame, a packet of 16 MiB
    /// or more, a malformed frame (which ``frame(_:)`` then rejects).
    ///
    /// This is the relay's path for answers: a frame costs a look at its first bytes, and the run is forwarded as one
    /// slice of the bytes received, instead of a decoded frame, an action and a copy each.
    public mutating func answerRun(in bytes: ByteBuffer, mayComplete: Bool) -> Run {
        guard !inContinuation else { return Run(length: 0) }
        switch expectation {
        case .result, .columns, .columnsEOF, .rows, .single: break
        default: return Run(length: 0)
        }
        return bytes.withUnsafeReadableBytes { raw in
            var offset = 0
            while raw.count - offset >= 5 {
                let length = Int(raw[offset]) | Int(raw[offset + 1]) << 8 | Int(raw[offset + 2]) << 16
                guard length > 0, length < MySQLFrame.maxPayloadLength, raw.count - offset - 4 >= length else { break }
                let payload = UnsafeRawBufferPointer(rebasing: raw[(offset + 4)..<(offset + 4 + length)])
                var next = self
                guard let step = next.step(payload) else { break }
                if case .complete(let status, let error) = step {
                    guard mayComplete else { break }
                    self = next
                    return Run(length: offset + 4 + length, completion: .init(status: status, error: error))
                }
                self = next
                offset += 4 + length
            }
            return Run(length: offset)
        }
    }

    /// The decision for one frame that its first bytes make, on its payload (for runs and for ``frame(_:)`` alike): the
    /// expectations ``answerRun(in:mayComplete:)`` handles. Nil where more is needed (a LOCAL INFILE request, a column
    /// count of more than one byte, any other expectation) or the frame is malformed; ``frame(_:)`` then decides.
    private mutating func step(_ payload: UnsafeRawBufferPointer) -> Outcome? {
        let first = payload.first
        switch expectation {
        case .single:
            expectation = .idle
            let status = Self.status(ofRaw: payload)
            if let status { serverStatus = status }
            return .complete(status: status, error: first == ERRPacket.header)
        case .result(let binary):
            switch first {
            case 0x00:
                return finishResult(Self.status(ofRaw: payload))
            case ERRPacket.header:
                expectation = .idle
                return .complete(status: nil, error: true)
            case .some(let count) where count > 0 && count < 0xFB:
                expectation = .columns(remaining: UInt64(count), binary: binary)
                return .continuing
            default:
                return nil
            }
        case .columns(let remaining, let binary):
            if remaining > 1 {
                expectation = .columns(remaining: remaining - 1, binary: binary)
            } else {
                expectation = deprecateEOF ? .rows(binary: binary) : .columnsEOF(binary: binary)
            }
            return .continuing
        case .columnsEOF(let binary):
            guard first == 0xFE, payload.count < 9 else { return nil }
            let seen = Self.status(ofRaw: payload)
            if let seen { serverStatus = seen }
            let status = seen ?? []
            if status.contains(.cursorExists) { return finishResult(status) }
            expectation = .rows(binary: binary)
            return .continuing
        case .rows:
            if first == ERRPacket.header {
                expectation = .idle
                return .complete(status: nil, error: true)
            }
            // A row starting 0xFE is at least 9 bytes (16 MiB or more without CLIENT_DEPRECATE_EOF's OK-as-EOF).
            if first == 0xFE && payload.count < MySQLFrame.maxPayloadLength && (deprecateEOF || payload.count < 9) {
                return finishResult(Self.status(ofRaw: payload))
            }
            return .continuing
        default:
            return nil
        }
    }

    /// ``status(of:)`` on raw payload bytes: an EOF's status (0xFE, under 9 bytes), an OK's (0x00, or 0xFE of 9 bytes
    /// or more), nil for anything else or a truncated packet.
    static func status(ofRaw payload: UnsafeRawBufferPointer) -> MySQLServerStatus? {
        guard let first = payload.first else { return nil }
        if first == 0xFE && payload.count < 9 {
            guard payload.count >= 5 else { return nil }
            return MySQLServerStatus(rawValue: UInt16(payload[3]) | UInt16(payload[4]) << 8)
        }
        guard first == 0x00 || first == 0xFE else { return nil }
        var offset = 1
        for _ in 0..<2 {
            guard offset < payload.count else { return nil }
            switch payload[offset] {
            case 0..<0xFB: offset += 1
            case 0xFC: offset += 3
            case 0xFD: offset += 4
            case 0xFE: offset += 9
            default: return nil
            }
        }
        guard payload.count >= offset + 2 else { return nil }
        return MySQLServerStatus(rawValue: UInt16(payload[offset]) | UInt16(payload[offset + 1]) << 8)
    }

    /// After a prepare OK that announced no definitions the tracker is already idle; this tells callers so.
    public var prepareFinishedWithoutDefinitions: Bool { expectation == .idle }

    private mutating func finishResult(_ status: MySQLServerStatus?) -> Outcome {
        if let status { serverStatus = status }
        if let status, status.contains(.moreResultsExist) {
            expectation = .result(binary: false)
            return .continuing
        }
        expectation = .idle
        return .complete(status: status, error: false)
    }

    /// The status flags of an OK (0x00/0xFE with lenenc fields) or EOF packet, or nil for anything else.
    static func status(of payload: ByteBuffer) -> MySQLServerStatus? {
        guard let first = payload.getInteger(at: payload.readerIndex, as: UInt8.self) else { return nil }
        if EOFPacket.isEOF(payload) {
            return payload.getInteger(at: payload.readerIndex + 3, endianness: .little, as: UInt16.self).map(MySQLServerStatus.init)
        }
        guard first == 0x00 || first == 0xFE else { return nil }
        return (try? OKPacket(payload: payload))?.status
    }
}
