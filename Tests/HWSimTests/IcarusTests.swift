import Foundation
import HWGenerators
import HWGolden
import HWSpec
import HWSupport
import Testing

@testable import HWSim
@testable import HWTools
@testable import HWVerilator

/// The Icarus Verilog bench: the same seeded workloads as the Verilator runs,
/// and both simulators must agree with the golden model (and so with each other).
@Suite struct IcarusTests {
  static let configs = [
    TernaryCoreConfig(lanes: 3, laneWidth: 5),
    TernaryCoreConfig(lanes: 1, laneWidth: 1),
    TernaryCoreConfig(lanes: 4, laneWidth: 7, reduction: .adderTree),
  ]

  @Test(arguments: configs)
  func bothSimulatorsAgreeWithTheGoldenModel(config: TernaryCoreConfig) throws {
    let bundle = try RTLBundle(config: config)
    let sim = try CoreModels.simulation(config)
    for seed: UInt64 in [5, 6] {
      let workload = RegressWorkload(config: config, seed: seed)
      let icarus = try IcarusSimulation.run(
        bundle: bundle, jobs: workload.jobs, pattern: IcarusTestbench.Pattern(stalls: workload.stalls, seed: seed))
      #expect(icarus.selfCheckPassed, "seed \(seed), \(config): \(icarus.summary)")
      let golden = try TernaryCoreCheck.compare(
        TernaryCoreRun(outputs: icarus.outputs, cycles: icarus.cycles, beats: 0), workload.jobs, config: config, seed: seed)
      try sim.bench.reset()
      let verilated = try sim.bench.run(workload.jobs, stalls: workload.stalls, seed: seed)
      #expect(verilated.outputs == golden, "seed \(seed), \(config)")
      #expect(icarus.outputs == verilated.outputs, "seed \(seed), \(config)")
    }
  }

  @Test func withoutStallsBothSimulatorsTakeTheSameCycles() throws {
    // No stalls: both benches present a beat every cycle, so the cycle counts
    // (from the first beat to the last result) must match exactly.
    let config = TernaryCoreConfig(lanes: 3, laneWidth: 5)
    var rng = SeededRandom(seed: 9)
    let jobs = (0..<3).map { _ in
      TernaryCoreJob(
        matrix: TernaryWorkload.randomMatrix(rows: 7, cols: 11, using: &rng),
        activations: TernaryWorkload.randomActivations(11, using: &rng))
    }
    let icarus = try IcarusSimulation.run(
      bundle: try RTLBundle(config: config), jobs: jobs, pattern: IcarusTestbench.Pattern(stalls: .none, seed: 9))
    #expect(icarus.selfCheckPassed)
    let sim = try CoreModels.simulation(config)
    try sim.bench.reset()
    let verilated = try sim.bench.run(jobs)
    #expect(icarus.outputs == verilated.outputs)
    // The Icarus bench counts from reset release, one cycle before its first beat.
    #expect(abs(icarus.cycles - verilated.cycles) <= 2, "icarus \(icarus.cycles), verilator \(verilated.cycles)")
  }

  @Test func aBrokenAccumulatorIsCaughtByTheBenchAndByTheComparison() throws {
    let config = TernaryCoreConfig(lanes: 2, laneWidth: 3)
    let bundle = try RTLBundle(config: config)
    let broken = bundle.sources.map { file in
      (name: file.name, contents: file.contents.replacingOccurrences(
        of: "assign total = acc_q + psum_ext;", with: "assign total = acc_q - psum_ext;"))
    }
    #expect(broken.map(\.contents) != bundle.sources.map(\.contents), "the mutation must change the RTL")
    let workload = RegressWorkload(config: config, seed: 3)
    let run = try IcarusSimulation.run(
      config: config, sources: broken, jobs: workload.jobs, pattern: IcarusTestbench.Pattern(stalls: workload.stalls, seed: 3))
    #expect(!run.selfCheckPassed)
    #expect(run.summary.contains("FAIL"), "\(run.summary)")
    #expect(run.summary.contains("mismatch: result beat"), "\(run.summary)")
    #expect(throws: TernaryCoreCheck.Mismatch.self) {
      try TernaryCoreCheck.compare(
        TernaryCoreRun(outputs: run.outputs, cycles: run.cycles, beats: 0), workload.jobs, config: config, seed: 3)
    }
  }

  @Test func aCoreThatNeverAnswersTimesOut() throws {
    let config = TernaryCoreConfig(lanes: 1, laneWidth: 1)
    let bundle = try RTLBundle(config: config)
    let mute = bundle.sources.map { file in
      (name: file.name, contents: file.contents.replacingOccurrences(of: "assign res_valid_o = out_valid_q;", with: "assign res_valid_o = 1'b0;"))
    }
    #expect(mute.map(\.contents) != bundle.sources.map(\.contents))
    let workload = RegressWorkload(config: config, seed: 1)
    #expect(throws: IcarusError.self) {
      _ = try IcarusSimulation.run(
        config: config, sources: mute, jobs: workload.jobs, pattern: IcarusTestbench.Pattern(stalls: .none, seed: 1))
    }
  }

  @Test func theBenchIsLintCleanUnderVerilator() throws {
    for config in [TernaryCoreConfig(lanes: 3, laneWidth: 5), TernaryCoreConfig(lanes: 8, laneWidth: 16, reduction: .adderTree)] {
      let target = RegressTarget.ternaryCore(config)
      let warnings = try LintGate.benchLint(target, sources: try target.sources().files)
      #expect(warnings.isEmpty, "\(config): \(warnings.joined(separator: "\n"))")
    }
  }

  @Test func memoryFilesRoundTripNegativeResults() throws {
    let config = TernaryCoreConfig(lanes: 3, laneWidth: 5)
    let layout = TernaryCoreLayout(config)
    let values: [Int64] = [-(1 << 21), (1 << 21) - 1, -1]
    let words = IcarusTestbench.packResult(values, width: config.accumulatorWidth, words: layout.resultWordsPerBeat)
    let text = IcarusTestbench.hex(words, bits: config.resultBeatBits, words: layout.resultWordsPerBeat, depth: 2)
    #expect(text.split(separator: "\n").count == 2)
    #expect(text.split(separator: "\n")[0].count == (config.resultBeatBits + 3) / 4)
    let decoded = try IcarusTestbench.decodeReceived(text, config: config, rowsPerJob: [3])
    #expect(decoded == [values])
    // Beats past the results (never written, x in the file) are ignored; a bad digit inside is an error.
    #expect(try IcarusTestbench.decodeReceived(text + "xxxx\n", config: config, rowsPerJob: [2]) == [Array(values.prefix(2))])
    #expect(throws: TestbenchError.self) { try IcarusTestbench.decodeReceived("zz\n", config: config, rowsPerJob: [1]) }
  }

  @Test func theStallPatternIsSeeded() {
    let stalls = StreamStalls(weightValid: 0.5, activationValid: 0.8, resultReady: 0.25)
    #expect(IcarusTestbench.Pattern(stalls: stalls, seed: 4) == IcarusTestbench.Pattern(stalls: stalls, seed: 4))
    #expect(IcarusTestbench.Pattern(stalls: stalls, seed: 4) != IcarusTestbench.Pattern(stalls: stalls, seed: 5))
    let full = IcarusTestbench.Pattern(stalls: .none, seed: 4)
    #expect(full.weightValid.allSatisfy { $0 } && full.activationValid.allSatisfy { $0 } && full.resultReady.allSatisfy { $0 })
    let never = IcarusTestbench.Pattern(stalls: StreamStalls(weightValid: 0, activationValid: 0, resultReady: 0), seed: 4)
    #expect(never.resultReady.contains(true), "a sink that is never ready would hang the bench")
  }
}

/// The accelerator's second simulator: the tiny model through `mmfree_accel` under Icarus,
/// from the same memory image, host-driven over AXI4-Lite, every checkpoint element and
/// every token against the golden model (`AcceleratorIcarusSimulation`).
@Suite struct AcceleratorIcarusTests {
  @Test("the tiny model runs bit-exact through mmfree_accel under Icarus", arguments: [UInt64(1), 2])
  func tinyModelUnderIcarus(seed: UInt64) throws {
    try Self.runTiny(seed: seed)
  }

  @Test("the tiny model runs bit-exact under Icarus with base-3 weights (weight_unpack on the second simulator)")
  func base3UnderIcarus() throws {
    try Self.runTiny(seed: 3, packing: .base3)
  }

  @Test("two streams with prompts of different lengths run bit-exact under Icarus, each against its own golden model")
  func streamsUnderIcarus() throws {
    let weights = ModelWeights.synthetic(.tiny, seed: 5)
    let tiny = ModelConfig.tiny
    let config = AcceleratorConfig(
      lanes: 8, maxLayers: tiny.layers, maxHidden: tiny.longestReduction, maxLength: tiny.longestReduction,
      weightFIFOBeats: 64, scratchpadElements: 8192, parameterElements: 4096, programDepth: 512, streams: 2)
    let prompts = [[3], [9, 4]]
    let run = try AcceleratorIcarusSimulation.run(weights: weights, config: config, prompts: prompts, tokens: 2)
    var expected: [Int] = []
    var goldens = [FixedPointModel](repeating: FixedPointModel(weights: FixedPointWeights(weights)), count: 2)
    var inputs = [3, 9]
    for step in 0..<3 {
      for s in 0..<2 {
        let next = goldens[s].step(token: inputs[s]).next
        expected.append(s << AcceleratorConfig.tokenBits | next)
        inputs[s] = step + 1 < prompts[s].count ? prompts[s][step + 1] : next
      }
    }
    #expect(run.tokens == expected)
    #expect(run.compared == 3 * 2 * (tiny.layers * 2 * tiny.hiddenSize + tiny.hiddenSize + tiny.vocabSize))
  }

  @Test("accel_tb.sv is lint-clean under verilator -Wall with the design", arguments: [16, 128])
  func theBenchIsLintCleanUnderVerilator(lanes: Int) throws {
    let target = RegressTarget.accelerator(AcceleratorConfig(lanes: lanes))
    let warnings = try LintGate.benchLint(target, sources: try target.sources().files)
    #expect(warnings.isEmpty, "lanes \(lanes): \(warnings.joined(separator: "\n"))")
  }

  static func runTiny(seed: UInt64, packing: WeightPacking = .planes) throws {
    let weights = ModelWeights.synthetic(.tiny, seed: seed)
    // Memories sized for the tiny model: Icarus elaborates every bit of the defaults' (2.7B-sized) ones.
    let tiny = ModelConfig.tiny
    let config = AcceleratorConfig(
      lanes: 16, maxLayers: tiny.layers, maxHidden: tiny.longestReduction, maxLength: tiny.longestReduction,
      weightFIFOBeats: 64, scratchpadElements: 4096, parameterElements: 4096, programDepth: 256, weightPacking: packing)
    let run = try AcceleratorIcarusSimulation.run(weights: weights, config: config, prompt: [1, 7], tokens: 2)
    var golden = FixedPointModel(weights: FixedPointWeights(weights))
    var input = 1
    var expected: [Int] = []
    for step in 0..<3 {
      let next = golden.step(token: input).next
      expected.append(next)
      input = step == 0 ? 7 : next
    }
    #expect(run.tokens == expected, "seed \(seed), \(packing)")
    #expect(run.compared > 0 && run.cycles > 0, "seed \(seed), \(packing)")
  }
}
