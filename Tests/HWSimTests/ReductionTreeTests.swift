import Foundation
import HWDSL
import HWSim
import HWSupport
import HWTools
import HWVerilator
import Testing

/// `ReductionTree` on its own: a probe module reduces five 8-bit leaves (an
/// odd count, so a node moves up unpaired) by a widening sum, a maximum and
/// an argmax, combinationally and registered (every level; every two levels
/// with an enable), simulated with random leaves against Swift reductions.
@Suite struct ReductionTreeTests {
  static let count = 5
  static let width = 8

  /// sum_o, max_o, am_*_o: combinational; sum_r_o registered every level
  /// (latency 3); am_r_*_o registered every two levels (latency 1).
  static func probe() throws -> Design {
    let m = ModuleBuilder("reduction_probe", comment: ["ReductionTree probe: sum, maximum and argmax of five leaves."])
    _ = m.clock()
    let en = m.input("en", .bit)
    let values = m.input("values", .uint(count * width), comment: "leaf i at [8*i +: 8]")
    let valid = m.input("valid", .uint(count), comment: "argmax: leaf i takes part")
    let sumWidth = width + ceilLog2(count)
    let sum = m.output("sum", .uint(sumWidth))
    let maximum = m.output("max", .uint(width))
    let am = [m.output("am_valid", .bit), m.output("am_value", .sint(width)), m.output("am_index", .uint(3))]
    let sumRegistered = m.output("sum_r", .uint(sumWidth))
    let amRegistered = [
      m.output("am_r_valid", .bit), m.output("am_r_value", .sint(width)), m.output("am_r_index", .uint(3)),
    ]
    let leaves = (0..<count).map { i in values[width * i + width - 1, width * i] }
    let indexed = leaves.enumerated().map { i, v in [valid[i], v.asSigned, .literal(i, .uint(3))] }
    m.assign(sum, m.reductionTree("sum", leaves, .sum()))
    m.assign(maximum, m.reductionTree("max", leaves, .maximum))
    for (port, root) in zip(am, m.reductionTree("am", indexed, .argmax)) { m.assign(port, root) }
    m.assign(sumRegistered, m.reductionTree("sum_r", leaves, .sum(), registerEvery: 1))
    let amRoot = m.reductionTree("am_r", indexed, .argmax, registerEvery: 2, enable: en)
    for (port, root) in zip(amRegistered, amRoot) { m.assign(port, root) }
    return try Design(top: try m.finish())
  }

  struct Leaves {
    var values: [UInt64]
    var valid: [Bool]
    var sum: UInt64 { values.reduce(0, +) }
    var maximum: UInt64 { values.max()! }
    /// The lowest index of the largest valid (signed) value, or nil.
    var argmax: (index: Int, value: Int64)? {
      let signed = values.map { Int64(Int8(truncatingIfNeeded: $0)) }
      let candidates = (0..<values.count).filter { valid[$0] }
      guard let best = candidates.map({ signed[$0] }).max() else { return nil }
      return (candidates.first { signed[$0] == best }!, best)
    }
  }

  static func random(_ rng: inout SeededRandom) -> Leaves {
    // Values from a small range half the time, so ties are common.
    let small = rng.next() & 1 == 0
    let values = (0..<count).map { _ in small ? rng.next() % 4 + 126 : rng.next() & 0xFF }
    return Leaves(values: values, valid: (0..<count).map { _ in rng.next() % 4 != 0 })
  }

  @Test("the latency of a tree is its registered levels")
  func latency() {
    #expect(ReductionTree.latency(count: 5, registerEvery: 1) == 3)
    #expect(ReductionTree.latency(count: 5, registerEvery: 2) == 1)
    #expect(ReductionTree.latency(count: 16, registerEvery: 2) == 2)
    #expect(ReductionTree.latency(count: 16, registerEvery: nil) == 0)
    #expect(ReductionTree.latency(count: 1, registerEvery: 1) == 0)
  }

  @Test("one wire per node, named by level and position; a widening sum grows a bit a level")
  func structure() throws {
    let text = try Self.probe().files().first { $0.name == "reduction_probe.sv" }!.contents
    for name in ["sum_l1_0", "sum_l1_1", "sum_l2_0", "sum_l3_0", "am_l1_0_left", "am_l3_0_index"] {
      #expect(text.contains("assign \(name) ="), "\(name)")
    }
    #expect(!text.contains("sum_l1_2"), "the fifth leaf moves up unpaired")
    func declaration(_ name: String) -> String? {
      text.split(separator: "\n").first { $0.hasPrefix("  logic") && $0.contains(" \(name);") }.map(String.init)
    }
    #expect(declaration("sum_l1_0")?.contains("[8:0]") == true)
    #expect(declaration("sum_l2_0")?.contains("[9:0]") == true)
    #expect(declaration("sum_l3_0")?.contains("[10:0]") == true)
    #expect(text.contains("sum_r_l1_2_q"), "a registered level registers the unpaired node too")
  }

  @Test("RTL: verilator -Wall clean")
  func lint() throws {
    let design = try Self.probe()
    let gate = RTLGates.Files(top: design.top.name, sources: design.files())
    #expect(try RTLGates.verilatorLint(gate) == [])
  }

  @Test("random leaves: sum, maximum and argmax (lowest index on ties), combinational and registered")
  func simulate() throws {
    let design = try Self.probe()
    let cache = VerilatorBuildCache(
      root: ScratchDirectory.make("hwgen-reduction-tree"))
    let model = try VerilatedModel(library: cache.library(for: VerilatorBuildSpec(design: design, sources: design.files())))
    defer { model.close() }
    let p = try ["en_i", "values_i", "valid_i", "sum_o", "max_o", "am_valid_o", "am_value_o", "am_index_o",
                 "sum_r_o", "am_r_valid_o", "am_r_value_o", "am_r_index_o"].map { try model.port($0) }
    let (en, values, valid, sum, maximum, amValid, amValue, amIndex) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7])
    let (sumR, amRValid, amRValue, amRIndex) = (p[8], p[9], p[10], p[11])
    func argmaxMatches(_ leaves: Leaves, _ v: PortHandle, _ value: PortHandle, _ index: PortHandle) -> Bool {
      guard let best = leaves.argmax else { return model.get(v) == 0 }
      return model.get(v) == 1 && Int64(Int8(truncatingIfNeeded: model.get(value))) == best.value
        && Int(model.get(index)) == best.index
    }
    var rng = SeededRandom(seed: 11)
    var history: [Leaves] = []
    for t in 0..<400 {
      let leaves = Self.random(&rng)
      history.append(leaves)
      model.set(values, leaves.values.enumerated().reduce(0) { $0 | $1.element << (8 * $1.offset) })
      model.set(valid, leaves.valid.enumerated().reduce(0) { $0 | ($1.element ? 1 : 0) << $1.offset })
      model.set(en, 1)
      try model.eval()
      #expect(model.get(sum) == leaves.sum && model.get(maximum) == leaves.maximum, "t \(t)")
      #expect(argmaxMatches(leaves, amValid, amValue, amIndex), "t \(t): \(leaves)")
      if t >= 3 { #expect(model.get(sumR) == history[t - 3].sum, "t \(t)") }
      if t >= 1 { #expect(argmaxMatches(history[t - 1], amRValid, amRValue, amRIndex), "t \(t)") }
      try model.step()
    }
    // With the enable low the argmax tree's registers hold.
    let held = history[history.count - 1]
    model.set(en, 0)
    for _ in 0..<3 {
      let leaves = Self.random(&rng)
      model.set(values, leaves.values.enumerated().reduce(0) { $0 | $1.element << (8 * $1.offset) })
      try model.step()
      #expect(argmaxMatches(held, amRValid, amRValue, amRIndex))
    }
  }
}
