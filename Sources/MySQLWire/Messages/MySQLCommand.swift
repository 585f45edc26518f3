import NIOCore

/// The first byte of a command-phase client packet (https://mariadb.com/kb/en/2-text-protocol/ and
/// https://mariadb.com/kb/en/3-binary-protocol-prepared-statements/).
public enum MySQLCommand: UInt8, Sendable, Hashable {
    case quit = 0x01
    case initDB = 0x02
    case query = 0x03
    case fieldList = 0x04
    case createDB = 0x05
    case dropDB = 0x06
    case refresh = 0x07
    case shutdown = 0x08
    case statistics = 0x09
    case processInfo = 0x0A
    case processKill = 0x0C
    case debug = 0x0D
    case ping = 0x0E
    case changeUser = 0x11
    case binlogDump = 0x12
    case stmtPrepare = 0x16
    case stmtExecute = 0x17
    case stmtSendLongData = 0x18
    case stmtClose = 0x19
    case stmtReset = 0x1A
    case setOption = 0x1B
    case stmtFetch = 0x1C
    case resetConnection = 0x1F
    case stmtBulkExecute = 0xFA
}
