/// The `options` startup parameter, parsed the way the server does (`pg_split_opts`): words separated by
/// whitespace, a backslash makes the next character literal; `-c name=value`, `-cname=value` and `--name=value`
/// set a configuration parameter.
public struct StartupOptions: Sendable, Hashable {
    /// One word of the options string, and the setting it carries if it is (part of) a `-c`/`--` option.
    public struct Setting: Sendable, Hashable {
        public var name: String
        public var value: String
        /// Indices into ``words`` that spell this setting (one or two words).
        public var wordIndices: [Int]
    }

    /// The unescaped words.
    public var words: [String]
    /// The settings found, in order.
    public var settings: [Setting]

    public init(parsing text: String) {
        var words: [String] = []
        var current = ""
        var inWord = false
        var escaped = false
        for ch in text {
            if escaped {
                current.append(ch)
                escaped = false
                inWord = true
            } else if ch == "\\" {
                escaped = true
                inWord = true
            } else if ch == " " || ch == "\t" || ch == "\n" || ch == "\r" {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(ch)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        self.words = words

        var settings: [Setting] = []
        var i = 0
        while i < words.count {
            let word = words[i]
            var assignment: String?
            var indices = [i]
            if word == "-c", i + 1 < words.count {
                assignment = words[i + 1]
                indices.append(i + 1)
                i += 1
            } else if word.hasPrefix("-c") && word.count > 2 {
                assignment = String(word.dropFirst(2))
            } else if word.hasPrefix("--") && word.count > 2 {
                // The server turns dashes into underscores in long options.
                let long = String(word.dropFirst(2))
                if let eq = long.firstIndex(of: "=") {
                    assignment = String(long[..<eq].map { $0 == "-" ? "_" : $0 }) + long[eq...]
                }
            }
            if let assignment, let eq = assignment.firstIndex(of: "=") {
                settings.append(
                    Setting(
                        name: String(assignment[..<eq]), value: String(assignment[assignment.index(after: eq)...]),
                        wordIndices: indices))
            }
            i += 1
        }
        self.settings = settings
    }

    /// The last value given for `name` (setting names compare case-insensitively, as on the server).
    public func value(of name: String) -> String? {
        let lower = name.lowercased()
        return settings.last { $0.name.lowercased() == lower }?.value
    }

    /// The options text without any setting called `name`, re-escaped for the server.
    public func removing(_ name: String) -> String {
        let lower = name.lowercased()
        var drop = Set<Int>()
        for s in settings where s.name.lowercased() == lower { drop.formUnion(s.wordIndices) }
        return words.enumerated().filter { !drop.contains($0.offset) }.map { Self.escape($0.element) }.joined(
            separator: " ")
    }

    static func escape(_ word: String) -> String {
        var out = ""
        for ch in word {
            if ch == "\\" || ch == " " || ch == "\t" || ch == "\n" || ch == "\r" { out.append("\\") }
            out.append(ch)
        }
        return out
    }
}

