/// Keywords the analyzers look for, recognised case-insensitively without allocating.
/// Anything not listed is `.none` (an identifier or an uninteresting keyword).
enum Keyword: UInt8, Sendable, CaseIterable {
    case none, abort, after, algorithm, all, alter, analyze, and, `as`, asc, attach, before, begin, by, call
    case cascade, change, characteristics, connection, check, checkpoint, checksum, close, cluster, column, columns, comment
    case commit, concurrently, constraint, copy, create, cross, data, database, deallocate, declare, `default`
    case definer, delayed, delete, desc, describe, detach, discard, distinct, `do`, drop, dual, dumpfile, duplicate
    case `else`, end, event, except, exchange, execute, exists, explain, extended, `extension`, fetch, fields, first
    case flush, `for`, force, format, freeze, from, full, fulltext, function, global, grant, group, handler, having
    case help, high_priority, `if`, ignore, immediate, `in`, index, indexes, infile, inherit, inherits, inner
    case insert, intersect, into, `is`, join, key, keys, kill, lateral, left, like, limit, listen, load, local, lock
    case low_priority, matched, materialized, merge, minus, mode, move, natural, next, nextval, no, not, notify, nowait
    case null, of
    case offset, on, only, optimize, or, order, outer, outfile, partition, partitions, prepare, procedure, quick
    case read, recursive, references, refresh, reindex, release, rename, repair, replace, reset, restrict, returning
    case revoke, right, role, rollback, savepoint, schema, security, select, sequence, session, set, setval, share
    case show, statement
    case skip, spatial, sql, start, status, stdin, straight_join, table, tables, tablesample, temp, temporary, then
    case to, transaction, trigger, truncate, `type`, union, unique, unlisten, unlock, unlogged, update, use, user
    case using, vacuum, value, values, verbose, view, wait, when, `where`, window, with, work, write, xa
}

extension Keyword {
    static let maxLength = Keyword.allCases.map { String(describing: $0).utf8.count }.max() ?? 0

    /// Open-addressing hash table over the lower-cased spellings: one hash pass and usually one probe.
    struct Table: Sendable {
        static let slotCount = 1024
        var slots: [Int16] = Array(repeating: -1, count: slotCount)
        var hashes: [UInt64] = []
        var keywords: [Keyword] = []
        var offsets: [Int] = []
        var flat: [UInt8] = []

        init() {
            // Each case's name is its spelling.
            for keyword in Keyword.allCases where keyword != .none {
                let bytes = Array(String(describing: keyword).utf8)
                var h: UInt64 = 0xcbf2_9ce4_8422_2325
                for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
                var slot = Int(h & UInt64(Self.slotCount - 1))
                while self.slots[slot] >= 0 { slot = (slot + 1) & (Self.slotCount - 1) }
                self.slots[slot] = Int16(self.keywords.count)
                self.hashes.append(h)
                self.keywords.append(keyword)
                self.offsets.append(self.flat.count)
                self.flat += bytes
            }
            self.offsets.append(self.flat.count)
        }
    }

    private static let hashTable = Table()
    // Separate globals so a lookup reads array storage without retaining a struct of arrays.
    static let slots = hashTable.slots
    static let hashes = hashTable.hashes
    static let keywords = hashTable.keywords
    static let offsets = hashTable.offsets
    static let flat = hashTable.flat

    /// The keyword spelled by `bytes[start..<end]` (ASCII case-insensitive), or `.none`.
    static func lookup(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Keyword {
        let length = end - start
        guard length > 1, length <= maxLength else { return .none }
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in start..<end { h = (h ^ UInt64(ByteClass.lower(bytes[i]))) &* 0x100_0000_01b3 }
        var slot = Int(h & UInt64(Table.slotCount - 1))
        while true {
            let index = Int(Self.slots[slot])
            if index < 0 { return .none }
            if Self.hashes[index] == h && Self.offsets[index + 1] - Self.offsets[index] == length {
                let offset = Self.offsets[index]
                var same = true
                for i in 0..<length where Self.flat[offset + i] != ByteClass.lower(bytes[start + i]) {
                    same = false
                    break
                }
                if same { return Self.keywords[index] }
            }
            slot = (slot + 1) & (Table.slotCount - 1)
        }
    }
}
