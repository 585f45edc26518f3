/// A value bound to a prepared-statement parameter.
///
/// Each case maps to the wire type the server receives, so a test can check how a proxy handles each
/// parameter type (MariaDB's COM_STMT_EXECUTE carries the type per parameter).
public enum DatabaseValue: Sendable, Hashable {
    /// SQL NULL.
    case null
    /// A UTF-8 string (MariaDB `MYSQL_TYPE_STRING`).
    case text(String)
    /// A signed 64-bit integer (MariaDB `MYSQL_TYPE_LONGLONG`).
    case int(Int64)
    /// A double-precision float (MariaDB `MYSQL_TYPE_DOUBLE`).
    case double(Double)
    /// Raw bytes, binary-safe (MariaDB `MYSQL_TYPE_BLOB`).
    case bytes([UInt8])
}

extension DatabaseValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(nilLiteral: ()) { self = .null }
}
