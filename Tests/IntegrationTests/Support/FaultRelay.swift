import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A test-only TCP relay between the proxy and a backend server that misbehaves on demand: it can delay, limit
/// bandwidth, reset the connection after N bytes, black-hole traffic, half-close, or refuse connections
/// altogether. Plain sockets and two threads per connection: simple enough to trust as a test instrument.
///
/// Faults apply to connections from the moment they are set (existing ones included), so a test can let a
/// handshake through and then break the result stream.
final class FaultRelay: @unchecked Sendable {
    enum Fault: Sendable, Equatable {
        /// Relay unchanged.
        case none
        /// Wait this many seconds before forwarding each chunk (both directions).
        case delay(Double)
        /// Server → client limited to this many bytes per second.
        case bandwidth(bytesPerSecond: Int)
        /// After this many more server → client bytes, reset both sides (RST).
        case resetAfter(bytes: Int)
        /// Read both directions and forward nothing.
        case blackHole
        /// After this many more server → client bytes, shut down the client side for writing (FIN), keep reading.
        case halfCloseAfter(bytes: Int)
    }

    let targetPort: Int
    private(set) var port: Int
    private let lock = NSLock()
    private var listenFD: Int32 = -1
    private var fault: Fault = .none
    private var faultEpoch = 0
    private var connections: [Int: RelayConnection] = [:]
    private var nextID = 0
    private var stopped = false

    init(targetPort: Int, port: Int = 0) {
        self.targetPort = targetPort
        self.port = port
    }

    /// Sets the fault for every connection, existing and new.
    func setFault(_ fault: Fault) {
        lock.withLock {
            self.fault = fault
            faultEpoch += 1
        }
    }

    fileprivate var currentFault: (Fault, Int) { lock.withLock { (fault, faultEpoch) } }

    var connectionCount: Int { lock.withLock { connections.count } }

    /// Binds (on `port`, or a free port the first time) and accepts in the background.
    func start() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 128) == 0 else {
            close(fd)
            throw ReliabilityRawSocket.Failure(description: "FaultRelay: cannot listen on \(port): errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        lock.withLock {
            port = Int(UInt16(bigEndian: address.sin_port))
            listenFD = fd
            stopped = false
        }
        Thread { [self] in acceptLoop(fd) }.start()
    }

    /// Stops accepting and closes the listening socket: new connections are refused. Existing ones carry on.
    func refuseNewConnections() {
        lock.withLock { stopped = true }
        // The accept loop closes the socket within its poll interval.
        _ = ReliabilityProcessStats.waitUntil(timeout: 1) { lock.withLock { listenFD == -1 } }
    }

    /// Resets every relayed connection (both sides) now.
    func resetAll() {
        for connection in lock.withLock({ Array(connections.values) }) { connection.reset() }
    }

    /// Stops accepting and resets every connection.
    func shutdown() {
        refuseNewConnections()
        resetAll()
    }

    private func acceptLoop(_ fd: Int32) {
        while true {
            if lock.withLock({ stopped }) { break }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { continue }
            let upstream = connectTarget()
            guard upstream >= 0 else {
                close(client)
                continue
            }
            let id = lock.withLock { () -> Int in
                nextID += 1
                return nextID
            }
            let connection = RelayConnection(client: client, server: upstream, relay: self) { [weak self] in
                _ = self?.lock.withLock { self?.connections.removeValue(forKey: id) }
            }
            lock.withLock { connections[id] = connection }
            connection.start()
        }
        close(fd)
        lock.withLock { listenFD = -1 }
    }

    private func connectTarget() -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(targetPort).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if result != 0 {
            close(fd)
            return -1
        }
        return fd
    }
}

/// One relayed connection: a pump thread per direction; descriptors are closed once both pumps have ended.
private final class RelayConnection: @unchecked Sendable {
    let client: Int32
    let server: Int32
    unowned let relay: FaultRelay
    let onClose: @Sendable () -> Void
    private let lock = NSLock()
    private var pumpsRunning = 2
    private var wasReset = false

    init(client: Int32, server: Int32, relay: FaultRelay, onClose: @escaping @Sendable () -> Void) {
        self.client = client
        self.server = server
        self.relay = relay
        self.onClose = onClose
    }

    func start() {
        Thread { [self] in pump(from: server, to: client, downstream: true) }.start()
        Thread { [self] in pump(from: client, to: server, downstream: false) }.start()
    }

    /// RST both sides.
    func reset() {
        lock.withLock {
            guard !wasReset else { return }
            wasReset = true
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            for fd in [client, server] {
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                Glibc.shutdown(fd, Int32(SHUT_RDWR))
            }
        }
    }

    private func pump(from source: Int32, to destination: Int32, downstream: Bool) {
        var buffer = [UInt8](repeating: 0, count: 16384)
        var budgetEpoch = -1
        var budget = Int.max  // bytes left before a reset/half-close fault fires
        var halfClosed = false
        loop: while true {
            var poller = pollfd(fd: source, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 100)
            if lock.withLock({ wasReset }) { break }
            if ready == 0 { continue }
            if ready < 0 { if errno == EINTR { continue } else { break } }
            let (fault, epoch) = relay.currentFault
            var chunkLimit = buffer.count
            if downstream, case .bandwidth(let rate) = fault { chunkLimit = max(1, min(buffer.count, rate / 10)) }
            let n = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, chunkLimit, 0) }
            if n <= 0 { break }
            var toSend = n
            switch fault {
            case .none:
                break
            case .delay(let seconds):
                usleep(UInt32(seconds * 1_000_000))
            case .bandwidth(let rate):
                if downstream { usleep(UInt32(Double(n) / Double(max(rate, 1)) * 1_000_000)) }
            case .blackHole:
                continue loop
            case .resetAfter(let bytes), .halfCloseAfter(let bytes):
                guard downstream else { break }
                if budgetEpoch != epoch {
                    budgetEpoch = epoch
                    budget = bytes
                }
                toSend = min(n, budget)
                budget -= toSend
            }
            if halfClosed { continue }
            if toSend > 0, !sendAll(destination, buffer, toSend) { break }
            if downstream, budget <= 0, budgetEpoch == epoch {
                if case .resetAfter = fault {
                    reset()
                    break loop
                }
                if case .halfCloseAfter = fault {
                    Glibc.shutdown(destination, Int32(SHUT_WR))
                    halfClosed = true
                }
            }
        }
        // Wake the other pump, then the last one out closes both descriptors.
        Glibc.shutdown(destination, Int32(SHUT_RDWR))
        Glibc.shutdown(source, Int32(SHUT_RDWR))
        let last = lock.withLock { () -> Bool in
            pumpsRunning -= 1
            return pumpsRunning == 0
        }
        if last {
            close(client)
            close(server)
            onClose()
        }
    }

    private func sendAll(_ fd: Int32, _ buffer: [UInt8], _ count: Int) -> Bool {
        var offset = 0
        while offset < count {
            let n = buffer.withUnsafeBytes { send(fd, $0.baseAddress! + offset, count - offset, Int32(MSG_NOSIGNAL)) }
            if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { return false }
        }
        return true
    }
}
