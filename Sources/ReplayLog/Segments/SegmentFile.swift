#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Naming and header of segment files: `<dir>/<firstLSN, 20 digits>.seg`, starting with a 16-byte header
/// (`SGRL`, u16 version, u16 reserved, u64 firstLSN), followed by record frames.
public enum SegmentFile {
    public static let magic: [UInt8] = Array("SGRL".utf8)
    public static let version: UInt16 = 1
    public static let headerSize = 16
    static let suffix = ".seg"

    /// `00000000000000000042.seg` for first LSN 42: zero padding makes lexical order the LSN order.
    public static func name(firstLSN: LSN) -> String {
        let digits = String(firstLSN)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + suffix
    }

    /// The first LSN encoded in a segment file name, or nil for any other file.
    public static func firstLSN(fromName name: String) -> LSN? {
        guard name.hasSuffix(suffix), name.utf8.count == 20 + suffix.utf8.count else { return nil }
        return LSN(name.dropLast(suffix.count))
    }

    static func header(firstLSN: LSN) -> [UInt8] {
        var bytes = magic
        bytes.appendLE(version)
        bytes.appendLE(UInt16(0))
        bytes.appendLE(firstLSN)
        return bytes
    }

    /// Checks a header read from `path`; returns the first LSN it names.
    static func validateHeader(_ bytes: [UInt8], path: String) throws(ReplayLogError) -> LSN {
        guard bytes.count >= headerSize, Array(bytes[0..<4]) == magic else {
            throw ReplayLogError(.corruptRecord, "'\(path)' is not a replay-log segment (bad magic or shorter than its header)")
        }
        let result: LSN? = bytes.withUnsafeBytes { raw in
            var c = ByteCursor(raw)
            _ = c.read(UInt32.self)
            guard c.read(UInt16.self) == version else { return nil }
            _ = c.read(UInt16.self)
            return c.read(UInt64.self)
        }
        guard let first = result else {
            throw ReplayLogError(.corruptRecord, "'\(path)' has segment version other than \(version); use a matching build")
        }
        return first
    }
}

/// A segment present on disk.
public struct SegmentInfo: Sendable, Hashable {
    public var firstLSN: LSN
    public var path: String
    public var size: Int
    /// Last modification, seconds since the epoch (for age-based retention).
    public var modifiedAt: Int64
}

extension SegmentFile {
    /// The segments in `directory`, oldest first.
    public static func list(in directory: String) throws(ReplayLogError) -> [SegmentInfo] {
        guard let dir = opendir(directory) else { throw .io("opendir", path: directory, errno: errno) }
        defer { closedir(dir) }
        var result: [SegmentInfo] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            guard let first = firstLSN(fromName: name) else { continue }
            let path = directory + "/" + name
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            result.append(
                SegmentInfo(firstLSN: first, path: path, size: Int(info.st_size), modifiedAt: Int64(info.st_mtim.tv_sec)))
        }
        return result.sorted { $0.firstLSN < $1.firstLSN }
    }
}
