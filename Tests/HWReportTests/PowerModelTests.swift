import Foundation
import HWReport
import HWSpec
import Testing

/// A token of 1.3B-like activity at 16 lanes: counts of the right order, not
/// taken from a run (the end-to-end versions come with the simulation's counters).
func sampleActivity(ternaryAdds: Int = 800_000_000, tokens: Int = 1) -> ActivityCounts {
  ActivityCounts(
    tokens: tokens, cycles: 1_500_000 * tokens, ternaryAdds: ternaryAdds * tokens,
    accumulatorUpdates: 24_000_000 * tokens, onChipReadBits: 3_000_000_000 * tokens,
    onChipWriteBits: 3_000_000_000 * tokens, multiplies: 1_000_000 * tokens, offChipReadBytes: 330_000_000 * tokens,
    busy: [.init(unit: "ternary_core", busyCycles: 1_400_000 * tokens)])
}

let sampleResources = ResourceUsage(luts: 150_000, flipFlops: 120_000, blockRAMBlocks: 200, dsps: 400)

@Suite struct PowerModelTests {
  @Test func everyProfileHasSourcedCoefficients() throws {
    for profile in DeviceProfile.all {
      let power = try #require(profile.power, "\(profile.name) has no power section")
      #expect(power.all.count == 14)
      for (name, c) in power.all {
        #expect(c.value.isFinite && c.value >= 0, "\(profile.name).\(name)")
        #expect(c.source.count > 40, "\(profile.name).\(name) cites no source: \(c.source)")
      }
      #expect(power.idleToggleRate.value > 0 && power.idleToggleRate.value <= 1)
    }
    // DDR4 and HBM2 boards differ where the memories do.
    let d5005 = try #require(try DeviceProfile.named("d5005").power)
    let u280 = try #require(try DeviceProfile.named("u280").power)
    #expect(u280.offChipPJPerBit.value < d5005.offChipPJPerBit.value)
  }

  @Test func doublingTheClockDoublesDynamicPowerAndLeavesStaticAlone() throws {
    let profile = try DeviceProfile.named("d5005")
    let slow = try PowerModel.estimate(activity: sampleActivity(), resources: sampleResources, profile: profile, clockMHz: 150)
    let fast = try PowerModel.estimate(activity: sampleActivity(), resources: sampleResources, profile: profile, clockMHz: 300)
    #expect(fast.staticWatts == slow.staticWatts)
    #expect(abs(fast.dynamicWatts / slow.dynamicWatts - 2) < 0.01, "\(slow.dynamicWatts) W -> \(fast.dynamicWatts) W")
    #expect(fast.totalWatts > slow.totalWatts)
    // The same work in half the time: per-action energy per token is unchanged,
    // static energy per token halves.
    #expect(fast.joulesPerToken < slow.joulesPerToken)
    #expect(abs(fast.secondsPerToken * 2 - slow.secondsPerToken) < 1e-12)
  }

  @Test func fewerNonZeroWeightsCostLessLogicEnergy() throws {
    let profile = try DeviceProfile.named("u280")
    let dense = try PowerModel.estimate(
      activity: sampleActivity(ternaryAdds: 1_200_000_000), resources: sampleResources, profile: profile, clockMHz: 300)
    let sparse = try PowerModel.estimate(
      activity: sampleActivity(ternaryAdds: 800_000_000), resources: sampleResources, profile: profile, clockMHz: 300)
    let zero = try PowerModel.estimate(
      activity: sampleActivity(ternaryAdds: 0), resources: sampleResources, profile: profile, clockMHz: 300)
    #expect(dense.logicWatts > sparse.logicWatts)
    #expect(sparse.logicWatts > zero.logicWatts)
    #expect(dense.joulesPerToken > sparse.joulesPerToken)
    // Only the logic category moves.
    #expect(dense.onChipMemoryWatts == zero.onChipMemoryWatts)
    #expect(dense.offChipMemoryWatts == zero.offChipMemoryWatts)
    let perAdd = (dense.logicWatts - zero.logicWatts) * dense.secondsPerToken / 1_200_000_000
    let addPJ = try #require(profile.power).ternaryAddPJ.value
    #expect(abs(perAdd - addPJ * 1e-12) < 1e-18)
  }

  @Test func aTinyDesignOnABigDeviceIsDominatedByStaticPower() throws {
    let tiny = ResourceUsage(luts: 200, flipFlops: 150, blockRAMBlocks: 0, dsps: 0)
    let activity = ActivityCounts(tokens: 1, cycles: 10_000, ternaryAdds: 5_000, accumulatorUpdates: 500, offChipReadBytes: 4_096)
    for name in ["u250", "d5005"] {
      let e = try PowerModel.estimate(activity: activity, resources: tiny, profile: try DeviceProfile.named(name), clockMHz: 300)
      #expect(e.staticWatts / e.totalWatts > 0.5, "\(name): static \(e.staticWatts) W of \(e.totalWatts) W")
      #expect(e.logicWatts < 0.01 * e.staticWatts)
    }
  }

  @Test func componentsFollowTheFormula() throws {
    // Off-chip transfers only: bytes x 8 x pJ/bit over the run's time.
    let profile = try DeviceProfile.named("u280")
    let p = try #require(profile.power)
    let activity = ActivityCounts(tokens: 2, cycles: 3_000_000, offChipReadBytes: 1_000_000, offChipWriteBytes: 24)
    let none = ResourceUsage(luts: 0, flipFlops: 0, blockRAMBlocks: 0, dsps: 0)
    let e = try PowerModel.estimate(activity: activity, resources: none, profile: profile, clockMHz: 300)
    let seconds = 3_000_000 / 300e6
    let transfers = try #require(e.components.first { $0.name == "off-chip transfers" })
    #expect(abs(transfers.watts - 1_000_024 * 8 * p.offChipPJPerBit.value * 1e-12 / seconds) < 1e-12)
    #expect(abs(e.offChipMemoryWatts - transfers.watts - p.offChipBackgroundWatts.value) < 1e-12)
    #expect(e.logicWatts == 0 && e.onChipMemoryWatts == 0 && e.multiplyWatts == 0)
    #expect(abs(e.totalWatts - e.staticWatts - e.offChipMemoryWatts) < 1e-12)
    #expect(abs(e.joulesPerToken - e.totalWatts * seconds / 2) < 1e-15)
    #expect(abs(e.tokensPerJoule * e.joulesPerToken - 1) < 1e-12)
    // The categories add up to the total.
    let sum = PowerCategory.allCases.reduce(0) { $0 + e.watts($1) }
    #expect(abs(sum - e.totalWatts) < 1e-12)
  }

  @Test func badInputIsRefused() throws {
    let profile = try DeviceProfile.named("u280")
    #expect(throws: PowerModel.Unavailable.self) {
      try PowerModel.estimate(activity: sampleActivity(), resources: sampleResources, profile: profile, clockMHz: 0)
    }
    #expect(throws: ActivityCounts.Invalid.self) {
      try PowerModel.estimate(
        activity: ActivityCounts(tokens: 0, cycles: 10), resources: sampleResources, profile: profile, clockMHz: 300)
    }
    #expect(throws: ActivityCounts.Invalid.self) {
      try PowerModel.estimate(
        activity: ActivityCounts(tokens: 1, cycles: 10, ternaryAdds: -1), resources: sampleResources, profile: profile,
        clockMHz: 300)
    }
  }

  @Test func profilesWithoutPowerStillDecode() throws {
    // A profile written before the power section existed.
    var object = try #require(
      try JSONSerialization.jsonObject(with: JSONEncoder().encode(try DeviceProfile.named("kv260"))) as? [String: Any])
    object.removeValue(forKey: "power")
    let old = try JSONDecoder().decode(DeviceProfile.self, from: JSONSerialization.data(withJSONObject: object))
    #expect(old.power == nil)
    #expect(throws: PowerModel.Unavailable.self) {
      try PowerModel.estimate(activity: sampleActivity(), resources: sampleResources, profile: old, clockMHz: 300)
    }
  }
}

@Suite struct PowerReportTests {
  func estimate() throws -> PowerEstimate {
    try PowerModel.estimate(
      activity: sampleActivity(tokens: 2), resources: sampleResources, profile: try DeviceProfile.named("d5005"),
      clockMHz: 300)
  }

  @Test func textLinesAreLabelledWithTheBreakdown() throws {
    let lines = PowerReport.lines(try estimate())
    #expect(lines.count == 4)
    #expect(lines[0].hasPrefix("power (ESTIMATE, d5005 at 300 MHz): chip (FPGA and its DRAM) "))
    for part in ["static", "logic", "on-chip memory", "DSP/multiply", "off-chip memory"] {
      #expect(lines[0].contains(part), "\(part) missing from \(lines[0])")
    }
    // No published idle measurement of the D5005 card: the board line says so instead of a number.
    #expect(lines[1].hasPrefix("board (whole card): unavailable: No published idle measurement"))
    #expect(lines[2].contains("chip ") && lines[2].contains("/token") && lines[2].contains("board unavailable"))
    #expect(lines[3].hasPrefix("method: ESTIMATE"))
    // The U250's card idle power is measured: both levels, side by side, each labelled.
    let u250 = try PowerModel.estimate(
      activity: sampleActivity(tokens: 2), resources: sampleResources, profile: try DeviceProfile.named("u250"),
      clockMHz: 300)
    let board = PowerReport.lines(u250)
    #expect(board.count == 5)
    #expect(board[1].hasPrefix("board (ESTIMATE, whole card): ") && board[1].contains("measured idle 39.1 W"))
    #expect(board[2].contains("chip ") && board[2].contains("; board ") && board[2].contains("mJ/token"))
    #expect(board[4].hasPrefix("board method: ESTIMATE"))
  }

  @Test func boardPowerIsTheCardsMeasuredIdlePlusTheDesignsDynamicPower() throws {
    let profile = try DeviceProfile.named("u250")
    let idle = try #require(profile.boardPower?.idleWatts)
    #expect(idle.value == 39.13 && idle.source.hasPrefix("MEASURED by ternip"))
    let e = try PowerModel.estimate(activity: sampleActivity(), resources: sampleResources, profile: profile, clockMHz: 300)
    let b = try #require(e.board)
    #expect(e.boardUnavailable == nil)
    // The card's idle already holds the FPGA's static and the DRAM's background power: they are not added twice.
    #expect(abs(b.dynamicWatts - e.dynamicWatts) < 1e-12)
    #expect(abs(b.totalWatts - (idle.value + e.dynamicWatts)) < 1e-12)
    #expect(abs(b.totalWatts - e.totalWatts - (idle.value - e.staticWatts - profile.power!.offChipBackgroundWatts.value)) < 1e-9)
    #expect(abs(b.joulesPerToken - b.totalWatts * e.secondsPerToken) < 1e-15)
    #expect(abs(b.tokensPerJoule * b.joulesPerToken - 1) < 1e-12)
    #expect(b.totalWatts > e.totalWatts)
    // Doubling the clock: the board's idle stays, its dynamic part doubles.
    let fast = try PowerModel.estimate(activity: sampleActivity(), resources: sampleResources, profile: profile, clockMHz: 600)
    #expect(abs(try #require(fast.board).dynamicWatts / b.dynamicWatts - 2) < 0.01)
    // Every profile says where its board power comes from, or why there is none.
    for p in DeviceProfile.all {
      let section = try #require(p.boardPower, "\(p.name) has no boardPower section")
      #expect(section.note.count > 40, "\(p.name)")
      if let i = section.idleWatts {
        #expect(i.value > 0 && i.source.hasPrefix("MEASURED by "), "\(p.name)")
      } else {
        let none = try PowerModel.estimate(activity: sampleActivity(), resources: sampleResources, profile: p, clockMHz: 300)
        #expect(none.board == nil && none.boardUnavailable == section.note, "\(p.name)")
      }
    }
  }

  @Test func jsonRoundTripsAndIsDeterministic() throws {
    let e = try estimate()
    let text = try PowerReport.json(e)
    #expect(text == (try PowerReport.json(try estimate())))
    let decoded = try JSONDecoder().decode(PowerEstimate.self, from: Data(text.utf8))
    #expect(decoded == e)
    #expect(text.contains("\"joulesPerToken\""))
    #expect(text.contains("\"sources\""))
  }

  @Test func markdownAndSVGAreDeterministicAndComplete() throws {
    let e = try estimate()
    let md = PowerReport.markdown(e, title: "1.3b on d5005", chart: "power.svg")
    #expect(md == PowerReport.markdown(try estimate(), title: "1.3b on d5005", chart: "power.svg"))
    #expect(md.contains("**ESTIMATE**"))
    #expect(md.contains("![where the power goes](power.svg)"))
    #expect(md.contains("ASSUMPTION."))
    #expect(md.contains("| | chip (FPGA and its DRAM) | board (whole card) |") && md.contains("| watts |"))
    for s in e.sources { #expect(md.contains("| \(s.coefficient) |")) }
    let svg = PowerReport.svg(e)
    #expect(svg == PowerReport.svg(try estimate()))
    #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
    #expect(svg.hasSuffix("</svg>\n"))
    #expect(svg.contains("ESTIMATE"))
    // The stacked bar's segments fill the 400-pixel bar (to print rounding).
    let segments = svg.split(separator: "\n").filter { $0.contains("y=\"56.0\"") && $0.contains("<rect") }
    let widths = segments.compactMap { line -> Double? in
      guard let range = line.range(of: "width=\"") else { return nil }
      return Double(line[range.upperBound...].prefix { $0 != "\"" })
    }
    #expect(widths.count == 5)
    #expect(abs(widths.reduce(0, +) - 400) < 0.5)
  }
}
