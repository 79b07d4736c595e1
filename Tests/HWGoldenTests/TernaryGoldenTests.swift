import HWGolden
import HWSpec
import HWSupport
import Testing

@Suite struct TernaryGoldenTests {
  @Test func encodingRoundTripsAndReservedCodeReadsAsZero() {
    for w: Int8 in [-1, 0, 1] { #expect(TernaryEncoding.decode(TernaryEncoding.encode(w)) == w) }
    #expect(TernaryEncoding.encode(1) == 0b01)
    #expect(TernaryEncoding.encode(-1) == 0b11)
    #expect(TernaryEncoding.decode(0b10) == 0)
  }

  @Test func accumulatorWidthHoldsTheExtremes() {
    // 11264 * 128 = 1,441,792 needs 21 magnitude bits plus a sign.
    #expect(signedAccumulatorWidth(terms: 11264) == 22)
    #expect(signedAccumulatorWidth(terms: 1) == 9)
    #expect(TernaryCoreConfig().accumulatorWidth == 22)
    #expect(TernaryCoreConfig().partialSumWidth == 15)
    #expect(TernaryCoreConfig(laneWidth: 5).partialSumWidth == 12)
  }

  @Test func directedCornersHaveKnownSums() throws {
    let n = 11264
    let minus128 = [Int8](repeating: -128, count: n)
    let plus = try TernaryMatVec.multiply(TernaryMatrix(rows: 2, cols: n, repeating: 1), minus128, accumulatorWidth: 22)
    #expect(plus == [-1_441_792, -1_441_792])
    let minus = try TernaryMatVec.multiply(TernaryMatrix(rows: 1, cols: n, repeating: -1), minus128, accumulatorWidth: 22)
    #expect(minus == [1_441_792])
    let zero = try TernaryMatVec.multiply(TernaryMatrix(rows: 3, cols: n, repeating: 0), minus128, accumulatorWidth: 22)
    #expect(zero == [0, 0, 0])
  }

  @Test func matVecMatchesAStraightforwardSum() throws {
    for seed: UInt64 in [1, 2, 3] {
      var rng = SeededRandom(seed: seed)
      let m = TernaryWorkload.randomMatrix(rows: 17, cols: 133, using: &rng)
      let a = TernaryWorkload.randomActivations(133, using: &rng)
      let y = try TernaryMatVec.multiply(m, a, accumulatorWidth: 22)
      for r in 0..<17 {
        var s = 0
        for c in 0..<133 {
          switch m[r, c] {
          case 1: s += Int(a[c])
          case -1: s -= Int(a[c])
          default: break
          }
        }
        #expect(y[r] == Int64(s), "seed \(seed) row \(r)")
      }
    }
  }

  @Test func overflowIsRejectedNotWrapped() {
    let m = TernaryMatrix(rows: 1, cols: 2, repeating: 1)
    #expect(throws: TernaryMatVec.Overflow.self) {
      try TernaryMatVec.multiply(m, [-128, -128], accumulatorWidth: 9)
    }
  }

  @Test func randomMatricesHaveTheRequestedDensity() {
    var rng = SeededRandom(seed: 7)
    let m = TernaryWorkload.randomMatrix(rows: 100, cols: 100, nonZero: 0.5, using: &rng)
    let nonZero = m.values.filter { $0 != 0 }.count
    #expect((4500...5500).contains(nonZero))
    #expect(m.values.contains(1) && m.values.contains(-1))
  }

  @Test func layoutPacksLanesAndPadsWithZeros() {
    let config = TernaryCoreConfig(lanes: 2, laneWidth: 3)
    let layout = TernaryCoreLayout(config)
    // 3 x 4 matrix: 2 row groups (second padded), 2 beats each (second padded).
    let m = TernaryMatrix(rows: 3, cols: 4, values: [1, -1, 0, 1, -1, 0, 1, 1, 0, 0, 0, -1])
    let beats = layout.weightBeats(m)
    #expect(layout.weightWordsPerBeat == 1)
    #expect(beats.count == 4)
    // Beat 0: lane 0 = row 0 cols 0-2 (01 11 00), lane 1 = row 1 cols 0-2 (11 00 01).
    #expect(beats[0] == 0b01_00_11__00_11_01)
    // Beat 1: lane 0 = row 0 col 3 (01), lane 1 = row 1 col 3 (01).
    #expect(beats[1] == 0b000001_000001)
    // Beat 3 (group 1, cols 3): row 2 col 3 = -1, padded lane 1 is zero.
    #expect(beats[3] == 0b11)
    let acts = layout.activationBeats([-1, 2, -128, 5])
    #expect(acts == [0x80_02_FF, 0x05])
  }
}
