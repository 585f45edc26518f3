import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `--probe-syncs N`: how long one small write plus its sync takes on the log's disk, for the ways a segment can
/// grow. The files take turns within each iteration, so a change in machine load hits all of them alike.
///
/// - `append, fdatasync`: each write extends the file; the sync must also commit the new size (ext4: a journal
///   commit).
/// - `append, fsync`: the same with fsync (also timestamps).
/// - `fallocate, fdatasync`: space reserved with posix_fallocate; the first write to each block converts an unwritten
///   extent, which is again a journal commit.
/// - `zero-filled, fdatasync`: space written with zeros and synced beforehand (what the writer does); the sync
///   flushes data only.
func probeSyncs(directory: String, iterations: Int, recordBytes: Int = 1600) {
    let names = ["append, fdatasync", "append, fsync", "fallocate, fdatasync", "zero-filled, fdatasync"]
    let total = iterations * recordBytes + (1 << 20)
    var descriptors: [Int32] = []
    for index in names.indices {
        let path = directory + "/probe-\(index)"
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        unlink(path)
        guard fd >= 0 else { fatalError("cannot create \(path): errno \(errno)") }
        descriptors.append(fd)
    }
    _ = posix_fallocate(descriptors[2], 0, off_t(total))
    let zeros = [UInt8](repeating: 0, count: 1 << 20)
    var offset = 0
    while offset < total {
        _ = zeros.withUnsafeBytes { pwrite(descriptors[3], $0.baseAddress, $0.count, off_t(offset)) }
        offset += zeros.count
    }
    fsync(descriptors[3])
    let record = [UInt8](repeating: 0x78, count: recordBytes)
    var latencies = [[Double]](repeating: [], count: names.count)
    for iteration in 0..<iterations {
        for (index, fd) in descriptors.enumerated() {
            let start = now()
            _ = record.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(iteration * recordBytes)) }
            if index == 1 { fsync(fd) } else { fdatasync(fd) }
            latencies[index].append(now() - start)
        }
    }
    for fd in descriptors { close(fd) }
    print("\(iterations) × (pwrite of \(recordBytes) bytes + sync) per kind, interleaved:")
    print("| segment growth | median | mean | p90 | p99 |")
    print("|---|---|---|---|---|")
    for (index, name) in names.enumerated() {
        let sorted = latencies[index].sorted()
        let mean = sorted.reduce(0, +) / Double(sorted.count)
        func at(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] * 1e6 }
        print(String(format: "| %@ | %.0f µs | %.0f µs | %.0f µs | %.0f µs |", name as NSString, at(0.5), mean * 1e6, at(0.9), at(0.99)))
    }
}
