import Testing

@testable import ShadowDiff

@Suite struct BisectionTests {
    @Test("equal counts and sums need no further work")
    func identicalRange() {
        let checksum = ChunkChecksum(rows: 1000, sum: "123")
        #expect(RangeStep.decide(base: checksum, shadow: checksum, leafRows: 16) == .identical)
    }

    @Test("a differing range larger than a leaf is split in the middle of the fuller side")
    func splitsLargeRange() {
        let base = ChunkChecksum(rows: 10, sum: "1")
        let shadow = ChunkChecksum(rows: 100, sum: "2")
        #expect(RangeStep.decide(base: base, shadow: shadow, leafRows: 16) == .split(side: .shadow, offset: 49))
    }

    @Test("a differing range of at most leaf rows is compared row by row")
    func comparesSmallRange() {
        let base = ChunkChecksum(rows: 16, sum: "1")
        let shadow = ChunkChecksum(rows: 15, sum: "2")
        #expect(RangeStep.decide(base: base, shadow: shadow, leafRows: 16) == .compareRows)
    }

    @Test("same row count with a different sum still differs (changed values)")
    func sameCountDifferentSum() {
        let base = ChunkChecksum(rows: 2, sum: "10")
        let shadow = ChunkChecksum(rows: 2, sum: "11")
        #expect(RangeStep.decide(base: base, shadow: shadow, leafRows: 1) == .split(side: .base, offset: 0))
    }

    @Test("every split leaves both halves strictly smaller than the range, so bisection ends")
    func splitTerminates() {
        for rows in 2...200 {
            guard
                case .split(_, let offset) = RangeStep.decide(
                    base: ChunkChecksum(rows: rows, sum: "1"), shadow: ChunkChecksum(rows: rows, sum: "2"), leafRows: 1
                )
            else {
                Issue.record("expected a split for \(rows) rows")
                continue
            }
            let lowerHalf = offset + 1
            #expect(lowerHalf >= 1 && lowerHalf < rows)
        }
    }
}
