import NIOCore

/// Dual-write bookkeeping for server-side prepared statements inside ``MySQLSessionStateMachine``: the SQL each
/// statement id was prepared with (as sent, rewritten for a lane), its parameter count and last bound types, and
/// the decoded values of each COM_STMT_EXECUTE (including COM_STMT_SEND_LONG_DATA chunks). Pure; only present
/// when the listener dual-writes.
public struct MySQLStatementCapture: Sendable {
    /// A bound value, typed as the client sent it.
    public enum Value: Sendable, Hashable {
        case null
        case int(Int64)
        case unsigned(UInt64)
        case double(Double)
        /// Text, decimals, and dates/times rendered as MySQL literals.
        case text(String)
        case bytes([UInt8])
    }

    struct Statement: Sendable {
        var sql: String
        var lane: String?
        var parameterCount: Int
        /// (type, unsigned) per parameter, from the last execute that sent them.
        var types: [(UInt8, Bool)] = []
        /// COM_STMT_SEND_LONG_DATA chunks since the last execute, by parameter.
        var longData: [Int: [UInt8]] = [:]
        var longDataBytes = 0
    }

    /// Long data kept per statement at most; beyond it the execute cannot be captured faithfully.
    public static let maximumLongData = 16 << 20

    var statements: [UInt32: Statement] = [:]
    /// The SQL of the COM_STMT_PREPARE in flight.
    var preparing: (sql: String, lane: String?)?

    public init() {}

    mutating func prepareSent(sql: String, lane: String?) {
        preparing = (sql, lane)
    }

    mutating func prepared(_ ok: StmtPrepareOK) {
        guard let preparing else { return }
        statements[ok.statementID] = Statement(sql: preparing.sql, lane: preparing.lane, parameterCount: Int(ok.numParams))
        self.preparing = nil
    }

    mutating func closed(_ id: UInt32) { statements[id] = nil }

    mutating func longData(_ payload: ByteBuffer, statement id: UInt32) {
        var buffer = payload
        guard buffer.readInteger(as: UInt8.self) != nil, buffer.readInteger(endianness: .little, as: UInt32.self) != nil,
            let parameter = buffer.readInteger(endianness: .little, as: UInt16.self), var statement = statements[id]
        else { return }
        statement.longDataBytes += buffer.readableBytes
        if statement.longDataBytes <= Self.maximumLongData {
            statement.longData[Int(parameter), default: []] += buffer.readableBytesView
        }
        statements[id] = statement
    }

    /// The statement and values of a COM_STMT_EXECUTE; nil when it cannot be decoded faithfully (unknown statement,
    /// malformed packet, too much long data). Long data is consumed.
    mutating func execute(_ payload: ByteBuffer, statement id: UInt32) -> (sql: String, lane: String?, values: [Value])? {
        guard var statement = statements[id] else { return nil }
        defer {
            statement.longData = [:]
            statement.longDataBytes = 0
            statements[id] = statement
        }
        guard statement.longDataBytes <= Self.maximumLongData else { return nil }
        var buffer = payload
        // command, statement id, flags, iteration count
        guard buffer.readInteger(as: UInt8.self) != nil, buffer.readInteger(endianness: .little, as: UInt32.self) != nil,
            buffer.readInteger(as: UInt8.self) != nil, buffer.readInteger(endianness: .little, as: UInt32.self) != nil
        else { return nil }
        let count = statement.parameterCount
        guard count > 0 else { return (statement.sql, statement.lane, []) }
        guard let nullBitmap = buffer.readBytes(length: (count + 7) / 8), let newTypes = buffer.readInteger(as: UInt8.self) else {
            return nil
        }
        if newTypes == 1 {
            var types: [(UInt8, Bool)] = []
            for _ in 0..<count {
                guard let type = buffer.readInteger(as: UInt8.self), let flags = buffer.readInteger(as: UInt8.self) else { return nil }
                types.append((type, flags & 0x80 != 0))
            }
            statement.types = types
        }
        guard statement.types.count == count else { return nil }
        var values: [Value] = []
        values.reserveCapacity(count)
        for index in 0..<count {
            if let chunks = statement.longData[index] {
                values.append(Self.isTextType(statement.types[index].0) ? Self.textOrBytes(chunks) : .bytes(chunks))
                continue
            }
            if nullBitmap[index / 8] & (1 << (index % 8)) != 0 {
                values.append(.null)
                continue
            }
            guard let value = Self.readValue(&buffer, type: statement.types[index].0, unsigned: statement.types[index].1) else {
                return nil
            }
            values.append(value)
        }
        return (statement.sql, statement.lane, values)
    }

    static func isTextType(_ type: UInt8) -> Bool {
        // VARCHAR, NEWDECIMAL, ENUM, SET, VAR_STRING, STRING, DECIMAL, JSON
        [0x0F, 0xF6, 0xF7, 0xF8, 0xFD, 0xFE, 0x00, 0xF5].contains(type)
    }

    static func textOrBytes(_ bytes: [UInt8]) -> Value {
        String(validating: bytes, as: UTF8.self).map(Value.text) ?? .bytes(bytes)
    }

    /// One value of the binary protocol.
    static func readValue(_ buffer: inout ByteBuffer, type: UInt8, unsigned: Bool) -> Value? {
        switch type {
        case 0x06:  // NULL
            return .null
        case 0x01:  // TINY
            guard let v = buffer.readInteger(as: UInt8.self) else { return nil }
            return unsigned ? .unsigned(UInt64(v)) : .int(Int64(Int8(bitPattern: v)))
        case 0x02, 0x0D:  // SHORT, YEAR
            guard let v = buffer.readInteger(endianness: .little, as: UInt16.self) else { return nil }
            return unsigned || type == 0x0D ? .unsigned(UInt64(v)) : .int(Int64(Int16(bitPattern: v)))
        case 0x03, 0x09:  // LONG, INT24
            guard let v = buffer.readInteger(endianness: .little, as: UInt32.self) else { return nil }
            return unsigned ? .unsigned(UInt64(v)) : .int(Int64(Int32(bitPattern: v)))
        case 0x08:  // LONGLONG
            guard let v = buffer.readInteger(endianness: .little, as: UInt64.self) else { return nil }
            return unsigned ? .unsigned(v) : .int(Int64(bitPattern: v))
        case 0x04:  // FLOAT
            guard let v = buffer.readInteger(endianness: .little, as: UInt32.self) else { return nil }
            return .double(Double(Float(bitPattern: v)))
        case 0x05:  // DOUBLE
            guard let v = buffer.readInteger(endianness: .little, as: UInt64.self) else { return nil }
            return .double(Double(bitPattern: v))
        case 0x07, 0x0A, 0x0C:  // TIMESTAMP, DATE, DATETIME
            guard let length = buffer.readInteger(as: UInt8.self), let bytes = buffer.readBytes(length: Int(length)) else { return nil }
            return dateTime(bytes, dateOnly: type == 0x0A)
        case 0x0B:  // TIME
            guard let length = buffer.readInteger(as: UInt8.self), let bytes = buffer.readBytes(length: Int(length)) else { return nil }
            return time(bytes)
        default:  // strings, decimals, blobs, JSON, BIT, GEOMETRY: length-encoded bytes
            guard let slice = try? buffer.readLengthEncodedSlice() else { return nil }
            let bytes = Array(slice.readableBytesView)
            return isTextType(type) ? textOrBytes(bytes) : .bytes(bytes)
        }
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    static func dateTime(_ bytes: [UInt8], dateOnly: Bool) -> Value? {
        guard bytes.isEmpty || bytes.count >= 4 else { return nil }
        if bytes.isEmpty { return .text(dateOnly ? "0000-00-00" : "0000-00-00 00:00:00") }
        let year = Int(bytes[0]) | Int(bytes[1]) << 8
        var text = "\(pad(year, 4))-\(pad(Int(bytes[2]), 2))-\(pad(Int(bytes[3]), 2))"
        if dateOnly { return .text(text) }
        let hour = bytes.count >= 7 ? Int(bytes[4]) : 0
        let minute = bytes.count >= 7 ? Int(bytes[5]) : 0
        let second = bytes.count >= 7 ? Int(bytes[6]) : 0
        text += " \(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
        if bytes.count >= 11 {
            let micros = Int(bytes[7]) | Int(bytes[8]) << 8 | Int(bytes[9]) << 16 | Int(bytes[10]) << 24
            text += ".\(pad(micros, 6))"
        }
        return .text(text)
    }

    static func time(_ bytes: [UInt8]) -> Value? {
        guard bytes.isEmpty || bytes.count >= 8 else { return nil }
        if bytes.isEmpty { return .text("00:00:00") }
        let negative = bytes[0] == 1
        let days = Int(bytes[1]) | Int(bytes[2]) << 8 | Int(bytes[3]) << 16 | Int(bytes[4]) << 24
        let hours = days * 24 + Int(bytes[5])
        var text = "\(negative ? "-" : "")\(pad(hours, 2)):\(pad(Int(bytes[6]), 2)):\(pad(Int(bytes[7]), 2))"
        if bytes.count >= 12 {
            let micros = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            text += ".\(pad(micros, 6))"
        }
        return .text(text)
    }
}
