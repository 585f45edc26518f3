/// Errors of the replay log: what happened, where (segment, offset, LSN) and what to do about it.
public struct ReplayLogError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure; extensible without breaking callers that switch over known codes.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// A record or file header failed to decode (bad CRC, bad length, unknown version).
        public static let corruptRecord = Code("corruptRecord")
        /// A corrupt record is followed by valid ones: the log cannot be trusted past it.
        public static let corruptMiddle = Code("corruptMiddle")
        /// A system call on a log file failed.
        public static let io = Code("io")
        /// Mirroring was stopped (disk full, write error, hard size limit): the write itself succeeded on the primary,
        /// let the client's OK through; the mirror needs a resync.
        public static let mirroringStopped = Code("mirroringStopped")
        /// The writer was closed.
        public static let closed = Code("closed")
        /// The checkpoint file is unreadable.
        public static let badCheckpoint = Code("badCheckpoint")
        /// A record is larger than the format allows.
        public static let recordTooLarge = Code("recordTooLarge")
    }

    public var code: Code
    /// What happened, where, and what to do.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    static func io(_ operation: String, path: String, errno: Int32) -> ReplayLogError {
        ReplayLogError(.io, "\(operation) '\(path)' failed: \(String(cString: strerror(errno))) (errno \(errno))")
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
