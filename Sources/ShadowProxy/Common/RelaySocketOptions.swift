import NIOCore
import NIOPosix

/// Socket options every relayed connection uses, client side and server side.
///
/// Receive buffers are what an idle connection keeps after a large result: NIO pools up to `maxMessagesPerRead`
/// receive buffers per channel, reuses a larger one for smaller reads and never shrinks the pool, and the adaptive
/// allocator grows them to its maximum during a large result. The default (4 buffers of up to 64 KiB) left an idle
/// connection holding 80 KiB (MySQL) to 152 KiB (PostgreSQL) after one 1 MiB result. One pooled buffer of at most
/// 32 KiB keeps that under the 64 KiB per connection budget; relaying a large result then takes one read call per
/// 32 KiB and one event-loop turn per read, which request/response traffic never notices (its reads are small and
/// end the turn anyway). docs/benchmarks.md has the measurements.
enum RelaySocketOptions {
    static let maximumReceiveBuffer = 32 << 10
    static let receiveAllocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: maximumReceiveBuffer)
    static let maxMessagesPerRead: UInt = 1
}

extension ServerBootstrap {
    /// ``RelaySocketOptions`` on every accepted client connection, with `TCP_NODELAY`.
    func relayChildOptions() -> ServerBootstrap {
        childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.recvAllocator, value: RelaySocketOptions.receiveAllocator)
            .childChannelOption(.maxMessagesPerRead, value: RelaySocketOptions.maxMessagesPerRead)
    }
}

extension ClientBootstrap {
    /// ``RelaySocketOptions`` on a connection to a server, with `TCP_NODELAY`.
    func relayOptions() -> ClientBootstrap {
        channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: RelaySocketOptions.receiveAllocator)
            .channelOption(.maxMessagesPerRead, value: RelaySocketOptions.maxMessagesPerRead)
    }
}
