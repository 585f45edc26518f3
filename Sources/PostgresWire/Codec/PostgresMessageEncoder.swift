import NIOCore

/// Encoders for the messages the proxy writes itself. Everything it merely relays is forwarded as received.
public enum PostgresMessageEncoder {
    /// Writes `id`, a length placeholder, the body from `body`, then patches the length.
    @inlinable
    static func message(id: UInt8?, into buffer: inout ByteBuffer, _ body: (inout ByteBuffer) -> Void) {
        if let id { buffer.writeInteger(id) }
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(Int32(0), endianness: .big)
        body(&buffer)
        buffer.setInteger(Int32(buffer.writerIndex - lengthIndex), at: lengthIndex, endianness: .big)
    }

    /// A StartupMessage with the given (possibly edited) parameters.
    public static func startup(_ startup: StartupMessage) -> ByteBuffer {
        var buffer = ByteBuffer()
        message(id: nil, into: &buffer) { b in
            b.writeInteger(startup.protocolVersion, endianness: .big)
            for (name, value) in startup.parameters {
                b.writePostgresCString(name)
                b.writePostgresCString(value)
            }
            b.writeInteger(UInt8(0))
        }
        return buffer
    }

    /// An SSLRequest (sent to a backend before TLS).
    public static func sslRequest() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeMultipleIntegers(Int32(8), PostgresStartupDecoder.sslRequestCode, endianness: .big)
        return buffer
    }

    /// A CancelRequest carrying a backend's real key.
    public static func cancelRequest(processID: Int32, secretKey: Int32) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeMultipleIntegers(
            Int32(16), PostgresStartupDecoder.cancelRequestCode, processID, secretKey, endianness: .big)
        return buffer
    }

    /// `f` (CopyFail): ends a COPY FROM STDIN with an error the server reports back to the client.
    public static func copyFail(message text: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        message(id: UInt8(ascii: "f"), into: &buffer) { $0.writePostgresCString(text) }
        return buffer
    }

    /// `Q` with new SQL text.
    public static func query(sql: some Collection<UInt8>) -> ByteBuffer {
        var buffer = ByteBuffer()
        message(id: UInt8(ascii: "Q"), into: &buffer) { b in
            b.writeBytes(sql)
            b.writeInteger(UInt8(0))
        }
        return buffer
    }

    /// `P` with new SQL text and the original parameter-type tail.
    public static func parse(statement: String, sql: some Collection<UInt8>, parameterTypes: ByteBuffer) -> ByteBuffer {
        var buffer = ByteBuffer()
        message(id: UInt8(ascii: "P"), into: &buffer) { b in
            b.writePostgresCString(statement)
            b.writeBytes(sql)
            b.writeInteger(UInt8(0))
            var tail = parameterTypes
            b.writeBuffer(&tail)
        }
        return buffer
    }

    /// `B` binding `portal` to `statement` with no parameters and default formats.
    public static func bind(portal: String, statement: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        message(id: UInt8(ascii: "B"), into: &buffer) { b in
            b.writePostgresCString(portal)
            b.writePostgresCString(statement)
            b.writeMultipleIntegers(Int16(0), Int16(0), Int16(0), endianness: .big)
        }
        return buffer
    }

    /// `D` (Describe) or `C` (Close) of a statement or portal.
    public static func describeOrClose(id: UInt8, kind: UInt8, name: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        message(id: id, into: &buffer) { b in
            b.writeInteger(kind)
            b.writePostgresCString(name)
        }
        return buffer
    }

    /// `E` (Execute).
    public static func execute(portal: String, maxRows: Int32 = 0) -> ByteBuffer {
        var buffer = ByteBuffer()
        message(id: UInt8(ascii: "E"), into: &buffer) { b in
            b.writePostgresCString(portal)
            b.writeInteger(maxRows, endianness: .big)
        }
        return buffer
    }

    /// `E` (ErrorResponse) with severity, SQLSTATE, message and optional detail/hint.
    public static func errorResponse(
        severity: String = "ERROR", sqlState: String, message text: String, detail: String? = nil, hint: String? = nil
    ) -> ByteBuffer {
        var buffer = ByteBuffer()
        message(id: UInt8(ascii: "E"), into: &buffer) { b in
            for (code, value) in [("S", severity), ("V", severity), ("C", sqlState), ("M", text)] {
                b.writeInteger(UInt8(ascii: Unicode.Scalar(code)!))
                b.writePostgresCString(value)
            }
            if let detail {
                b.writeInteger(UInt8(ascii: "D"))
                b.writePostgresCString(detail)
            }
            if let hint {
                b.writeInteger(UInt8(ascii: "H"))
                b.writePostgresCString(hint)
            }
            b.writeInteger(UInt8(0))
        }
        return buffer
    }

    /// `Z` with a transaction status (`I`, `T`, `E`).
    public static func readyForQuery(status: UInt8) -> ByteBuffer {
        var buffer = ByteBuffer()
        message(id: UInt8(ascii: "Z"), into: &buffer) { b in b.writeInteger(status) }
        return buffer
    }

    /// `K` with the key the proxy issues to its client.
    public static func backendKeyData(processID: Int32, secretKey: Int32) -> ByteBuffer {
        var buffer = ByteBuffer()
        message(id: UInt8(ascii: "K"), into: &buffer) { b in
            b.writeMultipleIntegers(processID, secretKey, endianness: .big)
        }
        return buffer
    }

    /// The single-byte answer to SSLRequest/GSSENCRequest: `S` (go ahead with TLS) or `N` (no).
    public static func singleByte(_ byte: UInt8) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(byte)
        return buffer
    }

    /// `v` NegotiateProtocolVersion: the newest minor version supported and the `_pq_.` options not recognised.
    public static func negotiateProtocolVersion(newestMinor: Int32, unrecognizedOptions: [String]) -> ByteBuffer {
        var buffer = ByteBuffer()
        message(id: UInt8(ascii: "v"), into: &buffer) { b in
            b.writeMultipleIntegers(newestMinor, Int32(unrecognizedOptions.count), endianness: .big)
            for option in unrecognizedOptions { b.writePostgresCString(option) }
        }
        return buffer
    }

    /// `R` AuthenticationSASL with a mechanism list.
    public static func authenticationSASL(mechanisms: [String]) -> ByteBuffer {
        var buffer = ByteBuffer()
        message(id: UInt8(ascii: "R"), into: &buffer) { b in
            b.writeInteger(Int32(10), endianness: .big)
            for mechanism in mechanisms { b.writePostgresCString(mechanism) }
            b.writeInteger(UInt8(0))
        }
        return buffer
    }
}
