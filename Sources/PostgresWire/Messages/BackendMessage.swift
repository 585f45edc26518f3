import NIOCore

/// Backend (server → client) message type bytes. The relay looks at the type byte of every message but parses
/// bodies only for the few it must act on (authentication, key data, ready-for-query, command tags, errors).
public enum BackendMessageID: UInt8, Sendable {
    case authentication = 0x52  // R
    case parameterStatus = 0x53  // S
    case backendKeyData = 0x4B  // K
    case readyForQuery = 0x5A  // Z
    case rowDescription = 0x54  // T
    case dataRow = 0x44  // D
    case commandComplete = 0x43  // C
    case errorResponse = 0x45  // E
    case noticeResponse = 0x4E  // N
    case notificationResponse = 0x41  // A
    case parseComplete = 0x31  // 1
    case bindComplete = 0x32  // 2
    case closeComplete = 0x33  // 3
    case noData = 0x6E  // n
    case parameterDescription = 0x74  // t
    case portalSuspended = 0x73  // s
    case emptyQueryResponse = 0x49  // I
    case copyInResponse = 0x47  // G
    case copyOutResponse = 0x48  // H
    case copyBothResponse = 0x57  // W
    case copyData = 0x64  // d
    case copyDone = 0x63  // c
    case functionCallResponse = 0x56  // V
    case negotiateProtocolVersion = 0x76  // v
}

/// A backend message parsed as far as the proxy acts on it; everything else is ``other``.
public enum BackendMessage: Sendable, Hashable {
    /// `R` with its auth code (0 ok, 3 cleartext, 5 md5, 10 SASL, 11 SASL continue, 12 SASL final, …).
    case authentication(code: Int32)
    /// `K`.
    case backendKeyData(processID: Int32, secretKey: Int32)
    /// `Z` with the transaction status byte (`I`, `T`, `E`).
    case readyForQuery(status: UInt8)
    /// `C` with its tag (`INSERT 0 1`, `SET`, `COMMIT`).
    case commandComplete(tag: String)
    /// `E`.
    case errorResponse
    /// `S` with the parameter's name and value (`standard_conforming_strings`, `client_encoding`, …).
    case parameterStatus(name: String, value: String)
    /// Any other message; its bytes are relayed untouched.
    case other(BackendMessageID?)

    public init(frame: PostgresFrame) throws {
        var body = frame.body
        let id = BackendMessageID(rawValue: frame.id)
        func malformed() -> PostgresWireError {
            PostgresWireError(.malformedMessage, "malformed backend '\(frame.name)' message")
        }
        switch id {
        case .authentication:
            guard let code = body.readInteger(endianness: .big, as: Int32.self) else { throw malformed() }
            self = .authentication(code: code)
        case .backendKeyData:
            guard let (pid, key) = body.readMultipleIntegers(endianness: .big, as: (Int32, Int32).self) else {
                throw malformed()
            }
            self = .backendKeyData(processID: pid, secretKey: key)
        case .readyForQuery:
            guard let status = body.readInteger(as: UInt8.self) else { throw malformed() }
            self = .readyForQuery(status: status)
        case .commandComplete:
            guard let tag = body.readPostgresCString() else { throw malformed() }
            self = .commandComplete(tag: tag)
        case .errorResponse:
            self = .errorResponse
        case .parameterStatus:
            guard let name = body.readPostgresCString(), let value = body.readPostgresCString() else { throw malformed() }
            self = .parameterStatus(name: name, value: value)
        default:
            self = .other(id)
        }
    }
}

/// The fields of an ErrorResponse or NoticeResponse, keyed by their one-byte codes (`S`, `V`, `C`, `M`, …).
public struct PostgresErrorFields: Sendable, Hashable {
    public var fields: [(code: UInt8, value: String)]

    public init(fields: [(code: UInt8, value: String)]) {
        self.fields = fields
    }

    /// Parses the body of an `E` or `N` frame.
    public init(frame: PostgresFrame) throws {
        var body = frame.body
        var fields: [(code: UInt8, value: String)] = []
        while let code = body.readInteger(as: UInt8.self), code != 0 {
            guard let value = body.readPostgresCString() else {
                throw PostgresWireError(.malformedMessage, "malformed error fields")
            }
            fields.append((code, value))
        }
        self.fields = fields
    }

    public subscript(code: Character) -> String? {
        guard let ascii = code.asciiValue else { return nil }
        return fields.first { $0.code == ascii }?.value
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0 == $1 }
    }

    public func hash(into hasher: inout Hasher) {
        for f in fields {
            hasher.combine(f.code)
            hasher.combine(f.value)
        }
    }
}
