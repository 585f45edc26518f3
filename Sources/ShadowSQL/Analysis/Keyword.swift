/// Keywords the analyzers look for, recognised case-insensitively without allocating.
/// Anything not listed is `.none` (an identifier or an uninteresting keyword).
enum Keyword: UInt8, Sendable {
    case none
    case abort
    case after
    case algorithm
    case all
    case alter
    case analyze
    case and
    case `as`
    case asc
    case attach
    case before
    case begin
    case by
    case call
    case cascade
    case change
    case characteristics
    case check
    case checkpoint
    case checksum
    case close
    case cluster
    case column
    case columns
    case comment
    case commit
    case concurrently
    case constraint
    case copy
    case create
    case cross
    case data
    case database
    case deallocate
    case declare
    case `default`
    case definer
    case delayed
    case delete
    case desc
    case describe
    case detach
    case discard
    case distinct
    case `do`
    case drop
    case dual
    case dumpfile
    case duplicate
    case `else`
    case end
    case event
    case except
    case exchange
    case execute
    case exists
    case explain
    case extended
    case `extension`
    case fetch
    case fields
    case first
    case flush
    case `for`
    case force
    case format
    case freeze
    case from
    case full
    case fulltext
    case function
    case global
    case grant
    case group
    case handler
    case having
    case help
    case high_priority
    case `if`
    case ignore
    case immediate
    case `in`
    case index
    case indexes
    case infile
    case inherit
    case inherits
    case inner
    case insert
    case intersect
    case into
    case `is`
    case join
    case key
    case keys
    case kill
    case lateral
    case left
    case like
    case limit
    case listen
    case load
    case local
    case lock
    case low_priority
    case matched
    case materialized
    case merge
    case minus
    case mode
    case move
    case natural
    case no
    case not
    case notify
    case nowait
    case null
    case of
    case offset
    case on
    case only
    case optimize
    case or
    case order
    case outer
    case outfile
    case partition
    case partitions
    case prepare
    case procedure
    case quick
    case read
    case recursive
    case references
    case refresh
    case reindex
    case release
    case rename
    case repair
    case replace
    case reset
    case restrict
    case returning
    case revoke
    case right
    case role
    case rollback
    case savepoint
    case schema
    case security
    case select
    case sequence
    case session
    case set
    case share
    case show
    case skip
    case spatial
    case sql
    case start
    case status
    case stdin
    case straight_join
    case table
    case tables
    case tablesample
    case temp
    case temporary
    case then
    case to
    case transaction
    case trigger
    case truncate
    case `type`
    case union
    case unique
    case unlisten
    case unlock
    case unlogged
    case update
    case use
    case user
    case using
    case vacuum
    case value
    case values
    case verbose
    case view
    case when
    case `where`
    case window
    case with
    case work
    case write
    case xa
}

extension Keyword {
    /// Spellings, indexed by length, then checked byte by byte.
    static let spellings: [[(bytes: [UInt8], keyword: Keyword)]] = {
        var table = [[(bytes: [UInt8], keyword: Keyword)]](repeating: [], count: maxLength + 1)
        let all: [(String, Keyword)] = [
            ("abort", .abort),
            ("after", .after),
            ("algorithm", .algorithm),
            ("all", .all),
            ("alter", .alter),
            ("analyze", .analyze),
            ("and", .and),
            ("as", .`as`),
            ("asc", .asc),
            ("attach", .attach),
            ("before", .before),
            ("begin", .begin),
            ("by", .by),
            ("call", .call),
            ("cascade", .cascade),
            ("change", .change),
            ("characteristics", .characteristics),
            ("check", .check),
            ("checkpoint", .checkpoint),
            ("checksum", .checksum),
            ("close", .close),
            ("cluster", .cluster),
            ("column", .column),
            ("columns", .columns),
            ("comment", .comment),
            ("commit", .commit),
            ("concurrently", .concurrently),
            ("constraint", .constraint),
            ("copy", .copy),
            ("create", .create),
            ("cross", .cross),
            ("data", .data),
            ("database", .database),
            ("deallocate", .deallocate),
            ("declare", .declare),
            ("default", .`default`),
            ("definer", .definer),
            ("delayed", .delayed),
            ("delete", .delete),
            ("desc", .desc),
            ("describe", .describe),
            ("detach", .detach),
            ("discard", .discard),
            ("distinct", .distinct),
            ("do", .`do`),
            ("drop", .drop),
            ("dual", .dual),
            ("dumpfile", .dumpfile),
            ("duplicate", .duplicate),
            ("else", .`else`),
            ("end", .end),
            ("event", .event),
            ("except", .except),
            ("exchange", .exchange),
            ("execute", .execute),
            ("exists", .exists),
            ("explain", .explain),
            ("extended", .extended),
            ("extension", .`extension`),
            ("fetch", .fetch),
            ("fields", .fields),
            ("first", .first),
            ("flush", .flush),
            ("for", .`for`),
            ("force", .force),
            ("format", .format),
            ("freeze", .freeze),
            ("from", .from),
            ("full", .full),
            ("fulltext", .fulltext),
            ("function", .function),
            ("global", .global),
            ("grant", .grant),
            ("group", .group),
            ("handler", .handler),
            ("having", .having),
            ("help", .help),
            ("high_priority", .high_priority),
            ("if", .`if`),
            ("ignore", .ignore),
            ("immediate", .immediate),
            ("in", .`in`),
            ("index", .index),
            ("indexes", .indexes),
            ("infile", .infile),
            ("inherit", .inherit),
            ("inherits", .inherits),
            ("inner", .inner),
            ("insert", .insert),
            ("intersect", .intersect),
            ("into", .into),
            ("is", .`is`),
            ("join", .join),
            ("key", .key),
            ("keys", .keys),
            ("kill", .kill),
            ("lateral", .lateral),
            ("left", .left),
            ("like", .like),
            ("limit", .limit),
            ("listen", .listen),
            ("load", .load),
            ("local", .local),
            ("lock", .lock),
            ("low_priority", .low_priority),
            ("matched", .matched),
            ("materialized", .materialized),
            ("merge", .merge),
            ("minus", .minus),
            ("mode", .mode),
            ("move", .move),
            ("natural", .natural),
            ("no", .no),
            ("not", .not),
            ("notify", .notify),
            ("nowait", .nowait),
            ("null", .null),
            ("of", .of),
            ("offset", .offset),
            ("on", .on),
            ("only", .only),
            ("optimize", .optimize),
            ("or", .or),
            ("order", .order),
            ("outer", .outer),
            ("outfile", .outfile),
            ("partition", .partition),
            ("partitions", .partitions),
            ("prepare", .prepare),
            ("procedure", .procedure),
            ("quick", .quick),
            ("read", .read),
            ("recursive", .recursive),
            ("references", .references),
            ("refresh", .refresh),
            ("reindex", .reindex),
            ("release", .release),
            ("rename", .rename),
            ("repair", .repair),
            ("replace", .replace),
            ("reset", .reset),
            ("restrict", .restrict),
            ("returning", .returning),
            ("revoke", .revoke),
            ("right", .right),
            ("role", .role),
            ("rollback", .rollback),
            ("savepoint", .savepoint),
            ("schema", .schema),
            ("security", .security),
            ("select", .select),
            ("sequence", .sequence),
            ("session", .session),
            ("set", .set),
            ("share", .share),
            ("show", .show),
            ("skip", .skip),
            ("spatial", .spatial),
            ("sql", .sql),
            ("start", .start),
            ("status", .status),
            ("stdin", .stdin),
            ("straight_join", .straight_join),
            ("table", .table),
            ("tables", .tables),
            ("tablesample", .tablesample),
            ("temp", .temp),
            ("temporary", .temporary),
            ("then", .then),
            ("to", .to),
            ("transaction", .transaction),
            ("trigger", .trigger),
            ("truncate", .truncate),
            ("type", .`type`),
            ("union", .union),
            ("unique", .unique),
            ("unlisten", .unlisten),
            ("unlock", .unlock),
            ("unlogged", .unlogged),
            ("update", .update),
            ("use", .use),
            ("user", .user),
            ("using", .using),
            ("vacuum", .vacuum),
            ("value", .value),
            ("values", .values),
            ("verbose", .verbose),
            ("view", .view),
            ("when", .when),
            ("where", .`where`),
            ("window", .window),
            ("with", .with),
            ("work", .work),
            ("write", .write),
            ("xa", .xa),
        ]
        for (spelling, keyword) in all { table[spelling.utf8.count].append((Array(spelling.utf8), keyword)) }
        return table
    }()
    static let maxLength = 15

    /// Open-addressing hash table over the lower-cased spellings: one hash pass and usually one probe.
    struct Table: Sendable {
        static let slotCount = 1024
        var slots: [Int16] = Array(repeating: -1, count: slotCount)
        var hashes: [UInt64] = []
        var keywords: [Keyword] = []
        var offsets: [Int] = []
        var flat: [UInt8] = []

        init() {
            for (length, bucket) in Keyword.spellings.enumerated() where length > 0 {
                for entry in bucket {
                    var h: UInt64 = 0xcbf2_9ce4_8422_2325
                    for b in entry.bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
                    var slot = Int(h & UInt64(Self.slotCount - 1))
                    while self.slots[slot] >= 0 { slot = (slot + 1) & (Self.slotCount - 1) }
                    self.slots[slot] = Int16(self.keywords.count)
                    self.hashes.append(h)
                    self.keywords.append(entry.keyword)
                    self.offsets.append(self.flat.count)
                    self.flat += entry.bytes
                }
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
