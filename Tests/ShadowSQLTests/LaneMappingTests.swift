import ShadowSQL
import Testing

@Suite struct LaneMappingTests {
    @Test("a new lane mapping fails closed for writes and passes reads")
    func defaultsFailClosed() {
        let mapping = LaneMapping(lane: "gray")
        #expect(mapping.unmappedWrites == .reject)
        #expect(mapping.unmappedReads == .pass)
    }
}
