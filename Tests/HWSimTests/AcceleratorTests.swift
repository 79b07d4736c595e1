import Foundation
import HWGenerators
import HWGolden
import HWSim
import HWSpec
import HWSupport
import Testing

/// Builds the accelerator's unit libraries once at a time (parallel tests
/// would race to build the same cache entries).
enum AcceleratorModels {
  private static let lock = NSLock()

  static func simulation(
    _ model: ModelConfig, seed: UInt64, lanes: Int = 16, device: String = "d5005", layers: Int? = nil
  ) throws -> (AcceleratorSimulation, DeviceProfile) {
    lock.lock()
    defer { lock.unlock() }
    let profile = try DeviceProfile.named(device)
    let sim = try AcceleratorSimulation(
      weights: ModelWeights.synthetic(model, seed: seed), config: AcceleratorConfig(lanes: lanes),
      profile: profile, clockMHz: profile.defaultClockMHz, layers: layers)
    return (sim, profile)
  }
}

@Suite("Accelerator: whole tokens through the RTL units against the golden model")
struct AcceleratorTests {
  @Test("tiny preset end to end, bit-exact on every element of every token, greedy generation in the loop",
        arguments: [(UInt64(1), 16), (UInt64(2), 16), (UInt64(3), 8)])
  func tinyEndToEnd(seed: UInt64, lanes: Int) throws {
    let (sim, profile) = try AcceleratorModels.simulation(.tiny, seed: seed, lanes: lanes)
    let prompt = [Int(seed * 7 % 512), 3]
    let report = try AcceleratorRunner.run(
      sim, prompt: prompt, tokens: 4, seed: seed, device: profile, clockMHz: profile.defaultClockMHz)
    #expect(report.firstMismatch == nil, "seed \(seed), lanes \(lanes): \(report.firstMismatch.map(\.description) ?? "")")
    #expect(report.mismatches == 0)
    // Every element: 2 layers x 2 vectors of D, final norm, logits per token.
    let perToken = 2 * 2 * 128 + 128 + 512
    #expect(report.elementsCompared == perToken * report.tokens)
    var golden = FixedPointModel(weights: ModelWeights.synthetic(.tiny, seed: seed))
    #expect(report.generated == golden.generate(prompt: prompt, tokens: 4), "seed \(seed), lanes \(lanes)")
    #expect(report.tokens == 5 && !report.extrapolated)
  }

  @Test("370m-shaped single layer: one layer cycle-accurate, lm_head simulated, the rest extrapolated and labelled")
  func singleLayer370m() throws {
    let (sim, profile) = try AcceleratorModels.simulation(.m370, seed: 5, layers: 1)
    let report = try AcceleratorRunner.run(sim, prompt: [17], tokens: 1, seed: 5, device: profile, clockMHz: profile.defaultClockMHz)
    #expect(report.firstMismatch == nil, "\(report.firstMismatch.map(\.description) ?? "")")
    #expect(report.extrapolated && report.layersSimulated == 1 && report.layers == 24)
    #expect(report.cycles.total > report.measuredCycles.total)
    // The weights the token needs at 2 bits each, plus per layer nine D-vectors
    // (gammas, lower bound) and the down projection's I-gamma, plus the
    // embedding row, the final norm's and lm_head's gammas: the memory moved
    // (or, for the extrapolated layers, counted) every byte, nothing more.
    let c = ModelConfig.m370
    let expected = c.packedTernaryBytes + 4 * (c.layers * (9 * c.hiddenSize + c.intermediateSize) + 3 * c.hiddenSize)
    #expect(report.bytes == expected)
    // Memory stalls happen here (the core outruns DDR4); the RTL counters see the same ones.
    #expect(report.counters.weightStallCycles > 0)
    #expect(report.counters.rtlWeightStallCycles == report.counters.weightStallCycles)
    #expect(report.counters.rtlCoreBeats == report.counters.coreBeats)
  }

  @Test("report numbers are consistent: tokens/s from cycles, roofline from bytes, breakdown sums to the total")
  func reportConsistency() throws {
    let (sim, profile) = try AcceleratorModels.simulation(.tiny, seed: 9)
    let report = try AcceleratorRunner.run(sim, prompt: [5], tokens: 3, seed: 9, device: profile, clockMHz: 250)
    #expect(report.cycles.matrix + report.cycles.elementwise + report.cycles.stalls == report.cycles.total)
    #expect(report.cycles == report.measuredCycles)
    #expect(abs(report.tokensPerSecond - 250e6 / report.cyclesPerToken) < 1e-6 * report.tokensPerSecond)
    #expect(abs(report.rooflineTokensPerSecond - profile.memory.usableGBps * 1e9 / report.bytesPerToken) < 1e-6 * report.rooflineTokensPerSecond)
    #expect(abs(report.rooflineFraction - report.tokensPerSecond / report.rooflineTokensPerSecond) < 1e-12)
    #expect(report.counters.weightBytes + report.counters.vectorBytes == report.bytes)
    #expect(report.counters.coreBeats * AcceleratorConfig().weightBeatBytes == report.counters.weightBytes)
    #expect(report.counters.weightStallCycles + report.counters.vectorWaitCycles == report.cycles.stalls)
    // The RTL's own performance counters agree with the harness's counts.
    #expect(report.counters.rtlCoreBeats == report.counters.coreBeats)
    #expect(report.counters.rtlWeightStallCycles == report.counters.weightStallCycles)
    // Deterministic JSON.
    let json = try report.json()
    let decoded = try JSONDecoder().decode(SimulationReport.self, from: json)
    #expect(try decoded.json() == json)
  }

  @Test("the memory model streams at its usable bandwidth after its latency")
  func memoryBandwidth() throws {
    let profile = try DeviceProfile.named("d5005")
    let config = AcceleratorConfig(lanes: 16, weightFIFOBeats: 1 << 20)
    let memory = OffChipMemory(profile: profile, clockMHz: 300, config: config)
    let matrix = PackedTernary.random(rows: 256, cols: 1024, beta: 0.02, rng: SeededRandom(seed: 1))
    memory.startStream([matrix])
    let beats = memory.beats(of: matrix)
    var words = [UInt64](repeating: 0, count: 32)
    var taken = 0
    while taken < beats {
      memory.tick()
      while memory.weightBeatAvailable {
        _ = words.withUnsafeMutableBufferPointer { memory.popWeightBeat(into: $0.baseAddress!) }
        taken += 1
      }
    }
    let ideal = Double(beats * config.weightBeatBytes) / memory.bytesPerCycle + Double(memory.latencyCycles)
    #expect(abs(Double(memory.cycles) - ideal) <= 2, "\(memory.cycles) cycles, ideal \(ideal)")
  }

  @Test("vector unit: saturating adds and argmax with ties and padding lanes, against Fixed.add and argmax")
  func vectorUnit() throws {
    let unit = try VectorUnitSimulation(lanes: 16)
    var rng = SeededRandom(seed: 4)
    for n in [1, 15, 16, 17, 100] {
      let corners: [Int32] = [.max, .min, -1, 0, 1]
      let a = (0..<n).map { i in i < 5 ? corners[i] : Int32(truncatingIfNeeded: rng.next()) }
      let b = (0..<n).map { i in i < 5 ? corners[4 - i] : Int32(truncatingIfNeeded: rng.next()) }
      let sum = try unit.run(argmax: false, a, b)
      #expect(sum.values == (0..<n).map { Fixed.add(a[$0], b[$0]) }, "n \(n)")
      var logits = (0..<n).map { _ in Int32(truncatingIfNeeded: rng.next() % 7) }
      if n > 3 { logits[n - 1] = logits.max()! }  // a tie: the lower index wins
      let am = try unit.run(argmax: true, logits)
      #expect(am.index == FixedPointModel.argmax(logits) && am.max == logits.max()!, "n \(n)")
    }
  }

  @Test("vector unit RTL: verilator -Wall clean and iverilog silent", arguments: [16, 3, 1])
  func vectorUnitGates(lanes: Int) throws {
    let (design, files) = try VectorUnitGenerator.files(lanes: lanes)
    let gate = RTLGates.Files(top: design.top.name, sources: files)
    #expect(try RTLGates.verilatorLint(gate) == [], "lanes \(lanes)")
    #expect(try RTLGates.iverilogCompile(gate).filter { !$0.contains("sorry:") } == [], "lanes \(lanes)")
  }

  @Test("mat-vec datapath RTL (core wired into rescale): verilator -Wall clean and iverilog silent", arguments: [16, 3])
  func matVecDatapathGates(lanes: Int) throws {
    let (design, files) = try MatVecDatapathGenerator.files(AcceleratorConfig(lanes: lanes))
    let gate = RTLGates.Files(top: design.top.name, sources: files)
    #expect(try RTLGates.verilatorLint(gate) == [], "lanes \(lanes)")
    #expect(try RTLGates.iverilogCompile(gate).filter { !$0.contains("sorry:") } == [], "lanes \(lanes)")
  }
}
