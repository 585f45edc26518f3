/// Where in a configuration file a problem is: the file name as given, and a 1-based line and column.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// One problem found in a configuration file: what is wrong, where, and what to do about it.
///
/// Rendered like a compiler diagnostic so editors can jump to it:
/// `config.yaml:12:5: error: lanes.gray.unmapped_writes: expected one of reject, pass, found 'rejct'`.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, machine-readable category. Extensible: new codes are new static members, never new enum cases,
    /// so adding one does not break exhaustive switches in callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The file could not be read at all.
        public static let unreadableFile = Code("unreadable_file")
        /// The text is not YAML (syntax error, bad encoding, binary data).
        public static let invalidYAML = Code("invalid_yaml")
        /// The document nests deeper than any configuration needs; refused before parsing to protect the stack.
        public static let tooDeep = Code("too_deep")
        /// A key the loader does not know (often a typo).
        public static let unknownKey = Code("unknown_key")
        /// The same key appears twice in one mapping.
        public static let duplicateKey = Code("duplicate_key")
        /// A required key is absent.
        public static let missingKey = Code("missing_key")
        /// A value has the wrong YAML shape (a list where a map is expected, a map where text is expected…).
        public static let wrongType = Code("wrong_type")
        /// A value has the right shape but is not allowed (not one of a closed set, out of range, malformed).
        public static let invalidValue = Code("invalid_value")
        /// An address is not `host:port`.
        public static let badEndpoint = Code("bad_endpoint")
        /// Two listeners share a name.
        public static let duplicateListenerName = Code("duplicate_listener_name")
        /// Two listeners (or a listener and the admin endpoint) would bind the same port.
        public static let duplicatePort = Code("duplicate_port")
        /// A lane refers to a listener that does not exist.
        public static let unknownListener = Code("unknown_listener")
        /// A lane has the base lane's name.
        public static let laneNamedLikeBase = Code("lane_named_like_base")
        /// A login user (or application_name prefix) is claimed by two lanes.
        public static let ambiguousLaneMember = Code("ambiguous_lane_member")
        /// A suffix rule with no text would map every table onto itself.
        public static let emptySuffix = Code("empty_suffix")
        /// A shadow name equals its base name, so the lane would write the base object.
        public static let shadowEqualsBase = Code("shadow_equals_base")
        /// A shadow name exceeds the server's identifier limit (PostgreSQL would silently truncate it).
        public static let identifierTooLong = Code("identifier_too_long")
        /// A TLS certificate or key file does not exist.
        public static let missingFile = Code("missing_file")
        /// Two keys that say the same thing in different words are both present.
        public static let conflictingKeys = Code("conflicting_keys")
        /// A hot reload changes something only a restart can apply (dual-write streams, the replay log).
        public static let reloadNotPossible = Code("reload_not_possible")
    }

    public var code: Code
    /// Where the problem is; nil only when the file itself could not be read or parsed without a position.
    public var location: SourceLocation?
    /// The dotted path of the offending key (`lanes.gray.unmapped_writes`, `listeners[0].listen`); empty at the root.
    public var path: String
    /// What is wrong, in one sentence.
    public var message: String
    /// What to do about it.
    public var fix: String?

    public init(code: Code, location: SourceLocation?, path: String, message: String, fix: String? = nil) {
        self.code = code
        self.location = location
        self.path = path
        self.message = message
        self.fix = fix
    }

    /// `file:line:col: error: path: message`, one line, without the fix.
    public var description: String {
        let place = location.map { "\($0): " } ?? ""
        let key = path.isEmpty ? "" : "\(path): "
        return "\(place)error: \(key)\(message)"
    }

    /// The diagnostic line followed, when there is one, by an indented `fix:` line.
    public var rendered: String {
        guard let fix else { return description }
        return "\(description)\n    fix: \(fix)"
    }
}

/// Every problem found in one configuration file, in file order. Thrown by the loaders instead of the first error,
/// so an operator fixes a file in one pass.
public struct ConfigErrors: Error, Sendable, Hashable, CustomStringConvertible {
    public var errors: [ConfigError]

    public init(_ errors: [ConfigError]) {
        self.errors = errors
    }

    /// All diagnostics, one per line (each followed by its fix line).
    public var description: String { errors.map(\.rendered).joined(separator: "\n") }
}
