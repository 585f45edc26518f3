internal import CLibPQ

/// Cancels whatever its connection is running, from any thread (libpq's `PQcancel`).
///
/// Thread-safe: libpq documents `PQcancel` as safe to call from a thread other than the one using the
/// connection, and the `PGcancel` object is read-only for it. The handle stays valid after the connection closes
/// (cancelling then just reaches a backend that is gone).
public final class PostgresCancelHandle: @unchecked Sendable {
    private let cancelObject: OpaquePointer
    private let endpoint: String

    init(cancel: OpaquePointer, endpoint: String) {
        self.cancelObject = cancel
        self.endpoint = endpoint
    }

    deinit { PQfreeCancel(cancelObject) }

    /// Sends a CancelRequest for the connection's backend. Success means the request was delivered, not that
    /// anything was cancelled: the running statement, if any, fails with SQLSTATE 57014.
    public func cancel() throws {
        var buffer = [CChar](repeating: 0, count: 256)
        let ok = PQcancel(cancelObject, &buffer, Int32(buffer.count))
        if ok != 1 {
            let message = buffer.withUnsafeBufferPointer { $0.baseAddress.map { String(cString: $0) } ?? "" }
            throw DatabaseClientError(code: .cancelFailed, message: message,
                                      context: "cancel request to PostgreSQL \(endpoint)")
        }
    }
}
