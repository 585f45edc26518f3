internal import CMariaDB

extension MariaDBConnection {
    /// Runs `LOAD DATA LOCAL INFILE …` (or `LOAD XML LOCAL INFILE …`) with `data` as the file, whatever file name the
    /// statement names; returns the affected-row count. The connection must be opened with
    /// ``Configuration/localInfile`` on.
    @discardableResult
    public func loadLocalInfile(_ sql: String, data: [UInt8]) throws -> UInt64 {
        let handle = try openHandle(for: "LOAD DATA LOCAL INFILE")
        let source = LocalInfileSource(data)
        let userdata = Unmanaged.passRetained(source)
        defer {
            mysql_set_local_infile_default(handle)
            userdata.release()
        }
        mysql_set_local_infile_handler(
            handle,
            { pointer, _, userdata in
                pointer?.pointee = userdata
                return 0
            },
            { userdata, buffer, length in
                guard let userdata, let buffer else { return -1 }
                return Unmanaged<LocalInfileSource>.fromOpaque(userdata).takeUnretainedValue().read(into: buffer, max: Int(length))
            },
            { _ in },
            { _, message, length in
                guard let message, length > 0 else { return 2000 }
                message.initialize(to: 0)
                return 2000
            },
            userdata.toOpaque())
        return try execute(sql)
    }
}

/// The bytes libmariadb reads as the local file, from its callbacks on the calling thread.
private final class LocalInfileSource {
    let data: [UInt8]
    var offset = 0

    init(_ data: [UInt8]) { self.data = data }

    func read(into buffer: UnsafeMutablePointer<CChar>, max: Int) -> Int32 {
        let count = min(max, data.count - offset)
        guard count > 0 else { return 0 }
        data.withUnsafeBufferPointer { source in
            guard let base = source.baseAddress else { return }
            UnsafeMutableRawPointer(buffer).copyMemory(from: base + offset, byteCount: count)
        }
        offset += count
        return Int32(count)
    }
}
