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
        let payload = frame.payload
        let first = payload.getInteger(at: payload.readerIndex, as: UInt8.self)
        switch expectation {
        case .idle, .localInfileData:
            throw MySQLWireError(.unexpectedPacket, "server sent a packet while no answer was expected")
        case .single:
            expectation = .idle
            return .complete(status: Self.status(of: payload), error: first == ERRPacket.header)
        case .authentication:
            switch first {
            case 0x00: expectation = .idle; return .complete(status: Self.status(of: payload), error: false)
            case ERRPacket.header: expectation = .idle; return .complete(status: nil, error: true)
            default: return .continuing
            }
        case .result(let binary):
            switch first {
            case 0x00:
                let status = Self.status(of: payload)
                return finishResult(status)
            case ERRPacket.header:
                expectation = .idle
                return .complete(status: nil, error: true)
            case 0xFB:
                expectation = .localInfileData
                return .localInfileRequested
            default:
                var buffer = payload
                let count = try buffer.readLengthEncodedInteger()
                guard count > 0 else { throw MySQLWireError(.invalidValue, "result set with zero columns") }
                expectation = .columns(remaining: count, binary: binary)
                return .continuing
            }
        case .columns(let remaining, let binary):
            if remaining > 1 {
                expectation = .columns(remaining: remaining - 1, binary: binary)
            } else {
                expectation = deprecateEOF ? .rows(binary: binary) : .columnsEOF(binary: binary)
            }
            return .continuing
        case .columnsEOF(let binary):
            guard EOFPacket.isEOF(payload) else {
                throw MySQLWireError(.unexpectedPacket, "expected EOF after column definitions")
            }
            let status = Self.status(of: payload) ?? []
            if status.contains(.cursorExists) { return finishResult(status) }
            expectation = .rows(binary: binary)
            return .continuing
        case .rows:
            if first == ERRPacket.header {
                expectation = .idle
                return .complete(status: nil, error: true)
            }
            if first == 0xFE && payload.readableBytes < MySQLFrame.maxPayloadLength
                && (deprecateEOF || payload.readableBytes < 9) {
                return finishResult(Self.status(of: payload))
            }
            return .continuing
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
            expectation = .idle
            return .complete(status: nil, error: false)
        case .fieldList:
            if first == ERRPacket.header || EOFPacket.isEOF(payload) {
                expectation = .idle
                return .complete(status: Self.status(of: payload), error: first == ERRPacket.header)
            }
            return .continuing
        }
    }

    /// The length of the run of whole column-definition and row frames at the start of `bytes` (raw frames, header
    /// included), consumed as if each had gone through ``frame(_:)``: every one of them would have answered
    /// `.continuing`. The run stops before anything that could end or interrupt the result set or needs a look
    /// inside (the EOF after the definitions, EOF or OK-as-EOF, ERR, the first frame of a packet of 16 MiB or more)
    /// and before an incomplete frame, which then go through ``frame(_:)`` one by one.
    ///
    /// This is the relay's path for result sets: a definition or row costs a look at its header and first byte, and
    /// the run is forwarded as one slice of the bytes received, instead of a decoded frame, an action and a copy each.
    public mutating func rowRun(in bytes: ByteBuffer) -> Int {
        guard !inContinuation else { return 0 }
        switch expectation {
        case .rows, .columns: break
        default: return 0
        }
        return bytes.withUnsafeReadableBytes { raw in
            var offset = 0
            while raw.count - offset >= 5 {
                let length = Int(raw[offset]) | Int(raw[offset + 1]) << 8 | Int(raw[offset + 2]) << 16
                guard length > 0, length < MySQLFrame.maxPayloadLength, raw.count - offset - 4 >= length else { break }
                switch expectation {
                case .columns(let remaining, let binary):
                    // A definition is never an ERR or EOF: the server announced how many follow.
                    if remaining > 1 {
                        expectation = .columns(remaining: remaining - 1, binary: binary)
                    } else {
                        expectation = deprecateEOF ? .rows(binary: binary) : .columnsEOF(binary: binary)
                    }
                case .rows:
                    let first = raw[offset + 4]
                    if first == ERRPacket.header { return offset }
                    // Same test as frame(_:): a row starting 0xFE is at least 16 MiB long, so a shorter one is the end.
                    if first == 0xFE && (deprecateEOF || length < 9) { return offset }
                default:
                    return offset
                }
                offset += 4 + length
            }
            return offset
        }
    }

    /// After a prepare OK that announced no definitions the tracker is already idle; this tells callers so.
    public var prepareFinishedWithoutDefinitions: Bool { expectation == .idle }

    private mutating func finishResult(_ status: MySQLServerStatus?) -> Outcome {
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
