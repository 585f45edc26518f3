import NIOCore

/// A client-facing listener of either protocol, as the server runs it.
public protocol ProxyListener: AnyObject, Sendable {
    /// The listener's configured name.
    var name: String { get }
    /// The bound address once started (useful with port 0).
    var localAddress: SocketAddress? { get }
    /// Live client connections.
    var connectionCount: Int { get }
    /// Binds and starts accepting.
    func start() async throws
    /// Stops accepting, lets in-flight statements finish until `deadline`, then closes every connection.
    func shutdown(deadline: NIODeadline) async
}
