/// A ``LaneMapping`` turned into byte-level lookup tables for one dialect, so that resolving a table reference
/// hashes the token's bytes instead of building strings. A class so that handing it around per statement costs
/// one retain; it is never mutated after `init`, hence the unchecked conformance.
final class PreparedMapping: @unchecked Sendable {
    /// A configured name split at its first dot, normalized for comparison, plus its spelling for output.
    struct Name: Sendable {
        var qualifier: [UInt8]?
        var name: [UInt8]
        var rawQualifier: [UInt8]?
        var rawName: [UInt8]
    }

    /// What to do with one table reference.
    enum Decision: Equatable {
        /// Leave it: shared, already a shadow name, or a CTE.
        case keep
        /// No rule maps it: the lane's policy decides.
        case unmapped
        /// Replace the name and/or set the qualifier (spellings, unquoted).
        case rename(qualifier: [UInt8]?, name: [UInt8]?)
    }

    let source: LaneMapping
    let dialect: SQLDialect
    private var tables: [(key: Name, value: Name)] = []
    private var tableIndex: [UInt64: [Int]] = [:]
    private var tableValueNames: Set<UInt64> = []
    private var shared: [Name] = []
    private var sharedIndex: [UInt64: [Int]] = [:]
    private var databases: [(key: [UInt8], value: [UInt8])] = []
    private var databaseValues: [[UInt8]] = []
    private var suffix: [UInt8]?
    private var rawSuffix: [UInt8]?
    private var defaultDatabase: [UInt8]?

    init(_ mapping: LaneMapping, dialect: SQLDialect) {
        self.source = mapping
        self.dialect = dialect
        let sensitive = mapping.caseSensitiveNames
        func split(_ s: String) -> Name {
            let raw = Array(s.utf8)
            if let dot = raw.firstIndex(of: 0x2E) {
                let q = Array(raw[..<dot])
                let n = Array(raw[(dot + 1)...])
                return Name(
                    qualifier: Self.normalize(q, dialect, sensitive), name: Self.normalize(n, dialect, sensitive),
                    rawQualifier: q, rawName: n)
            }
            return Name(qualifier: nil, name: Self.normalize(raw, dialect, sensitive), rawQualifier: nil, rawName: raw)
        }
        for (key, value) in mapping.tables.sorted(by: { $0.key < $1.key }) {
            let k = split(key)
            let v = split(value)
            self.tableIndex[IdentifierText.hash(k.name), default: []].append(self.tables.count)
            self.tables.append((k, v))
            self.tableValueNames.insert(IdentifierText.hash(v.name))
        }
        for name in mapping.sharedTables.sorted() {
            let n = split(name)
            self.sharedIndex[IdentifierText.hash(n.name), default: []].append(self.shared.count)
            self.shared.append(n)
        }
        for (key, value) in mapping.databases.sorted(by: { $0.key < $1.key }) {
            self.databases.append((Self.normalize(Array(key.utf8), dialect, sensitive), Array(value.utf8)))
            self.databaseValues.append(Self.normalize(Array(value.utf8), dialect, sensitive))
        }
        if let suffix = mapping.tableSuffix, !suffix.isEmpty {
            self.rawSuffix = Array(suffix.utf8)
            self.suffix = Self.normalize(Array(suffix.utf8), dialect, sensitive)
        }
        if let database = mapping.defaultDatabase, !database.isEmpty {
            self.defaultDatabase = Array(database.utf8)
            self.databaseValues.append(Self.normalize(Array(database.utf8), dialect, sensitive))
        }
    }

    static func normalize(_ raw: [UInt8], _ dialect: SQLDialect, _ caseSensitive: Bool) -> [UInt8] {
        dialect == .mysql && !caseSensitive ? raw.map(ByteClass.lower) : raw
    }

    /// Resolves `[qualifier.]name` following the rules documented on ``LaneMapping`` and in docs/rewrite-rules.md.
    func resolve(qualifier: SignificantToken?, name: SignificantToken, renameTarget: Bool, text: IdentifierText)
        -> Decision
    {
        let nameHash = text.hash(name)
        // An empty quoted name (`""`, ``` `` ```) is no table: the server rejects it, so leave it for that error
        // (renaming it to the bare suffix would create a valid name and break idempotence).
        var isEmpty = true
        text.forEachByte(name, normalized: false) { _ in isEmpty = false }
        if isEmpty { return .keep }
        // Already a shadow name: rewriting is idempotent.
        if let suffix = self.suffix, text.hasSuffix(name, suffix) { return .keep }
        if self.tableValueNames.contains(nameHash), self.tables.contains(where: { entry in
            guard text.equals(name, entry.value.name) else { return false }
            // `a: shadow_db.a` keeps the table's name: only `shadow_db.a` itself is the shadow, a bare `a` (or
            // `base_db.a`) is the base table and is renamed below.
            guard let valueQualifier = entry.value.qualifier else { return true }
            return qualifier.map { text.equals($0, valueQualifier) } ?? false
        }) {
            return .keep
        }
        if let qualifier, self.databaseValues.contains(where: { text.equals(qualifier, $0) }) { return .keep }
        // (a) shared tables.
        if let candidates = self.sharedIndex[nameHash] {
            for index in candidates {
                let entry = self.shared[index]
                guard text.equals(name, entry.name) else { continue }
                if let q = entry.qualifier {
                    if let qualifier, text.equals(qualifier, q) { return .keep }
                } else {
                    return .keep
                }
            }
        }
        // (b) explicit table entries: qualified keys first, then bare keys.
        if let candidates = self.tableIndex[nameHash] {
            var bare: Name?
            for index in candidates {
                let entry = self.tables[index]
                guard text.equals(name, entry.key.name) else { continue }
                if let q = entry.key.qualifier {
                    if let qualifier, text.equals(qualifier, q) {
                        return .rename(qualifier: entry.value.rawQualifier, name: entry.value.rawName)
                    }
                } else {
                    bare = entry.value
                }
            }
            if let bare { return .rename(qualifier: bare.rawQualifier, name: bare.rawName) }
        }
        // (c) database redirects.
        if let qualifier {
            for entry in self.databases where text.equals(qualifier, entry.key) {
                return .rename(qualifier: entry.value, name: nil)
            }
        } else if let database = self.defaultDatabase {
            // (d) shadow schema for unqualified names (PostgreSQL forbids a schema on a RENAME target).
            if renameTarget && self.dialect == .postgres { return .keep }
            return .rename(qualifier: database, name: nil)
        }
        // (e) suffix rule.
        if let suffix = self.rawSuffix {
            var base = text.logical(name)
            if self.dialect == .postgres && name.kind == .word { base = base.map(ByteClass.lower) }
            return .rename(qualifier: nil, name: base + suffix)
        }
        return .unmapped
    }
}
