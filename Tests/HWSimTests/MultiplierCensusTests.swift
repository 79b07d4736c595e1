import HWDSL
import HWGenerators
import HWSim
import HWSpec
import HWTools
import Testing

/// Multiplier counts come from the IR (`Module.multipliers`), and Yosys,
/// counting `$mul`/`$macc` in the elaborated RTL, must find the same number:
/// two independent counts of one design.
@Suite struct MultiplierCensusTests {
  /// Each unit at two lane counts (memories small enough for Yosys' generic flow).
  static let synthesized: [RegressTarget] = [
    .ternaryCore(TernaryCoreConfig(lanes: 4, laneWidth: 8)),
    .mlgru(MLGRUUnitConfig(lanes: 1, maxLayers: 1, maxHidden: 1)),
    .mlgru(MLGRUUnitConfig(lanes: 2, maxLayers: 2, maxHidden: 5)),
    .norm(NormUnitConfig(lanes: 1, maxLength: 4)),
    .norm(NormUnitConfig(lanes: 3, maxLength: 4)),
    .rescale(NormUnitConfig(lanes: 1, accumulatorWidth: 32)),
    .rescale(NormUnitConfig(lanes: 3, accumulatorWidth: 7)),
  ]

  @Test(arguments: synthesized)
  func yosysFindsTheMultipliersTheIRCounts(target: RegressTarget) throws {
    let (top, sources) = try target.sources()
    let report = try LintGate.synthesize(RTLGates.Files(top: top, sources: sources), full: false)
    let census = try target.multiplierCensus()
    #expect(report.multipliers == census.total, "\(target): Yosys \(report.multipliers), IR \(census)")
  }

  /// `hwgen lint`'s Yosys gate holds each unit to its census, not to a budget.
  @Test(arguments: ["rescale:3x7", "norm:1x4", "mlgru:1x1x1"])
  func theLintGatePassesAUnitOnItsCensus(spec: String) throws {
    let target = try RegressTarget.parse(spec)
    let census = try target.multiplierCensus()
    let result = LintGate.check(target)
    #expect(result.yosysProblems.isEmpty, "\(target): \(result.yosysProblems.joined(separator: "\n"))")
    #expect(result.synthesis?.multipliers == census.total, "\(target): IR \(census)")
    #expect(census.total > 0)
  }

  @Test(arguments: RegressMatrix.full)
  func eachUnitsCensusIsItsLanesTimesTheLaneModule(target: RegressTarget) throws {
    let top = try target.design().top
    switch target {
    case .ternaryCore: #expect(top.multipliers.total == 0)
    case .mlgru(let c): #expect(top.multipliers.total == c.lanes * (try ElementMultiplies.laneMultipliers(top)))
    case .norm(let c):
      // One more for the scalar path (the reciprocal square root and output scale).
      #expect(top.multipliers.total == c.lanes * (try ElementMultiplies.laneMultipliers(top)) + 1)
    case .rescale(let c): #expect(top.multipliers.total == c.lanes * (try ElementMultiplies.laneMultipliers(top)))
    case .accelerator(let c):
      let units = try ElementMultiplies(c)
      let e = c.elementLanes
      // The units' lanes, the norm unit's scalar multiplier, the EMBED address (token x row length)
      // and, with 2-bit planes, the weight DMA's read length (row groups x words; a base-3 MATVEC
      // names its memory beats).
      let dmaLength = c.weightPacking == .planes ? 1 : 0
      #expect(top.multipliers.total == e * (units.normLane + units.mlgruLane + units.rescaleLane) + 1 + 1 + dmaLength)
    case .axiRead: #expect(top.multipliers.total == 0)
    }
  }

  @Test func anMLGRULaneHasTheSixMultipliersItsDocumentationLists() throws {
    let design = try MLGRUUnitGenerator.generate(MLGRUUnitConfig(lanes: 2, maxLayers: 2, maxHidden: 5))
    let lane = try #require(design.modules.first { $0.name == "mlgru_lane" })
    // Two 11 x 12 interpolations (one per sigmoid), two 32 x 18, two 32 x 32.
    #expect(lane.multipliers.total == 6)
    #expect(lane.multipliers.count(12, 11) == 2)
    #expect(lane.multipliers.count(32, 18) == 2)
    #expect(lane.multipliers.count(32, 32) == 2)
    #expect(design.top.multipliers.total == 2 * 6)
  }

  @Test func theElementUnitsLanesHaveTodaysMultipliers() throws {
    for lanes in [4, 16] {
      let units = try ElementMultiplies(AcceleratorConfig(lanes: lanes))
      #expect(units == ElementMultiplies(normLane: 2, mlgruLane: 6, rescaleLane: 1), "\(lanes) lanes: \(units)")
    }
  }

  /// The power model's multiply count follows the census, not a constant.
  @Test func theActivityChargesTheCensusMultipliesPerBeat() throws {
    let config = AcceleratorConfig(lanes: 16)
    var activity = AcceleratorActivity()
    activity.counters[AcceleratorCounter.normBeats.rtlName] = 5
    activity.counters[AcceleratorCounter.mlgruBeats.rtlName] = 7
    let e = config.elementLanes
    let today = activity.counts(config: config, tokens: 1, rescaledRows: 11, multiplies: try ElementMultiplies(config))
    #expect(today.multiplies == 5 * e * 2 + 7 * e * 6 + 11)
    let wider = activity.counts(
      config: config, tokens: 1, rescaledRows: 11, multiplies: ElementMultiplies(normLane: 3, mlgruLane: 4, rescaleLane: 2))
    #expect(wider.multiplies == 5 * e * 3 + 7 * e * 4 + 11 * 2)
  }
}
