/// Parsers for the unit-carrying scalars of the configuration: durations and byte sizes.
enum ValueParsers {
    /// `500ms`, `10s`, `1.5s`, `2m`, `1h` → seconds. A bare number is refused: a unit-less timeout is a guess.
    static func seconds(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (unit, factor) in units where text.hasSuffix(unit) {
            let number = text.dropLast(unit.count)
            guard isPlainDecimal(number), let value = Double(number) else { return nil }
            return value * factor
        }
        return nil
    }

    /// `65536`, `512B`, `512KiB`, `64MiB`, `1GiB` → bytes. Binary units only: `MB` would be ambiguous.
    static func bytes(_ text: String) -> Int? {
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("B", 1)]
        for (unit, factor) in units where text.hasSuffix(unit) {
            guard let value = Int(text.dropLast(unit.count)), value >= 0, value <= Int.max / factor else { return nil }
            return value * factor
        }
        return Int(text).flatMap { $0 >= 0 ? $0 : nil }
    }

    private static func isPlainDecimal(_ text: Substring) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") } && text.first != "."
    }
}
