/// The outcome of comparing one table with its shadow.
public struct TableReport: Sendable, Hashable, Codable {
    public var base: String
    public var shadow: String
    /// The key the table was split by; empty when compared by a full ordered scan.
    public var key: [String]
    /// Columns compared (present on both sides), in base order.
    public var columns: [String]
    public var columnsOnlyInBase: [String]
    public var columnsOnlyInShadow: [String]
    /// Rows read from base.
    public var rowsCompared: Int
    /// Chunks checksummed at the top level (bisection steps not counted).
    public var chunks: Int
    /// Differences that held after the re-check (or all of them when there was no re-check).
    public var missingInShadow: Int
    public var extraInShadow: Int
    public var changed: Int
    /// Differences seen in the first pass that were gone on re-check (data still moving).
    public var resolvedOnRecheck: Int
    /// Whether a re-check ran (it does not under a consistent snapshot).
    public var rechecked: Bool
    /// The first differences, with the columns that changed.
    public var examples: [RowDifference]
    public var warnings: [String]
    /// Repair statements applied before this (re-checked) report; 0 when no repair ran.
    public var repairStatementsApplied: Int

    public init(base: String, shadow: String) {
        self.base = base
        self.shadow = shadow
        key = []
        columns = []
        columnsOnlyInBase = []
        columnsOnlyInShadow = []
        rowsCompared = 0
        chunks = 0
        missingInShadow = 0
        extraInShadow = 0
        changed = 0
        resolvedOnRecheck = 0
        rechecked = false
        examples = []
        warnings = []
        repairStatementsApplied = 0
    }

    /// Whether the table and its shadow hold the same rows in the compared columns.
    public var isIdentical: Bool { missingInShadow == 0 && extraInShadow == 0 && changed == 0 }

    /// Whether anything differs at all, including columns present on one side only.
    public var hasDifferences: Bool { !isIdentical || !columnsOnlyInBase.isEmpty || !columnsOnlyInShadow.isEmpty }
}

/// The whole run: one report per table, in the order compared.
public struct DiffReport: Sendable, Hashable, Codable {
    public var lane: String
    public var tables: [TableReport]

    public init(lane: String, tables: [TableReport] = []) {
        self.lane = lane
        self.tables = tables
    }

    /// 0 identical, 1 differences (errors exit 2 before a report exists).
    public var exitCode: Int32 { tables.contains(where: \.hasDifferences) ? 1 : 0 }
}
