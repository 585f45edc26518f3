#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A thin owner of a POSIX file descriptor with the handful of calls the log needs, each turning errno into a
/// `ReplayLogError` that names the file. Not thread-safe: one owner at a time.
final class PosixFile {
    let path: String
    private(set) var descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { if descriptor >= 0 { _ = Glibc_close(descriptor) } }

    static func open(_ path: String, flags: Int32, mode: mode_t = 0o644) throws(ReplayLogError) -> PosixFile {
        let fd = path.withCString { Glibc_open($0, flags | O_CLOEXEC, mode) }
        guard fd >= 0 else { throw .io("open", path: path, errno: errno) }
        return PosixFile(path: path, descriptor: fd)
    }

    func size() throws(ReplayLogError) -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .io("fstat", path: path, errno: errno) }
        return Int(info.st_size)
    }

    /// Reads up to `count` bytes at `offset`; fewer only at end of file.
    func read(at offset: Int, count: Int) throws(ReplayLogError) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = result.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("pread", path: path, errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        if done < count { result.removeSubrange(done...) }
        return result
    }

    /// Writes all of `bytes` at the current position (files opened with O_APPEND: at the end).
    func writeAll(_ bytes: UnsafeRawBufferPointer) throws(ReplayLogError) {
        try writeAll(bytes, at: nil)
    }

    /// Writes all of `bytes` at `offset` (`pwrite`), or at the current position when `offset` is nil.
    func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: Int?) throws(ReplayLogError) {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let n =
                if let offset { pwrite(descriptor, base + done, bytes.count - done, off_t(offset + done)) }
                else { write(descriptor, base + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(offset == nil ? "write" : "pwrite", path: path, errno: errno)
            }
            done += n
        }
    }

    func writeAll(_ bytes: [UInt8], at offset: Int? = nil) throws(ReplayLogError) {
        try writeAll(bytes[...], at: offset)
    }

    func writeAll(_ bytes: ArraySlice<UInt8>, at offset: Int?) throws(ReplayLogError) {
        // `withUnsafeBytes` rethrows untyped errors: carry the typed one out in a Result.
        let result: Result<Void, ReplayLogError> = bytes.withUnsafeBytes { raw in
            do throws(ReplayLogError) { try writeAll(raw, at: offset); return .success(()) } catch { return .failure(error) }
        }
        try result.get()
    }

    /// fdatasync: the data and the size, which is all a reader needs; timestamps are not worth a second flush.
    func sync() throws(ReplayLogError) {
        #if os(Linux)
        guard fdatasync(descriptor) == 0 else { throw .io("fdatasync", path: path, errno: errno) }
        #else
        guard fsync(descriptor) == 0 else { throw .io("fsync", path: path, errno: errno) }
        #endif
    }

    func truncate(to length: Int) throws(ReplayLogError) {
        guard ftruncate(descriptor, off_t(length)) == 0 else { throw .io("ftruncate", path: path, errno: errno) }
    }

    func close() {
        if descriptor >= 0 { _ = Glibc_close(descriptor) }
        descriptor = -1
    }

    /// Makes a directory entry change (create, rename, unlink) durable.
    static func syncDirectory(_ path: String) throws(ReplayLogError) {
        let directory = try PosixFile.open(path, flags: O_RDONLY | O_DIRECTORY)
        guard fsync(directory.descriptor) == 0 else { throw .io("fsync directory", path: path, errno: errno) }
    }
}

// Module-qualified aliases: inside `PosixFile`, `open`/`close` would otherwise resolve to the methods.
@inline(__always) private func Glibc_open(_ path: UnsafePointer<CChar>, _ flags: Int32, _ mode: mode_t) -> Int32 {
    open(path, flags, mode)
}
@inline(__always) private func Glibc_close(_ fd: Int32) -> Int32 { close(fd) }
