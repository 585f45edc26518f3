/// Encodes and decodes record frames. Layout (all integers little-endian; documented in docs/dual-write.md):
///
/// ```
/// frame   := u32 payloadLength, u32 crc32c(payload), payload
/// payload := u8 version(=1), u64 lsn, i64 timestampMicros, u64 connectionID, u64 transactionID,
///            u8 dialect, u16 flags, u16 targetLength, target, u16 statementCount, statement*
/// stmt    := u32 sqlLength, sql, u8 contextPresence, [u64 insertID], [u64 lastInsertID], [i64 timestamp],
///            [u16 schemaLength, schema], u8 hasParameters, [u16 parameterCount, value*]
/// value   := u8 tag (0 null, 1 int64, 2 double, 3 text, 4 bytes), [i64 | f64 bits | u32 length + bytes]
/// ```
public enum ReplayRecordCodec {
    /// The payload version this code writes and reads.
    public static let version: UInt8 = 1
    /// Bytes before the payload: length and CRC.
    public static let frameHeaderSize = 8
    /// The largest payload accepted; a larger length in a frame header is corruption, not an allocation request.
    public static let maximumPayloadSize = 64 << 20
    /// The smallest possible payload (no target, no statements): anything shorter is not a record.
    static let minimumPayloadSize = 1 + 8 * 4 + 1 + 2 + 2 + 2

    /// Appends the frame of `record` to `buffer`.
    public static func encode(_ record: ReplayRecord, into buffer: inout [UInt8]) throws(ReplayLogError) {
        let start = buffer.count
        buffer.appendLE(UInt32(0))
        buffer.appendLE(UInt32(0))
        buffer.append(version)
        buffer.appendLE(record.lsn)
        buffer.appendLE(record.timestampMicros)
        buffer.appendLE(record.connectionID)
        buffer.appendLE(record.transactionID)
        buffer.append(record.dialect.rawValue)
        buffer.appendLE(record.flags.rawValue)
        try appendString16(record.target, into: &buffer, what: "target name")
        guard record.statements.count <= Int(UInt16.max) else {
            throw ReplayLogError(.recordTooLarge, "a record holds at most 65535 statements; split the transaction")
        }
        buffer.appendLE(UInt16(record.statements.count))
        for statement in record.statements { try encode(statement, into: &buffer) }
        let payloadLength = buffer.count - start - frameHeaderSize
        guard payloadLength <= maximumPayloadSize else {
            buffer.removeSubrange(start...)
            throw ReplayLogError(.recordTooLarge, "record of \(payloadLength) bytes exceeds \(maximumPayloadSize)")
        }
        let crc = buffer.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[(start + 8)...])) }
        buffer.setLE(UInt32(payloadLength), at: start)
        buffer.setLE(crc, at: start + 4)
    }

    /// The frame of `record` as a new array.
    public static func encode(_ record: ReplayRecord) throws(ReplayLogError) -> [UInt8] {
        var buffer: [UInt8] = []
        try encode(record, into: &buffer)
        return buffer
    }

    private static func encode(_ statement: ReplayStatement, into buffer: inout [UInt8]) throws(ReplayLogError) {
        let sql = Array(statement.sql.utf8)
        buffer.appendLE(UInt32(sql.count))
        buffer.append(contentsOf: sql)
        let context = statement.context
        var presence: UInt8 = 0
        if context.insertID != nil { presence |= 1 }
        if context.lastInsertID != nil { presence |= 2 }
        if context.timestampMicros != nil { presence |= 4 }
        if context.schema != nil { presence |= 8 }
        buffer.append(presence)
        if let value = context.insertID { buffer.appendLE(value) }
        if let value = context.lastInsertID { buffer.appendLE(value) }
        if let value = context.timestampMicros { buffer.appendLE(value) }
        if let schema = context.schema { try appendString16(schema, into: &buffer, what: "schema name") }
        guard let parameters = statement.parameters else {
            buffer.append(0)
            return
        }
        guard parameters.count <= Int(UInt16.max) else {
            throw ReplayLogError(.recordTooLarge, "a statement binds at most 65535 parameters")
        }
        buffer.append(1)
        buffer.appendLE(UInt16(parameters.count))
        for value in parameters {
            switch value {
            case .null:
                buffer.append(0)
            case .int64(let v):
                buffer.append(1)
                buffer.appendLE(v)
            case .double(let v):
                buffer.append(2)
                buffer.appendLE(v.bitPattern)
            case .text(let v):
                buffer.append(3)
                let utf8 = Array(v.utf8)
                buffer.appendLE(UInt32(utf8.count))
                buffer.append(contentsOf: utf8)
            case .bytes(let v):
                buffer.append(4)
                buffer.appendLE(UInt32(v.count))
                buffer.append(contentsOf: v)
            }
        }
    }

    private static func appendString16(_ string: String, into buffer: inout [UInt8], what: String) throws(ReplayLogError) {
        let utf8 = Array(string.utf8)
        guard utf8.count <= Int(UInt16.max) else {
            throw ReplayLogError(.recordTooLarge, "\(what) longer than 65535 bytes")
        }
        buffer.appendLE(UInt16(utf8.count))
        buffer.append(contentsOf: utf8)
    }

    /// Why a frame could not be decoded; the reader turns it into a torn-tail cut or a corrupt-record error.
    public enum FrameProblem: Error, Sendable, Hashable, CustomStringConvertible {
        /// Fewer bytes than the frame header or the announced payload: typical of a write cut by a crash.
        case truncated(needed: Int, available: Int)
        /// The length field is impossible (below the minimum or above the maximum).
        case badLength(Int)
        /// The payload does not match its CRC.
        case badChecksum(expected: UInt32, actual: UInt32)
        /// The CRC matched but the payload does not parse (unknown version, dialect, tag, or inconsistent lengths).
        case malformed(String)

        public var description: String {
            switch self {
            case .truncated(let needed, let available): "short record: needs \(needed) bytes, \(available) present"
            case .badLength(let length): "impossible record length \(length)"
            case .badChecksum(let expected, let actual):
                "CRC32C mismatch: stored 0x\(String(expected, radix: 16)), computed 0x\(String(actual, radix: 16))"
            case .malformed(let why): "malformed record: \(why)"
            }
        }
    }

    /// Reads the payload length of the frame starting at `bytes`, or the problem with it.
    static func payloadLength(ofFrameAt bytes: UnsafeRawBufferPointer) -> Result<Int, FrameProblem> {
        var cursor = ByteCursor(bytes)
        guard let length = cursor.read(UInt32.self) else {
            return .failure(.truncated(needed: frameHeaderSize, available: bytes.count))
        }
        let payload = Int(length)
        guard payload >= minimumPayloadSize, payload <= maximumPayloadSize else { return .failure(.badLength(payload)) }
        return .success(payload)
    }

    /// Decodes the frame at the start of `bytes`. Returns the record and the frame's total size.
    public static func decodeFrame(_ bytes: UnsafeRawBufferPointer) -> Result<(ReplayRecord, Int), FrameProblem> {
        let payloadLength: Int
        switch self.payloadLength(ofFrameAt: bytes) {
        case .success(let length): payloadLength = length
        case .failure(let problem): return .failure(problem)
        }
        guard bytes.count >= frameHeaderSize else {
            return .failure(.truncated(needed: frameHeaderSize, available: bytes.count))
        }
        let total = frameHeaderSize + payloadLength
        guard bytes.count >= total else { return .failure(.truncated(needed: total, available: bytes.count)) }
        var header = ByteCursor(bytes)
        _ = header.read(UInt32.self)
        let stored = header.read(UInt32.self) ?? 0
        let payload = UnsafeRawBufferPointer(rebasing: bytes[frameHeaderSize..<total])
        let actual = CRC32C.checksum(payload)
        guard stored == actual else { return .failure(.badChecksum(expected: stored, actual: actual)) }
        switch decodePayload(payload) {
        case .success(let record): return .success((record, total))
        case .failure(let problem): return .failure(problem)
        }
    }

    /// Decodes one frame from an array (convenience for tests and tools).
    public static func decodeFrame(_ bytes: [UInt8]) -> Result<(ReplayRecord, Int), FrameProblem> {
        bytes.withUnsafeBytes { decodeFrame($0) }
    }

    private static func decodePayload(_ payload: UnsafeRawBufferPointer) -> Result<ReplayRecord, FrameProblem> {
        var c = ByteCursor(payload)
        guard let version = c.read(UInt8.self), version == Self.version else {
            return .failure(.malformed("unsupported record version; this build reads version \(Self.version)"))
        }
        guard let lsn = c.read(UInt64.self), let timestamp = c.read(Int64.self),
            let connection = c.read(UInt64.self), let transaction = c.read(UInt64.self),
            let dialectByte = c.read(UInt8.self), let flags = c.read(UInt16.self)
        else { return .failure(.malformed("header fields cut short")) }
        guard let dialect = ReplayDialect(rawValue: dialectByte) else {
            return .failure(.malformed("unknown dialect \(dialectByte)"))
        }
        guard let targetLength = c.read(UInt16.self), let target = c.readString(Int(targetLength)) else {
            return .failure(.malformed("target name cut short or not UTF-8"))
        }
        guard let count = c.read(UInt16.self) else { return .failure(.malformed("statement count missing")) }
        var statements: [ReplayStatement] = []
        statements.reserveCapacity(Int(count))
        for index in 0..<Int(count) {
            guard let statement = decodeStatement(&c) else {
                return .failure(.malformed("statement \(index + 1) of \(count) cut short or invalid"))
            }
            statements.append(statement)
        }
        guard c.remaining == 0 else { return .failure(.malformed("\(c.remaining) unexpected bytes after statements")) }
        return .success(
            ReplayRecord(
                lsn: lsn, timestampMicros: timestamp, connectionID: connection, transactionID: transaction,
                dialect: dialect, target: target, flags: ReplayRecordFlags(rawValue: flags), statements: statements))
    }

    private static func decodeStatement(_ c: inout ByteCursor) -> ReplayStatement? {
        guard let sqlLength = c.read(UInt32.self), let sql = c.readString(Int(sqlLength)),
            let presence = c.read(UInt8.self), presence & ~0x0F == 0
        else { return nil }
        var context = ReplayContext()
        if presence & 1 != 0 { guard let v = c.read(UInt64.self) else { return nil }; context.insertID = v }
        if presence & 2 != 0 { guard let v = c.read(UInt64.self) else { return nil }; context.lastInsertID = v }
        if presence & 4 != 0 { guard let v = c.read(Int64.self) else { return nil }; context.timestampMicros = v }
        if presence & 8 != 0 {
            guard let length = c.read(UInt16.self), let schema = c.readString(Int(length)) else { return nil }
            context.schema = schema
        }
        guard let hasParameters = c.read(UInt8.self), hasParameters <= 1 else { return nil }
        guard hasParameters == 1 else { return ReplayStatement(sql: sql, parameters: nil, context: context) }
        guard let count = c.read(UInt16.self) else { return nil }
        var parameters: [ReplayValue] = []
        parameters.reserveCapacity(Int(count))
        for _ in 0..<Int(count) {
            guard let tag = c.read(UInt8.self) else { return nil }
            switch tag {
            case 0: parameters.append(.null)
            case 1: guard let v = c.read(Int64.self) else { return nil }; parameters.append(.int64(v))
            case 2: guard let v = c.read(UInt64.self) else { return nil }; parameters.append(.double(Double(bitPattern: v)))
            case 3:
                guard let n = c.read(UInt32.self), let v = c.readString(Int(n)) else { return nil }
                parameters.append(.text(v))
            case 4:
                guard let n = c.read(UInt32.self), let v = c.readBytes(Int(n)) else { return nil }
                parameters.append(.bytes(v))
            default: return nil
            }
        }
        return ReplayStatement(sql: sql, parameters: parameters, context: context)
    }
}
