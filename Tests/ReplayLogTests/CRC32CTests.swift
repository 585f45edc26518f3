import Testing
@testable import ReplayLog

@Suite struct CRC32CTests {
    @Test("CRC32C of the standard check string 123456789 is 0xE3069283")
    func checkValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test("CRC32C matches the RFC 3720 vectors for 32 zero bytes, 32 0xFF bytes and an ascending sequence")
    func rfc3720Vectors() {
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
    }

    @Test("the empty input has CRC 0 and checksumming in pieces equals checksumming at once")
    func incremental() {
        #expect(CRC32C.checksum([UInt8]()) == 0)
        var g = SeededGenerator(state: 7)
        let bytes = (0..<1000).map { _ in UInt8.random(in: 0...255, using: &g) }
        let whole = CRC32C.checksum(bytes)
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            let first = bytes[..<split].withUnsafeBytes { CRC32C.checksum($0) }
            let both = bytes[split...].withUnsafeBytes { CRC32C.checksum($0, continuing: first) }
            #expect(both == whole)
        }
    }
}
