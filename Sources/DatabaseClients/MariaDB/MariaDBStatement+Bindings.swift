internal import CMariaDB

/// C memory for the `MYSQL_BIND` array of one execute: libmariadb reads it during `mysql_stmt_execute`,
/// so it lives until the execute returns and is then freed explicitly.
struct ParameterBindings {
    let binds: UnsafeMutablePointer<MYSQL_BIND>
    private let lengths: UnsafeMutablePointer<UInt>
    private var buffers: [UnsafeMutableRawPointer] = []

    init(_ values: [DatabaseValue]) {
        let capacity = max(values.count, 1)
        binds = .allocate(capacity: capacity)
        binds.initialize(repeating: MYSQL_BIND(), count: capacity)
        lengths = .allocate(capacity: capacity)
        lengths.initialize(repeating: 0, count: capacity)
        for (index, value) in values.enumerated() {
            bind(value, at: index)
        }
    }

    private mutating func bind(_ value: DatabaseValue, at index: Int) {
        switch value {
        case .null:
            binds[index].buffer_type = MYSQL_TYPE_NULL
        case .int(let number):
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
            buffer.storeBytes(of: number, as: Int64.self)
            set(index, type: MYSQL_TYPE_LONGLONG, buffer: buffer, length: 8)
        case .double(let number):
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
            buffer.storeBytes(of: number, as: Double.self)
            set(index, type: MYSQL_TYPE_DOUBLE, buffer: buffer, length: 8)
        case .text(let text):
            setBytes(index, type: MYSQL_TYPE_STRING, Array(text.utf8))
        case .bytes(let bytes):
            setBytes(index, type: MYSQL_TYPE_BLOB, bytes)
        }
    }

    private mutating func setBytes(_ index: Int, type: enum_field_types, _ bytes: [UInt8]) {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { buffer.copyMemory(from: base, byteCount: source.count) }
        }
        set(index, type: type, buffer: buffer, length: bytes.count)
    }

    private mutating func set(_ index: Int, type: enum_field_types, buffer: UnsafeMutableRawPointer, length: Int) {
        buffers.append(buffer)
        lengths[index] = UInt(length)
        binds[index].buffer_type = type
        binds[index].buffer = buffer
        binds[index].buffer_length = UInt(length)
        binds[index].length = lengths + index
    }

    func deallocate() {
        for buffer in buffers { buffer.deallocate() }
        binds.deallocate()
        lengths.deallocate()
    }
}

/// C memory for fetching result cells as text: a small inline buffer per column, and a per-cell fetch
/// of the whole value when it is longer than that buffer.
struct ResultBindings {
    /// Cells up to this size are copied by `mysql_stmt_fetch` itself; longer ones need a second call.
    static let inlineCapacity = 256
    let binds: UnsafeMutablePointer<MYSQL_BIND>
    private let lengths: UnsafeMutablePointer<UInt>
    private let nulls: UnsafeMutablePointer<my_bool>
    private let storage: UnsafeMutableRawPointer
    private let count: Int

    init(columnCount: Int) {
        count = columnCount
        let capacity = max(columnCount, 1)
        binds = .allocate(capacity: capacity)
        binds.initialize(repeating: MYSQL_BIND(), count: capacity)
        lengths = .allocate(capacity: capacity)
        lengths.initialize(repeating: 0, count: capacity)
        nulls = .allocate(capacity: capacity)
        nulls.initialize(repeating: 0, count: capacity)
        storage = .allocate(byteCount: capacity * Self.inlineCapacity, alignment: 8)
        for index in 0..<columnCount {
            binds[index].buffer_type = MYSQL_TYPE_STRING
            binds[index].buffer = storage + index * Self.inlineCapacity
            binds[index].buffer_length = UInt(Self.inlineCapacity)
            binds[index].length = lengths + index
            binds[index].is_null = nulls + index
        }
    }

    /// The current row's cell `index` as bytes, or `nil` for NULL.
    func value(
        at index: Int, statement: UnsafeMutablePointer<MYSQL_STMT>, context: String
    ) throws -> [UInt8]? {
        if nulls[index] != 0 { return nil }
        let length = Int(lengths[index])
        if length <= Self.inlineCapacity {
            return Array(UnsafeRawBufferPointer(start: storage + index * Self.inlineCapacity, count: length))
        }
        var whole = [UInt8](repeating: 0, count: length)
        var bind = MYSQL_BIND()
        var fetchedLength: UInt = 0
        let rc = whole.withUnsafeMutableBytes { target -> Int32 in
            bind.buffer_type = MYSQL_TYPE_STRING
            bind.buffer = target.baseAddress
            bind.buffer_length = UInt(length)
            return withUnsafeMutablePointer(to: &fetchedLength) { lengthPointer in
                bind.length = lengthPointer
                return mysql_stmt_fetch_column(statement, &bind, UInt32(index), 0)
            }
        }
        if rc != 0 { throw MariaDBStatement.error(from: statement, context: context) }
        return whole
    }

    func deallocate() {
        binds.deallocate()
        lengths.deallocate()
        nulls.deallocate()
        storage.deallocate()
    }
}
