import NIOCore
import NIOPosix

/// `relay-floor --listen HOST:PORT --backend HOST:PORT [--threads N]`: relays every accepted connection to the
/// backend on the accepting event loop, with TCP_NODELAY and Shadowgate's receive-buffer settings (one pooled buffer
/// of at most 32 KiB, one read per readable event).
struct Options {
    var listen = ("127.0.0.1", 0)
    var backend = ("127.0.0.1", 0)
    var threads = System.coreCount

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var iterator = arguments.dropFirst().makeIterator()
        func endpoint(_ text: String?) -> (String, Int) {
            guard let text, let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
                fatalError("expected HOST:PORT, got \(text ?? "nothing")")
            }
            return (String(text[..<colon]), port)
        }
        while let argument = iterator.next() {
            switch argument {
            case "--listen": options.listen = endpoint(iterator.next())
            case "--backend": options.backend = endpoint(iterator.next())
            case "--threads": options.threads = Int(iterator.next() ?? "") ?? options.threads
            default: fatalError("unknown option \(argument)")
            }
        }
        return options
    }
}

let options = Options.parse(CommandLine.arguments)
let receiveAllocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 32 << 10)
let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, options.threads))
let backend = options.backend

let server = try ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 1024)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
    .childChannelOption(.recvAllocator, value: receiveAllocator)
    .childChannelOption(.maxMessagesPerRead, value: 1)
    .childChannelOption(.autoRead, value: false)
    .childChannelInitializer { client in
        client.pipeline.addHandler(ClientConnector(backend: backend, allocator: receiveAllocator))
    }
    .bind(host: options.listen.0, port: options.listen.1)
    .wait()

print("relay-floor listening on \(server.localAddress!), relaying to \(backend.0):\(backend.1)")
try server.closeFuture.wait()
