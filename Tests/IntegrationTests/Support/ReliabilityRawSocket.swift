import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A blocking loopback TCP client over plain sockets, for sending exactly the bytes a test wants (malformed
/// packets, half-finished handshakes) and for watching how and when the peer closes.
final class ReliabilityRawSocket: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible { var description: String }

    private(set) var fd: Int32

    init(port: Int, receiveBuffer: Int? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket(): errno \(errno)") }
        if var size = receiveBuffer.map(Int32.init) {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(fd)
            fd = -1
            throw Failure(description: "connect to 127.0.0.1:\(port): errno \(code)")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        // A peer that stops reading must not hang the test: sends give up after 3 s.
        var sendTimeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Closes with an RST instead of a FIN (SO_LINGER 0), like a crashed client.
    func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close()
    }

    /// Writes everything (ignoring EPIPE: the peer may close first, which is what some tests want).
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                offset += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }

    enum ReadResult: Equatable {
        case bytes([UInt8])
        case closed
        case timedOut
    }

    /// One read of at most `max` bytes, waiting up to `timeout` seconds.
    func read(max: Int = 65536, timeout: Double) -> ReadResult {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, Int32(timeout * 1000))
        if ready == 0 { return .timedOut }
        if ready < 0 { return errno == EINTR ? .timedOut : .closed }
        var buffer = [UInt8](repeating: 0, count: max)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, max, 0) }
        if n <= 0 { return .closed }
        return .bytes(Array(buffer[0..<n]))
    }

    /// Reads exactly `count` bytes or returns nil (closed or timed out).
    func readExactly(_ count: Int, timeout: Double) -> [UInt8]? {
        var result: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while result.count < count {
            let left = deadline.timeIntervalSinceNow
            guard left > 0, case .bytes(let chunk) = read(max: count - result.count, timeout: left) else { return nil }
            result += chunk
        }
        return result
    }

    /// Reads (and keeps) everything until the peer closes or `timeout` passes.
    /// Returns what arrived, whether the peer closed, and how long it took.
    /// With `quiet`, also returns once something arrived and then nothing more for `quiet` seconds (an answer on a
    /// connection that stays open); `seconds` is then the time of the last byte.
    func drainUntilClosed(timeout: Double, quiet: Double? = nil) -> (bytes: [UInt8], closed: Bool, seconds: Double) {
        let start = Date()
        var received: [UInt8] = []
        var lastByte = 0.0
        while true {
            var left = timeout - Date().timeIntervalSince(start)
            if left <= 0 { return (received, false, Date().timeIntervalSince(start)) }
            if let quiet, !received.isEmpty { left = min(left, quiet) }
            switch read(timeout: left) {
            case .bytes(let chunk):
                received += chunk
                lastByte = Date().timeIntervalSince(start)
            case .closed: return (received, true, Date().timeIntervalSince(start))
            case .timedOut: return (received, false, received.isEmpty ? Date().timeIntervalSince(start) : lastByte)
            }
        }
    }
}
