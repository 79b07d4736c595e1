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

  @Test func overflowIsRejectedNotWrapped() throws {
    // A 9-bit accumulator holds -256 but not -384.
    let fits = try TernaryMatVec.multiply(TernaryMatrix(rows: 1, cols: 2, repeating: 1), [-128, -128], accumulatorWidth: 9)
    #expect(fits == [-256])
    #expect(throws: TernaryMatVec.Overflow.self) {
      try TernaryMatVec.multiply(TernaryMatrix(rows: 1, cols: 3, repeating: 1), [-128, -128, -128], accumulatorWidth: 9)
    }
  }

  @Test func randomMatricesHaveTheRequestedDensity() {
    var rng = SeededRandom(seed: 7)
    let m = TernaryWorkload.randomMatrix(rows: 100, cols: 100, nonZero: 0.5, using: &rng)
    let nonZero = m.values.filter { $0 != 0 }.count
    #expect((4500...5500).contains(nonZero))
    #expect(m.values.contains(1) && m.values.contains(-1))
  }

  @Test func layoutPacksPlanesPerLaneAndPadsWithZeros() {
    let config = TernaryCoreConfig(lanes: 2, laneWidth: 3)
    let layout = TernaryCoreLayout(config)
    // 3 x 4 matrix: 2 row groups (second padded), 2 beats each (second padded).
    let m = TernaryMatrix(rows: 3, cols: 4, values: [1, -1, 0, 1, -1, 0, 1, 1, 0, 0, 0, -1])
    let beats = layout.weightBeats(m)
    #expect(layout.weightWordsPerBeat == 1)
    #expect(beats.count == 4)
    // Beat 0, lane 0 = row 0 cols 0-2 [1, -1, 0]: non-zero plane 011, negative plane 010.
    //         lane 1 = row 1 cols 0-2 [-1, 0, 1]: non-zero plane 101, negative plane 001.
    #expect(beats[0] == 0b001_101__010_011)
    // Beat 1: col 3 only; row 0 = +1, row 1 = +1.
    #expect(beats[1] == 0b000_001__000_001)
    // Beat 2: row 2 cols 0-2 are zero; beat 3: row 2 col 3 = -1, lane 1 padded.
    #expect(beats[2] == 0)
    #expect(beats[3] == 0b001_001)
    // Activations -1, 2, -128 | 5 as bit planes of 3 bits: plane b bit j = bit b of a_j.
    let acts = layout.activationBeats([-1, 2, -128, 5])
    #expect(layout.activationWordsPerBeat == 1)
    // a = [0xFF, 0x02, 0x80]: plane 0 = 001, plane 1 = 011, planes 2-6 = 001, plane 7 = 101.
    let planes0: [UInt32] = [0b001, 0b011, 0b001, 0b001, 0b001, 0b001, 0b001, 0b101]
    // a = [0x05]: planes 0 and 2 set.
    let planes1: [UInt32] = [1, 0, 1, 0, 0, 0, 0, 0]
    func word(_ planes: [UInt32]) -> UInt32 { planes.enumerated().reduce(0) { $0 | $1.element << UInt32(3 * $1.offset) } }
    #expect(acts == [word(planes0), word(planes1)])
  }
}
