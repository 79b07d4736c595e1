import ArgumentParser
import Foundation
import HWGenerators
import HWGolden
import HWReport
import HWSim
import HWSpec
import HWSupport
import HWVerilator

/// Tokens/s of the whole accelerator against its memory roofline, per device,
/// lanes and weight-FIFO size, measured in one run: the performance targets
/// of the token-level simulation.
struct BenchAccelerator: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "accel",
    abstract: "Cycles, tokens/s, bytes/token and achieved/roofline of mmfree_accel per device, lanes, weight packing and weight FIFO, with the simulation's wall time.",
    discussion: """
      Every run is checked against the golden model. The weights and vectors come through the \
      RTL's own AXI4 DMA ports. The defaults measure the targets: 1.3b on the d5005 with 16 lanes \
      (>= 97% of the memory roofline), base-3 weights on the d5005 with 32 lanes (>= 95% of the \
      1.6-bit roofline), four streams of base-3 weights on the u250 (>= 1,000 tokens/s aggregate on \
      DDR4), and on the u280 the lanes and weight FIFO that reach the HBM roofline (>= 95%).
      """)

  @Option(help: "Model preset.") var model: String = "1.3b"
  @Option(help: "Runs as DEVICE:LANES:FIFO_KIB[:PACKING][:sSTREAMS] (PACKING planes, the default, or base3; STREAMS sequences side by side, default 1), comma-separated.")
  var runs: String = "d5005:16:256,d5005:32:256:base3,u250:32:1024:base3:s4,u280:32:256,u280:64:256,u280:128:256,u280:128:1024,u280:256:1024"
  @Option(help: "Tokens per run (after a one-token prompt).") var tokens: Int = 1
  @Option(help: "Simulate only the first K layers (the rest extrapolated).") var layers: Int?
  @Option(help: "Seed of the synthetic weights.") var seed: UInt64 = 1
  @Option(help: "Weights (millions) the bare ternary_core streams for the simulation-speed comparison; 0 skips it.")
  var coreMweights: Int = 64

  struct Run {
    var device: DeviceProfile
    var lanes: Int
    var fifoKiB: Int
    var packing: WeightPacking
    var streams: Int

    var config: AcceleratorConfig {
      AcceleratorConfig(lanes: lanes, weightFIFOKiB: fifoKiB, weightPacking: packing, streams: streams)
    }
  }

  func parsedRuns() throws -> [Run] {
    try runs.split(separator: ",").map { item in
      let parts = item.split(separator: ":").map(String.init)
      let form = "DEVICE:LANES:FIFO_KIB[:PACKING][:sSTREAMS], e.g. u280:128:1024, d5005:32:256:base3 or u250:32:1024:base3:s4"
      guard (3...5).contains(parts.count), let lanes = Int(parts[1]), let fifo = Int(parts[2]), (1...65536).contains(fifo) else {
        throw ValidationError("run '\(item)' is not \(form)")
      }
      let (packing, streams): (WeightPacking, Int)
      do { (packing, streams) = try AcceleratorConfig.variant(parts.dropFirst(3)) } catch {
        throw ValidationError("run '\(item)': \(error); \(form)")
      }
      let device: DeviceProfile
      do { device = try DeviceProfile.named(parts[0]) } catch { throw ValidationError("\(error)") }
      let run = Run(device: device, lanes: lanes, fifoKiB: fifo, packing: packing, streams: streams)
      do { try AcceleratorGenerator.validate(run.config) } catch { throw ValidationError("run '\(item)': \(error)") }
      return run
    }
  }

  func validate() throws {
    _ = try parsedRuns()
    guard (1...1000).contains(tokens) else { throw ValidationError("tokens must be between 1 and 1000, got \(tokens)") }
    if let layers, layers < 1 { throw ValidationError("layers must be at least 1, got \(layers)") }
    guard (0...100_000).contains(coreMweights) else {
      throw ValidationError("core-mweights must be between 0 and 100000, got \(coreMweights)")
    }
  }

  func run() throws {
    let preset = try ModelConfig.preset(named: model)
    if let layers, layers > preset.layers { throw SimulateError("\(preset.name) has \(preset.layers) layers, --layers \(layers) is more") }
    let weights = ModelWeights.synthetic(preset, seed: seed)
    print("hwgen bench accel: \(preset), synthetic weights seed \(seed), \(tokens) token(s) after a one-token prompt (stream s: token 1 + s)"
      + (layers.map {
        ", layers 0..<\($0) simulated, the rest extrapolated (cycles within ±\(Format.percent(LayerExtrapolation.errorBound(layersSimulated: $0))) of a full simulation in the validation runs, never above the roofline)"
      } ?? ", every layer simulated"))
    var rows: [[String]] = []
    // Simulated weights per second of RTL simulation wall time, with the bare core's weights per
    // second in runs just before and just after it.
    var simulationSpeed: [(lanes: Int, config: TernaryCoreConfig, weightsPerSecond: Double, core: [Double])] = []
    let workload = coreMweights > 0 ? BenchCore.workload(mweights: coreMweights, seed: seed) : nil
    var cores: [TernaryCoreConfig: TernaryCoreSimulation] = [:]
    // Three timed runs of the bare core with `config`'s lanes and width, as weights per second.
    func coreSpeeds(_ config: TernaryCoreConfig) throws -> [Double] {
      guard let workload else { return [] }
      if cores[config] == nil { cores[config] = try TernaryCoreSimulation(config: config) }
      let timed = try BenchCore.runs(cores[config]!, workload.jobs, config: config, seed: seed, count: 3)
      return timed.walls.map { Double(timed.weights) / max($0, 1e-9) }
    }
    for r in try parsedRuns() {
      let config = r.config
      let coreBefore = try coreSpeeds(config.core)
      let clock = r.device.defaultClockMHz
      try ClockLine.report(config: config, profile: r.device, clockMHz: clock, fromProfile: true)
      let build = Stopwatch()
      let sim = try AcceleratorSimulation(weights: weights, config: config, profile: r.device, clockMHz: clock, layers: layers)
      let buildSeconds = build.seconds
      let wall = Stopwatch()
      let prompts = (0..<r.streams).map { [1 + $0] }
      let report = try AcceleratorRunner.run(
        sim, prompts: prompts, tokens: tokens, seed: seed, device: r.device, clockMHz: clock)
      let seconds = wall.seconds
      let coreAfter = try coreSpeeds(config.core)
      if let m = report.firstMismatch { throw SimulateError("\(r.device.name) lanes \(r.lanes): \(m)") }
      let c = report.cycles, total = Double(max(1, c.total))
      let weights = Double(report.activity[.weightBeats] * config.lanes * config.core.laneWidth)
      let weightsPerSecond = weights / max(report.simulationSeconds, 1e-9)
      simulationSpeed.append((r.lanes, config.core, weightsPerSecond, coreBefore + coreAfter))
      rows.append([
        r.device.name, "\(r.lanes)", "\(r.packing)", "\(r.streams)", "\(r.fifoKiB)", Format.si(report.bytesPerToken, "B"),
        "\(Int(report.cyclesPerToken.rounded()))",
        Format.significant(report.tokensPerSecond, 4), Format.significant(report.rooflineTokensPerSecond, 4),
        Format.percent(report.rooflineFraction), Format.percent(Double(c.stalls) / total),
        Format.percent(Double(c.elementwise) / total), Format.seconds(seconds / Double(report.tokens)),
        Format.si(Double(report.measuredCycles.total) / max(report.simulationSeconds, 1e-9), "cyc/s"),
        Format.significant(weightsPerSecond / 1e9, 3), Format.seconds(buildSeconds),
      ])
      let streams = r.streams == 1 ? "" : " \(r.streams) streams"
      print("\(r.device.name) lanes \(r.lanes) \(r.packing)\(streams) FIFO \(r.fifoKiB) KiB: \(Format.percent(report.rooflineFraction)) of the roofline")
    }
    print("")
    print(Format.table(
      ["device", "lanes", "weights", "streams", "FIFO KiB", "bytes/token", "cycles/token", "tokens/s", "roofline", "achieved", "stalls", "element-wise",
               "wall/token", "simulated", "sim G w/s", "build"],
      rows))
    print("With several streams bytes/token, cycles/token, tokens/s and the roofline count every stream's tokens")
    print("(aggregate); the streams share each weight beat.")
    print("wall/token: simulation and golden model together, this machine; simulated: cycles per second of RTL")
    print("simulation (golden model excluded); sim G w/s: weights the core took per second of it; build: Verilator")
    print("(cached after the first run)")
    guard let workload else { return }
    // The same lanes and lane width as a bare ternary_core, measured around each run on this
    // machine: its speed drifts by tens of percent over minutes here, so one measurement after
    // all runs would compare different moments.
    print("")
    print("simulation speed against the bare ternary_core (hwgen bench core's default build, \(workload.summary);")
    print("three runs just before and three just after each mmfree_accel run, median and range), measured in this run:")
    var speedRows: [[String]] = []
    for run in simulationSpeed {
      let sorted = run.core.sorted()
      let core = (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
      speedRows.append([
        "\(run.lanes) x \(run.config.laneWidth)", Format.significant(run.weightsPerSecond / 1e9, 3),
        Format.significant(core / 1e9, 3),
        Format.significant(sorted.first! / 1e9, 3) + "-" + Format.significant(sorted.last! / 1e9, 3),
        Format.percent(run.weightsPerSecond / core),
      ])
    }
    print(Format.table(["lanes", "mmfree_accel G w/s", "ternary_core G w/s", "core range", "ratio"], speedRows))
  }
}
