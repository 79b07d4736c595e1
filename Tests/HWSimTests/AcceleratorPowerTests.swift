import Foundation
import HWGenerators
import HWGolden
import HWReport
import HWSim
import HWSpec
import HWTools
import Testing

/// The power estimate end to end: activity counted by the simulated RTL,
/// resources from synthesizing the simulated design, coefficients from the
/// device profile.
@Suite("Accelerator power: estimates from simulated activity and synthesized resources")
struct AcceleratorPowerTests {
  /// A small accelerator sized for the tiny preset, so synthesis stays short.
  static let config = AcceleratorConfig(
    lanes: 4, maxLayers: 2, maxHidden: 512, maxLength: 512, maxInputs: 512, weightFIFOBeats: 64,
    scratchpadElements: 4096, parameterElements: 4096, programDepth: 256)

  static func estimate(
    _ weights: ModelWeights, device: String, clockMHz: Double
  ) throws -> (PowerEstimate, AcceleratorActivity) {
    let profile = try DeviceProfile.named(device)
    let sim = try AcceleratorModels.locked {
      try AcceleratorSimulation(weights: weights, config: config, profile: profile, clockMHz: clockMHz)
    }
    let runs = try sim.run(prompt: [7], tokens: 2)
    #expect(runs.allSatisfy { $0.mismatch == nil })
    let activity = runs.map(\.activity).reduce(AcceleratorActivity(), +)
    let counts = activity.counts(config: config, tokens: runs.count, rescaledRows: sim.program.rescaledRowsPerToken * runs.count,
      multiplies: try ElementMultiplies(config))
    let runner = SynthesisRunner(flow: try SynthesisFlow.forFamily(profile.family))
    let resources = try AcceleratorModels.locked {
      try runner.synthesize(try SynthesisJob.accelerator(config), yosys: try SynthesisRunner.yosysVersion()).resources
    }
    return (try PowerModel.estimate(activity: counts, resources: ResourceUsage(resources), profile: profile, clockMHz: clockMHz), activity)
  }

  @Test("doubling the clock about doubles dynamic power and leaves static power alone")
  func clock() throws {
    let weights = ModelWeights.synthetic(.tiny, seed: 3)
    let (slow, _) = try Self.estimate(weights, device: "u280", clockMHz: 150)
    let (fast, _) = try Self.estimate(weights, device: "u280", clockMHz: 300)
    #expect(slow.staticWatts == fast.staticWatts)
    let ratio = fast.dynamicWatts / slow.dynamicWatts
    // Not exactly 2: at the faster clock the memory is slower per cycle, so a token takes a few more cycles.
    #expect(ratio > 1.8 && ratio <= 2.0, "dynamic \(slow.dynamicWatts) W -> \(fast.dynamicWatts) W, ratio \(ratio)")
  }

  @Test("all-zero weights cost less logic energy than dense ones; the RTL counted no adds for them")
  func zeroWeights() throws {
    let dense = ModelWeights.synthetic(.tiny, seed: 5)
    let zero = ModelWeights.synthetic(.tiny, seed: 5, distribution: SyntheticWeightDistribution(nonZeroFraction: 0))
    let (d, dActivity) = try Self.estimate(dense, device: "u280", clockMHz: 300)
    let (z, zActivity) = try Self.estimate(zero, device: "u280", clockMHz: 300)
    #expect(zActivity.nonZeroWeights == 0 && dActivity.nonZeroWeights > 0)
    #expect(z.logicWatts * z.secondsPerToken < d.logicWatts * d.secondsPerToken)
    #expect(z.joulesPerToken < d.joulesPerToken)
  }

  @Test("a tiny design on a big device: static power dominates")
  func staticDominates() throws {
    let (e, _) = try Self.estimate(ModelWeights.synthetic(.tiny, seed: 2), device: "u280", clockMHz: 300)
    #expect(e.staticWatts > 0.5 * e.totalWatts, "static \(e.staticWatts) W of \(e.totalWatts) W")
    #expect(e.joulesPerToken > 0 && abs(e.tokensPerJoule * e.joulesPerToken - 1) < 1e-9)
  }
}
