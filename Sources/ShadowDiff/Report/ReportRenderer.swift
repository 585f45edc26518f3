import Foundation

/// Renders a ``DiffReport`` for people (text) or programs (JSON, stable key order).
public enum ReportRenderer {
    public static func text(_ report: DiffReport) -> String {
        var out = ""
        for table in report.tables {
            let verdict = table.hasDifferences ? "DIFFERENT" : "identical"
            out += "\(table.base) → \(table.shadow): \(verdict)\n"
            let keyText = table.key.isEmpty ? "none (full ordered scan)" : table.key.joined(separator: ", ")
            out += "  key: \(keyText); rows compared: \(table.rowsCompared); chunks: \(table.chunks)\n"
            out += "  missing in shadow: \(table.missingInShadow); extra in shadow: \(table.extraInShadow); "
                + "changed: \(table.changed)\n"
            if table.rechecked {
                out += "  re-checked after a delay: \(table.resolvedOnRecheck) difference(s) resolved themselves; "
                    + "the counts above held\n"
            }
            if !table.columnsOnlyInBase.isEmpty {
                out += "  columns only in base (not compared): \(table.columnsOnlyInBase.joined(separator: ", "))\n"
            }
            if !table.columnsOnlyInShadow.isEmpty {
                out += "  columns only in shadow (not compared): \(table.columnsOnlyInShadow.joined(separator: ", "))\n"
            }
            if table.repairStatementsApplied > 0 {
                out += "  repaired: \(table.repairStatementsApplied) statement(s) applied to the shadow, then re-checked\n"
            }
            for warning in table.warnings { out += "  warning: \(warning)\n" }
            for example in table.examples {
                out += "  " + describe(example, columns: table.columns) + "\n"
            }
        }
        let different = report.tables.filter(\.hasDifferences).count
        out += "\(report.tables.count) table(s) compared in lane '\(report.lane)'; \(different) with differences\n"
        return out
    }

    static func describe(_ difference: RowDifference, columns: [String]) -> String {
        let key = "(" + difference.key.joined(separator: ", ") + ")"
        let times = difference.count > 1 ? " ×\(difference.count)" : ""
        switch difference.kind {
        case .missing:
            return "missing in shadow: key \(key)\(times)"
        case .extra:
            return "extra in shadow: key \(key)\(times)"
        case .changed:
            let details = difference.columns.map { name -> String in
                let index = columns.firstIndex(of: name)
                let before = index.flatMap { difference.baseValues?[$0] }.map(show) ?? "NULL"
                let after = index.flatMap { difference.shadowValues?[$0] }.map(show) ?? "NULL"
                return "\(name): \(before) ≠ \(after)"
            }
            return "changed: key \(key): " + details.joined(separator: "; ")
        }
    }

    private static func show(_ value: String) -> String {
        let clipped = value.count > 60 ? String(value.prefix(60)) + "…" : value
        return "'" + clipped + "'"
    }

    public static func json(_ report: DiffReport) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        guard let data = try? encoder.encode(JSONReport(report)) else { return "{}" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// The JSON shape: the report plus derived verdicts, so consumers need not recompute them.
    private struct JSONReport: Encodable {
        var lane: String
        var identical: Bool
        var tables: [JSONTable]
        init(_ report: DiffReport) {
            lane = report.lane
            identical = report.exitCode == 0
            tables = report.tables.map(JSONTable.init)
        }
    }

    private struct JSONTable: Encodable {
        var table: TableReport
        var identical: Bool
        init(_ table: TableReport) {
            self.table = table
            identical = !table.hasDifferences
        }
        enum CodingKeys: String, CodingKey { case identical }
        func encode(to encoder: any Encoder) throws {
            try table.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(identical, forKey: .identical)
        }
    }
}
