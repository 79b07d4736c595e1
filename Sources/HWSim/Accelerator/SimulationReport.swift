import Foundation
import HWGolden
import HWReport
import HWSpec

/// What `hwgen simulate` reports: measured cycles, derived rates, the memory
/// roofline for the same run, and the check against the golden model.
public struct SimulationReport: Codable, Sendable {
  public var model: String
  public var device: String
  public var lanes: Int
  public var clockMHz: Double
  public var seed: UInt64
  public var layersSimulated: Int
  public var layers: Int
  /// True when layers past `layersSimulated` were not simulated and their
  /// cycles and bytes are extrapolated from the simulated ones.
  public var extrapolated: Bool
  /// With extrapolation: how the left-out layers were charged, and the largest relative error of the cycles
  /// against a simulation of every layer that the validation runs found (`LayerExtrapolation.errorBound`).
  public var extrapolationBasis: String?
  public var extrapolationBound: Double?
  /// Independent sequences the accelerator ran side by side.
  public var streams: Int = 1
  public var prompt: [Int]
  /// Every token fed to the accelerator, and every argmax it produced (stream 0's).
  public var inputs: [Int]
  public var outputs: [Int]
  public var generated: [Int]
  /// With several streams, each stream's prompt, inputs, outputs and generated tokens.
  public var streamTokens: [StreamTokens] = []
  public var elementsCompared: Int
  public var mismatches: Int
  public var firstMismatch: TokenMismatch?
  /// Cycles of all tokens (simulated part only), and with extrapolation.
  public var measuredCycles: CycleBreakdown
  public var cycles: CycleBreakdown
  public var activity: AcceleratorActivity
  public var bytes: Int
  public var usableGBps: Double
  public var simulationSeconds: Double
  public var goldenSeconds: Double
  /// Estimated power and energy (nil when not asked for).
  public var power: PowerEstimate?
  /// The logits against an external reference (`simulate --reference`).
  public var reference: LogitComparison?
  /// The RTL's logits of every position (Q15.16), one row per token fed;
  /// not part of the JSON (`simulate --logits` writes them as .npy).
  public var logits: [[Int32]] = []

  /// Token steps: every stream advanced one token in each.
  public var steps: Int { inputs.count }
  /// Tokens through the accelerator over every stream; the rates below are per
  /// token of any stream (aggregate tokens/s, bytes and the roofline of S streams).
  public var tokens: Int { steps * streams }
  /// Cycles of one step: the time between two tokens of one stream.
  public var cyclesPerStep: Double { Double(cycles.total) / Double(max(1, steps)) }
  public var streamTokensPerSecond: Double { clockMHz * 1e6 / cyclesPerStep }
  public var cyclesPerToken: Double { Double(cycles.total) / Double(max(1, tokens)) }
  public var measuredCyclesPerToken: Double { Double(measuredCycles.total) / Double(max(1, tokens)) }
  public var tokensPerSecond: Double { clockMHz * 1e6 / cyclesPerToken }
  public var bytesPerToken: Double { Double(bytes) / Double(max(1, tokens)) }
  public var rooflineTokensPerSecond: Double { usableGBps * 1e9 / bytesPerToken }
  public var rooflineFraction: Double { tokensPerSecond / rooflineTokensPerSecond }

  enum CodingKeys: String, CodingKey {
    case model, device, lanes, clockMHz, seed, layersSimulated, layers, extrapolated, prompt, inputs, outputs, generated
    case streams, streamTokens, streamTokensPerSecond
    case extrapolationBasis, extrapolationBound
    case elementsCompared, mismatches, firstMismatch, measuredCycles, cycles, activity, bytes, usableGBps
    case simulationSeconds, goldenSeconds, power, reference
    case cyclesPerToken, tokensPerSecond, bytesPerToken, rooflineTokensPerSecond, rooflineFraction
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(model, forKey: .model)
    try c.encode(device, forKey: .device)
    try c.encode(lanes, forKey: .lanes)
    try c.encode(clockMHz, forKey: .clockMHz)
    try c.encode(seed, forKey: .seed)
    try c.encode(layersSimulated, forKey: .layersSimulated)
    try c.encode(layers, forKey: .layers)
    try c.encode(extrapolated, forKey: .extrapolated)
    try c.encodeIfPresent(extrapolationBasis, forKey: .extrapolationBasis)
    try c.encodeIfPresent(extrapolationBound, forKey: .extrapolationBound)
    try c.encode(prompt, forKey: .prompt)
    try c.encode(inputs, forKey: .inputs)
    try c.encode(outputs, forKey: .outputs)
    try c.encode(generated, forKey: .generated)
    if streams > 1 {
      try c.encode(streams, forKey: .streams)
      try c.encode(streamTokens, forKey: .streamTokens)
      try c.encode(streamTokensPerSecond, forKey: .streamTokensPerSecond)
    }
    try c.encode(elementsCompared, forKey: .elementsCompared)
    try c.encode(mismatches, forKey: .mismatches)
    try c.encodeIfPresent(firstMismatch, forKey: .firstMismatch)
    try c.encode(measuredCycles, forKey: .measuredCycles)
    try c.encode(cycles, forKey: .cycles)
    try c.encode(activity, forKey: .activity)
    try c.encode(bytes, forKey: .bytes)
    try c.encode(usableGBps, forKey: .usableGBps)
    try c.encode(simulationSeconds, forKey: .simulationSeconds)
    try c.encode(goldenSeconds, forKey: .goldenSeconds)
    try c.encodeIfPresent(power, forKey: .power)
    try c.encodeIfPresent(reference, forKey: .reference)
    try c.encode(cyclesPerToken, forKey: .cyclesPerToken)
    try c.encode(tokensPerSecond, forKey: .tokensPerSecond)
    try c.encode(bytesPerToken, forKey: .bytesPerToken)
    try c.encode(rooflineTokensPerSecond, forKey: .rooflineTokensPerSecond)
    try c.encode(rooflineFraction, forKey: .rooflineFraction)
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    model = try c.decode(String.self, forKey: .model)
    device = try c.decode(String.self, forKey: .device)
    lanes = try c.decode(Int.self, forKey: .lanes)
    clockMHz = try c.decode(Double.self, forKey: .clockMHz)
    seed = try c.decode(UInt64.self, forKey: .seed)
    layersSimulated = try c.decode(Int.self, forKey: .layersSimulated)
    layers = try c.decode(Int.self, forKey: .layers)
    extrapolated = try c.decode(Bool.self, forKey: .extrapolated)
    extrapolationBasis = try c.decodeIfPresent(String.self, forKey: .extrapolationBasis)
    extrapolationBound = try c.decodeIfPresent(Double.self, forKey: .extrapolationBound)
    prompt = try c.decode([Int].self, forKey: .prompt)
    inputs = try c.decode([Int].self, forKey: .inputs)
    outputs = try c.decode([Int].self, forKey: .outputs)
    generated = try c.decode([Int].self, forKey: .generated)
    streams = try c.decodeIfPresent(Int.self, forKey: .streams) ?? 1
    streamTokens = try c.decodeIfPresent([StreamTokens].self, forKey: .streamTokens) ?? []
    elementsCompared = try c.decode(Int.self, forKey: .elementsCompared)
    mismatches = try c.decode(Int.self, forKey: .mismatches)
    firstMismatch = try c.decodeIfPresent(TokenMismatch.self, forKey: .firstMismatch)
    measuredCycles = try c.decode(CycleBreakdown.self, forKey: .measuredCycles)
    cycles = try c.decode(CycleBreakdown.self, forKey: .cycles)
    activity = try c.decode(AcceleratorActivity.self, forKey: .activity)
    bytes = try c.decode(Int.self, forKey: .bytes)
    usableGBps = try c.decode(Double.self, forKey: .usableGBps)
    simulationSeconds = try c.decode(Double.self, forKey: .simulationSeconds)
    goldenSeconds = try c.decode(Double.self, forKey: .goldenSeconds)
    power = try c.decodeIfPresent(PowerEstimate.self, forKey: .power)
    reference = try c.decodeIfPresent(LogitComparison.self, forKey: .reference)
  }

  public init(model: String, device: String, lanes: Int, clockMHz: Double, seed: UInt64, layersSimulated: Int, layers: Int,
              prompt: [Int], usableGBps: Double) {
    self.model = model
    self.device = device
    self.lanes = lanes
    self.clockMHz = clockMHz
    self.seed = seed
    self.layersSimulated = layersSimulated
    self.layers = layers
    extrapolated = layersSimulated < layers
    if extrapolated { extrapolationBound = LayerExtrapolation.errorBound(layersSimulated: layersSimulated) }
    self.prompt = prompt
    inputs = []
    outputs = []
    generated = []
    elementsCompared = 0
    mismatches = 0
    measuredCycles = CycleBreakdown()
    cycles = CycleBreakdown()
    activity = AcceleratorActivity()
    bytes = 0
    self.usableGBps = usableGBps
    simulationSeconds = 0
    goldenSeconds = 0
  }

  /// Deterministic JSON: sorted keys, fixed formatting. Wall times excluded
  /// unless asked for, so two runs of the same command give the same bytes.
  public func json(includeWallTimes: Bool = false) throws -> Data {
    var copy = self
    if !includeWallTimes {
      copy.simulationSeconds = 0
      copy.goldenSeconds = 0
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
    return try encoder.encode(copy)
  }
}

/// One stream's tokens in a run of several.
public struct StreamTokens: Codable, Sendable, Hashable {
  public var prompt: [Int]
  public var inputs: [Int] = []
  public var outputs: [Int] = []
  public var generated: [Int] = []
}

/// Runs a prompt and greedy generation through an `AcceleratorSimulation`.
public enum AcceleratorRunner {
  /// Feeds `prompt`, then lets the hardware feed every argmax back until
  /// `tokens` tokens are generated. `progress` is called after each token.
  public static func run(
    _ sim: AcceleratorSimulation, prompt: [Int], tokens: Int, seed: UInt64, device: DeviceProfile, clockMHz: Double,
    progress: ((Int, Int, TokenRun) -> Void)? = nil
  ) throws -> SimulationReport {
    try run(sim, prompts: [prompt], tokens: tokens, seed: seed, device: device, clockMHz: clockMHz, progress: progress)
  }

  /// One prompt per stream of `sim` (`AcceleratorSimulation.run(prompts:tokens:)`).
  public static func run(
    _ sim: AcceleratorSimulation, prompts: [[Int]], tokens: Int, seed: UInt64, device: DeviceProfile, clockMHz: Double,
    progress: ((Int, Int, TokenRun) -> Void)? = nil
  ) throws -> SimulationReport {
    precondition(!prompts.isEmpty && !prompts[0].isEmpty && tokens >= 1)
    var report = SimulationReport(
      model: sim.model.name, device: device.name, lanes: sim.config.lanes, clockMHz: clockMHz, seed: seed,
      layersSimulated: sim.layersSimulated, layers: sim.model.layers, prompt: prompts[0], usableGBps: device.memory.usableGBps)
    report.streams = sim.config.streams
    var streamTokens = prompts.map { StreamTokens(prompt: $0) }
    let runs = try sim.run(prompts: prompts, tokens: tokens) { done, total, run in progress?(done, total, run) }
    for (step, run) in runs.enumerated() {
      report.inputs.append(run.input)
      report.outputs.append(run.next)
      if step >= prompts[0].count - 1 { report.generated.append(run.next) }
      for s in streamTokens.indices {
        streamTokens[s].inputs.append(run.inputs[s])
        streamTokens[s].outputs.append(run.nexts[s])
        if step >= prompts[s].count - 1 { streamTokens[s].generated.append(run.nexts[s]) }
      }
      report.elementsCompared += run.compared
      if let m = run.mismatch {
        report.mismatches += 1
        if report.firstMismatch == nil { report.firstMismatch = m }
      }
      report.measuredCycles = report.measuredCycles + run.measured
      report.cycles = report.cycles + run.estimated
      report.activity = report.activity + run.activity
      report.bytes += run.bytes
      if let e = run.extrapolation { report.extrapolationBasis = e.basis.rawValue }
      report.simulationSeconds += run.simulationSeconds
      report.goldenSeconds += run.goldenSeconds
      report.logits.append(run.logits)
    }
    if prompts.count > 1 { report.streamTokens = streamTokens }
    return report
  }
}
