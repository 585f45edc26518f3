/// The outcome of one statement: its columns and rows (if it returned any) and what it changed.
///
/// Cells are kept as the bytes the server sent (text protocol, or the string conversion of binary-protocol
/// values), so binary data round-trips exactly; `rows` decodes them as UTF-8 for the common case.
/// A whole result is held in memory: these clients are for the control plane and tests, not the data path.
public struct QueryResult: Sendable, Equatable {
    /// Column names in order; empty for statements that return no rows.
    public var columns: [String]
    /// Each row's cells as raw bytes; `nil` is SQL NULL.
    public var rawRows: [[[UInt8]?]]
    /// Rows changed by INSERT/UPDATE/DELETE (MariaDB affected rows; PostgreSQL `PQcmdTuples`). 0 otherwise.
    public var affectedRows: UInt64
    /// MariaDB's LAST_INSERT_ID() for this statement; always 0 on PostgreSQL.
    public var lastInsertID: UInt64
    /// MariaDB's warning count after the statement; always 0 on PostgreSQL (warnings arrive as notices there).
    public var warnings: Int
    /// PostgreSQL's command tag (`INSERT 0 1`, `SELECT 3`); MariaDB's `mysql_info` text when it has one.
    public var commandTag: String?

    public init(
        columns: [String] = [],
        rawRows: [[[UInt8]?]] = [],
        affectedRows: UInt64 = 0,
        lastInsertID: UInt64 = 0,
        warnings: Int = 0,
        commandTag: String? = nil
    ) {
        self.columns = columns
        self.rawRows = rawRows
        self.affectedRows = affectedRows
        self.lastInsertID = lastInsertID
        self.warnings = warnings
        self.commandTag = commandTag
    }

    /// Rows decoded as UTF-8 text (invalid sequences become U+FFFD); `nil` is SQL NULL.
    public var rows: [[String?]] {
        rawRows.map { row in row.map { cell in cell.map { String(decoding: $0, as: UTF8.self) } } }
    }

    /// The first column of the first row as text, or `nil` when there is none or it is NULL.
    public var scalar: String? {
        guard let first = rawRows.first?.first, let bytes = first else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
