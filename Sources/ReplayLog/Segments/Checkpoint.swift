#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The durable "last applied LSN" of the applier: `<dir>/checkpoint`, 16 bytes (`SGCP`, u64 LSN, u32 CRC32C of
/// the preceding 12 bytes). Replaced atomically: write a temp file, fsync it, rename, fsync the directory — a crash
/// leaves either the old or the new value, never a torn one.
public enum Checkpoint {
    static let magic: [UInt8] = Array("SGCP".utf8)
    public static let fileName = "checkpoint"

    /// The last applied LSN, 0 when there is no checkpoint yet.
    public static func read(directory: String) throws(ReplayLogError) -> LSN {
        let path = directory + "/" + fileName
        let file: PosixFile
        do {
            file = try PosixFile.open(path, flags: O_RDONLY)
        } catch {
            if access(path, F_OK) != 0 { return 0 }
            throw error
        }
        let bytes = try file.read(at: 0, count: 16)
        guard bytes.count == 16, Array(bytes[0..<4]) == magic else {
            throw ReplayLogError(.badCheckpoint, "'\(path)' is not a checkpoint file (wrong size or magic)")
        }
        let (lsn, crc) = bytes.withUnsafeBytes { raw -> (UInt64, UInt32) in
            var c = ByteCursor(raw)
            _ = c.read(UInt32.self)
            return (c.read(UInt64.self) ?? 0, c.read(UInt32.self) ?? 0)
        }
        guard CRC32C.checksum(bytes[0..<12]) == crc else {
            throw ReplayLogError(.badCheckpoint, "'\(path)' fails its CRC32C; restore it or set it with a known LSN")
        }
        return lsn
    }

    /// Durably records `lsn` as applied.
    public static func write(_ lsn: LSN, directory: String) throws(ReplayLogError) {
        var bytes = magic
        bytes.appendLE(lsn)
        bytes.appendLE(CRC32C.checksum(bytes))
        let path = directory + "/" + fileName
        let temporary = path + ".tmp"
        let file = try PosixFile.open(temporary, flags: O_WRONLY | O_CREAT | O_TRUNC)
        try file.writeAll(bytes)
        try file.sync()
        file.close()
        guard rename(temporary, path) == 0 else { throw .io("rename to", path: path, errno: errno) }
        try PosixFile.syncDirectory(directory)
    }
}
