import HWGolden
import HWSim
import HWSpec
import HWSupport
import Testing

/// The vector unit at lane counts other than the accelerator's: its argmax is
/// a `ReductionTree` over the lanes, so an odd count (a node moving up
/// unpaired) and one lane (no tree at all) are checked against
/// `FixedPointModel.argmax`, ties and padding lanes included.
@Suite struct VectorUnitTests {
  @Test("vector unit argmax and adds at odd lane counts, against FixedPointModel.argmax and Fixed.add", arguments: [3, 1])
  func oddLanes(lanes: Int) throws {
    let unit = try VectorUnitSimulation(lanes: lanes)
    var rng = SeededRandom(seed: 9)
    for n in [1, 2, 3, 4, 7, 40] {
      var logits = (0..<n).map { _ in Int32(truncatingIfNeeded: rng.next() % 5) - 2 }
      if n > 2 { logits[n - 1] = logits.max()! }  // a tie with an earlier maximum: the lower index wins
      let am = try unit.run(argmax: true, logits)
      #expect(am.index == FixedPointModel.argmax(logits) && am.max == logits.max()!, "lanes \(lanes), n \(n)")
      let negative = (0..<n).map { _ in Int32.min + Int32(rng.next() % 3) }
      let amNegative = try unit.run(argmax: true, negative)
      #expect(amNegative.index == FixedPointModel.argmax(negative), "lanes \(lanes), n \(n), all near Int32.min")
      let a = (0..<n).map { _ in Int32(truncatingIfNeeded: rng.next()) }
      let b = (0..<n).map { _ in Int32(truncatingIfNeeded: rng.next()) }
      #expect(try unit.run(argmax: false, a, b).values == (0..<n).map { Fixed.add(a[$0], b[$0]) }, "lanes \(lanes)")
    }
  }
}
