import ShadowSQL

/// One database session the data tools talk through: base side or shadow side of a comparison.
///
/// Every call is a blocking round trip; the tools run their queries one at a time per side (a concurrency limit of
/// one per side keeps the load on production predictable). Values come back in the server's text form; NULL is nil.
public protocol DiffConnection: AnyObject {
    /// The SQL dialect the server speaks.
    var dialect: SQLDialect { get }
    /// Runs a statement that returns rows; every row has one optional text value per selected column.
    func query(_ sql: String) throws -> [[String?]]
    /// Runs a statement that returns no rows; returns the number of rows it affected.
    @discardableResult func execute(_ sql: String) throws -> Int
}

extension DiffConnection {
    /// The first column of the first row, or nil when there is no row or the value is NULL.
    func scalar(_ sql: String) throws -> String? {
        try query(sql).first?.first ?? nil
    }
}
