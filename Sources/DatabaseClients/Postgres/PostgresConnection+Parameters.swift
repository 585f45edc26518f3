internal import CLibPQ

/// A parameter value for ``PostgresConnection/query(_:parameters:)``: sent as text (the server parses it as the type
/// it infers for the placeholder) or as binary bytes (for `bytea`, byte for byte).
public enum PostgresParameter: Sendable, Hashable {
    case null
    case text(String)
    case binary([UInt8])
}

extension PostgresConnection {
    /// Runs one statement through the extended protocol (`PQexecParams`) with text and binary parameters; text
    /// results. Use ``query(_:params:)`` when every value is text.
    @discardableResult
    public func query(_ sql: String, parameters: [PostgresParameter]) throws -> QueryResult {
        let connection = try live(for: "query")
        let result = Self.withParameterArrays(parameters) { values, lengths, formats in
            PQexecParams(connection, sql, Int32(parameters.count), nil, values, lengths, formats, 0)
        }
        return try consume(result, context: "query on PostgreSQL \(endpoint)")
    }

    /// Calls `body` with libpq's parallel arrays for `parameters`: values (NUL-terminated text, binary read by
    /// length), lengths and formats (0 text, 1 binary), valid only during the call.
    static func withParameterArrays<T>(
        _ parameters: [PostgresParameter],
        _ body: (UnsafePointer<UnsafePointer<CChar>?>?, [Int32], [Int32]) -> T
    ) -> T {
        var values: [UnsafeMutablePointer<CChar>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        defer { for value in values { value?.deallocate() } }
        for parameter in parameters {
            let bytes: [UInt8]?
            switch parameter {
            case .null: bytes = nil
            case .text(let text): bytes = Array(text.utf8)
            case .binary(let data): bytes = data
            }
            formats.append(parameter.isBinary ? 1 : 0)
            guard let bytes else {
                values.append(nil)
                lengths.append(0)
                continue
            }
            let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            for (index, byte) in bytes.enumerated() { pointer[index] = CChar(bitPattern: byte) }
            pointer[bytes.count] = 0
            values.append(pointer)
            lengths.append(Int32(clamping: bytes.count))
        }
        return values.withUnsafeBufferPointer { pointers in
            pointers.withMemoryRebound(to: UnsafePointer<CChar>?.self) { constValues in
                body(constValues.baseAddress, lengths, formats)
            }
        }
    }
}

extension PostgresParameter {
    var isBinary: Bool {
        if case .binary = self { return true }
        return false
    }
}
