import NIOCore
import ShadowConfig

/// Builds the listener for a configured protocol.
public enum ListenerFactory {
    /// A listener for `configuration`, sharing the process-wide context. Throws when its TLS files cannot be loaded.
    public static func make(_ configuration: ListenerConfiguration, context: ListenerContext) throws -> any ProxyListener {
        switch configuration.wireProtocol {
        case .mysql:
            return MySQLListener(configuration: configuration, context: context)
        case .postgres:
            return PostgresListener(configuration: configuration, context: context)
        }
    }
}

extension MySQLListener: ProxyListener {
    public var name: String { configuration.name }

    public func shutdown(deadline: NIODeadline) async {
        await shutdown(gracefulDeadline: deadline)
    }
}

extension PostgresListener: ProxyListener {
    public var name: String { configuration.name }

    public func shutdown(deadline: NIODeadline) async {
        await shutdown(gracefulDeadline: deadline)
    }
}
