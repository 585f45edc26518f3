import NIOCore
import ShadowSQL
import Testing

@testable import MySQLWire

/// The connection character set, followed so that a lane refuses what the server may split differently.
@Suite struct ClientCharsetTests {
    func after(_ start: ClientCharset, _ sql: String) -> ClientCharset {
        start.after(SessionStatementScanner.effects(in: sql, dialect: .mysql))
    }

    @Test("handshake collations of utf8mb3, utf8mb4, ascii and binary read as UTF-8; gbk and latin1 do not")
    func collations() {
        for id: UInt16 in [33, 45, 46, 63, 11, 224, 255] { #expect(ClientCharset(collation: id).readsAsUTF8, "\(id)") }
        for id: UInt16 in [8, 28, 1, 13, 95, 5, 99] { #expect(!ClientCharset(collation: id).readsAsUTF8, "\(id)") }
        #expect(ClientCharset(collation: 28) == .other("gbk"))
    }

    @Test("SET NAMES, SET CHARACTER SET, SET CHARSET and character_set_client assignments are followed; the last wins")
    func followsSets() {
        #expect(after(.readsAsUTF8, "SET NAMES gbk") == .other("gbk"))
        #expect(after(.other("gbk"), "SET NAMES 'utf8mb4' COLLATE 'utf8mb4_bin'") == .readsAsUTF8)
        #expect(after(.readsAsUTF8, "SET CHARACTER SET latin1") == .other("latin1"))
        #expect(after(.readsAsUTF8, "set charset big5") == .other("big5"))
        #expect(after(.readsAsUTF8, "SET character_set_client = sjis, @a = 1") == .other("sjis"))
        #expect(after(.readsAsUTF8, "SET @@session.character_set_client = 'cp932'") == .other("cp932"))
        #expect(after(.other("gbk"), "SET NAMES gbk; SET NAMES utf8mb4") == .readsAsUTF8)
        // A value only the server knows counts as another character set.
        #expect(!after(.readsAsUTF8, "SET character_set_client = @cs").readsAsUTF8)
        #expect(!after(.readsAsUTF8, "SET NAMES DEFAULT").readsAsUTF8)
        // Statements that name no character set change nothing.
        #expect(after(.other("gbk"), "SELECT 'names', character_length(a) FROM t") == .other("gbk"))
        #expect(after(.readsAsUTF8, "SET @names = 'gbk'") == .readsAsUTF8)
    }

    @Test("a lane statement with bytes above 0x7F is refused while the connection character set is not UTF-8")
    func laneRefusal() throws {
        var machine = Wire.commandPhase(attributes: [("lane", "gray")])
        _ = machine.clientPacketReceived(Wire.query("SET NAMES gbk"))
        _ = machine.backendFrameReceived(Wire.ok(seq: 1))
        #expect(machine.clientCharset == .other("gbk"))
        let refused = machine.clientPacketReceived(Wire.query("SELECT '文\\\\' FROM mse_demo_table"))
        #expect(refused.backendPacket == nil)
        let err = try #require(refused.clientPacket.flatMap { try? ERRPacket(payload: $0.payload) })
        #expect(err.message.contains("character set is gbk"))
        // ASCII statements read the same under gbk.
        #expect(machine.clientPacketReceived(Wire.query("SELECT 1 FROM mse_demo_table")).backendPacket != nil)
        _ = machine.backendFrameReceived(Wire.ok(seq: 1))
        _ = machine.clientPacketReceived(Wire.query("SET NAMES utf8mb4"))
        _ = machine.backendFrameReceived(Wire.ok(seq: 1))
        #expect(machine.clientPacketReceived(Wire.query("SELECT '文\\\\' FROM mse_demo_table")).backendPacket != nil)
    }

    @Test("in the base lane nothing is refused for the character set, and binary data passes in a UTF-8 lane")
    func baseAndBinary() {
        var base = Wire.commandPhase()
        _ = base.clientPacketReceived(Wire.query("SET NAMES gbk"))
        _ = base.backendFrameReceived(Wire.ok(seq: 1))
        #expect(base.clientPacketReceived(Wire.query("SELECT '文\\\\'")).backendPacket != nil)
        var lane = Wire.commandPhase(attributes: [("lane", "gray")])
        var blob = Array("INSERT INTO mse_demo_table (location) VALUES (_binary'".utf8)
        blob += [0xBF, 0x5C, 0x5C, 0xFF, 0xA0]
        blob += Array("')".utf8)
        let packet = MySQLPacket(sequenceID: 0, payload: TextCommand.encode(.query, text: blob))
        #expect(lane.clientPacketReceived(packet).backendPacket != nil)
    }
}
