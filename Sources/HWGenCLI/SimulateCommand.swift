import ArgumentParser
import Foundation
import HWGenerators
import HWGolden
import HWReport
import HWSim
import HWTools
import HWSpec
import HWSupport
import HWVerilator

struct Simulate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a prompt and greedy generation of a model through the accelerator's RTL in Verilator, check every token against the golden model, and report tokens/s against the memory roofline.",
    discussion: """
      Without --model or --weights it runs the shipped checkpoint models/kjv-2m (a trained HGRN-Bit model) \
      on the prompt "\(Simulate.defaultText)" and prints the continuation the RTL generated.
      """)

  /// The prompt of the shipped checkpoint when none is given.
  static let defaultText = "And the LORD said unto Moses,"
  /// With several streams, stream s starts from text s (round the list).
  static let defaultTexts = [
    defaultText, "In the beginning God created", "Blessed are the", "And it came to pass, when",
    "The LORD is my shepherd;", "Then answered Jesus and said", "Hear, O Israel:", "And God said, Let there be",
  ]

  @Option(help: "Model preset with synthetic weights: tiny, 370m, 1.3b, 2.7b (default: the shipped checkpoint models/kjv-2m).") var model: String?
  @Option(help: "Imported model directory (hwgen import) or a Hugging Face checkpoint directory; wins over --model, which must then match its shape.") var weights: String?
  @Option(help: "Tokens to generate (greedy, each argmax fed back; default 24 for a model with a tokenizer, else 4).") var tokens: Int?
  @Option(help: "Prompt token ids, comma-separated; with --streams, one prompt per stream separated by ';' (default 1, or the default text for the shipped checkpoint; several streams: built-in texts or seeded ids).") var prompt: String?
  @Option(help: "Prompt text, tokenized with the model's tokenizer.json; the generated tokens are printed as text too. Repeat it once per stream with --streams.") var text: [String] = []
  @Option(help: "Write the RTL's logits of every position (one row per token fed, prompt included; float32 NumPy .npy) to this file.") var logits: String?
  @Option(help: "Compare the logits with a reference's (NumPy .npy, one row per token fed): relative L2, top-1 agreement, the first divergence of the greedy text.") var reference: String?
  @Option(help: "Core lanes (output rows per cycle) and element lanes of the other units.") var lanes: Int = AcceleratorConfig.defaultLanes
  @Option(help: "Device profile for the off-chip memory model: d5005, u280, ...") var device: String = "d5005"
  @Option(name: .customLong("clock-mhz"), help: "Clock in MHz (default: the device profile's).") var clockMHz: Double?
  @Option(name: .customLong("weight-fifo-kib"), help: "On-chip weight FIFO in KiB (block RAM between off-chip memory and the core).")
  var weightFIFOKiB: Int = AcceleratorConfig.defaultWeightFIFOBytes / 1024
  @Option(help: "How weights lie in memory: planes (2 bits a weight) or base3 (five a byte, 1.6 bits, unpacked on chip).")
  var packing: WeightPacking = .planes
  @Option(help: "Independent sequences run side by side, each with its own prompt, sharing every weight beat (1-\(AcceleratorConfig.maxStreams)).")
  var streams: Int = 1
  @Option(help: "Seed of the synthetic weights (and of the prompts of several streams when none are given).") var seed: UInt64 = 1
  @Option(help: "Simulate only the first K layers cycle-accurately; the rest is extrapolated from them.") var layers: Int?
  @Option(help: "Write the report as JSON to this file.") var json: String?
  @Option(help: "Write a per-token trace (one line per token: input, argmax, cycles by kind, bytes) to this file.") var trace: String?
  @Flag(inversion: .prefixedNo, help: "Estimate watts and joules per token (synthesizes mmfree_accel with Yosys for its resources; cached, minutes the first time).")
  var power = true
  @Option(name: .customLong("report"), help: "Write report.md and energy.svg (where the energy goes) into this directory (needs --power).")
  var reportDirectory: String?

  func validate() throws {
    guard (1...256).contains(lanes) else { throw ValidationError("lanes must be between 1 and 256, got \(lanes)") }
    if let tokens, !(1...100_000).contains(tokens) { throw ValidationError("tokens must be between 1 and 100000, got \(tokens)") }
    if let layers, layers < 1 { throw ValidationError("layers must be at least 1, got \(layers)") }
    guard (1...65536).contains(weightFIFOKiB) else { throw ValidationError("weight FIFO must be between 1 and 65536 KiB, got \(weightFIFOKiB)") }
    if let clockMHz, !(clockMHz > 0 && clockMHz <= 2000) { throw ValidationError("clock must be between 0 and 2000 MHz, got \(clockMHz)") }
    guard (1...AcceleratorConfig.maxStreams).contains(streams) else {
      throw ValidationError("streams must be between 1 and \(AcceleratorConfig.maxStreams), got \(streams)")
    }
    if !text.isEmpty && prompt != nil { throw ValidationError("--text and --prompt are mutually exclusive") }
    if !text.isEmpty && text.count != streams {
      throw ValidationError("give one --text per stream: \(text.count) for \(streams) stream(s)")
    }
    if streams > 1 && (logits != nil || reference != nil) {
      throw ValidationError("--logits and --reference take one stream; drop --streams")
    }
    if !text.isEmpty && weights == nil && model != nil {
      throw ValidationError("--text needs a model with tokenizer.json (the default checkpoint or --weights DIR); the --model presets have none")
    }
    if reportDirectory != nil && !power { throw ValidationError("--report needs the power estimate; drop --no-power") }
    if let json { try Regress.checkWritable(file: json, option: "json") }
    if let trace { try Regress.checkWritable(file: trace, option: "trace") }
    if let logits { try Regress.checkWritable(file: logits, option: "logits") }
  }

  func run() throws {
    if power { _ = try ExternalTool.yosys.locate() }
    _ = try ExternalTool.verilator.locate()
    let setup = Stopwatch()
    let source = try ModelSource.resolve(
      model: model, weights: weights, seed: seed, defaultCheckpoint: ModelSource.shippedDefault)
    let shippedDefault = model == nil && weights == nil
    let texts = !text.isEmpty
      ? text
      : shippedDefault && prompt == nil ? (0..<streams).map { Self.defaultTexts[$0 % Self.defaultTexts.count] } : []
    let tokens = self.tokens ?? (source.tokenizer == nil ? 4 : 24)
    let referenceLogits = try reference.map { path -> NumPyArray in
      do { return try NumPyArray(contentsOf: URL(fileURLWithPath: path)) } catch { throw SimulateError("\(error)") }
    }
    let modelConfig = source.weights.config
    let profile = try DeviceProfile.named(device)
    let clock = clockMHz ?? profile.defaultClockMHz
    var tokenizer: Tokenizer?
    var prompts: [[Int]]
    if !texts.isEmpty {
      guard let t = source.tokenizer else { throw SimulateError("--text needs a model with tokenizer.json; \(weights ?? "") has none") }
      tokenizer = t
      prompts = texts.map(t.encode)
      if let bad = prompts.joined().first(where: { !(0..<modelConfig.vocabSize).contains($0) }) {
        throw SimulateError("the tokenizer gives id \(bad) for --text, outside the model's vocab 0..<\(modelConfig.vocabSize)")
      }
    } else if let prompt {
      prompts = try prompt.split(separator: ";", omittingEmptySubsequences: false).map { one in
        try one.split(separator: ",").map { part -> Int in
          guard let id = Int(part.trimmingCharacters(in: .whitespaces)), (0..<modelConfig.vocabSize).contains(id) else {
            throw SimulateError("prompt ids must be integers in 0..<\(modelConfig.vocabSize), got '\(part)'")
          }
          return id
        }
      }
      guard prompts.count == streams else {
        throw SimulateError("--prompt gives \(prompts.count) prompt(s) for \(streams) stream(s); separate one per stream with ';'")
      }
    } else if streams == 1 {
      prompts = [[1]]
    } else {
      // Each stream its own seeded prompt of 1 to 3 ids.
      prompts = (0..<streams).map { s in
        var random = SeededRandom(seed: seed &+ UInt64(s))
        return (0...(s % 3)).map { _ in Int(random.next() % UInt64(modelConfig.vocabSize)) }
      }
    }
    guard prompts.allSatisfy({ !$0.isEmpty }) else { throw SimulateError("each prompt needs at least one token id") }
    let promptIDs = prompts[0]
    if let layers, layers > modelConfig.layers {
      throw SimulateError("model \(modelConfig.name) has \(modelConfig.layers) layers, --layers \(layers) is more")
    }
    let config = AcceleratorConfig(lanes: lanes, weightFIFOKiB: weightFIFOKiB, weightPacking: packing, streams: streams)
    do {
      try AcceleratorGenerator.validate(config)
      try config.validate(for: modelConfig)
    } catch { throw SimulateError("\(error)") }

    print("hwgen simulate: model \(modelConfig.name) (\(modelConfig)), device \(profile.name) at \(Format.significant(clock, 4)) MHz")
    print("accelerator: \(config)")
    try ClockLine.report(config: config, profile: profile, clockMHz: clock, fromProfile: clockMHz == nil)
    let weights = source.weights
    print("weights: \(source.description), \(Format.si(Double(modelConfig.packedTernaryBytes), "B")) packed ternary (\(Format.seconds(setup.seconds)))")
    if let referenceLogits {
      let positions = promptIDs.count + tokens - 1
      guard referenceLogits.rows == positions, referenceLogits.columns == modelConfig.vocabSize else {
        throw SimulateError("--reference \(reference!): shape (\(referenceLogits.rows), \(referenceLogits.columns)); this run computes \(positions) positions (one row per token fed, prompt included) of \(modelConfig.vocabSize) logits")
      }
    }
    for (s, ids) in prompts.enumerated() where !texts.isEmpty || streams > 1 {
      let what = texts.isEmpty ? "" : "\(texts[s].debugDescription) "
      let tag = streams > 1 ? "stream \(s) " : ""
      print("\(tag)prompt: \(what)(\(ids.count) tokens: \(ids.map(String.init).joined(separator: " "))), \(tokens) token\(tokens == 1 ? "" : "s") to generate")
    }
    let build = Stopwatch()
    let sim = try ProgressTicker.around("verilator: building mmfree_accel (cached afterwards)") {
      try AcceleratorSimulation(weights: weights, config: config, profile: profile, clockMHz: clock, layers: layers)
    }
    print("verilator: mmfree_accel ready in \(Format.seconds(build.seconds)); program: \(sim.program.instructions.count) instructions, scratchpad \(sim.program.scratchpadBeats) of \(config.scratchpadBeats) beats, parameter buffer \(sim.program.parameterBeats) of \(config.parameterBeats)")
    let memory = sim.memory
    print("memory: \(profile.memory.type), \(profile.memory.channels) channels of \(memory.dram.name) timing, \(Format.significant(profile.memory.usableGBps, 4)) GB/s usable = \(Format.significant(memory.bytesPerCycle, 4)) B/cycle, closed-row latency \(memory.latencyCycles) cycles")
    if sim.layersSimulated < modelConfig.layers {
      print("NOTE: only layers 0..<\(sim.layersSimulated) of \(modelConfig.layers) run cycle-accurately (then the final norm, lm_head and argmax: a \(sim.layersSimulated)-layer network, checked against the golden model cut the same way); cycles and bytes of the other \(modelConfig.layers - sim.layersSimulated) layers are EXTRAPOLATED from the simulated ones")
    }
    let terminal = isatty(STDOUT_FILENO) != 0
    var traceLines: [String] = []
    let wall = Stopwatch()
    var report = try AcceleratorRunner.run(
      sim, prompts: prompts, tokens: tokens, seed: seed, device: profile, clockMHz: clock
    ) { done, total, run in
      let rate = Double(run.measured.total) / max(run.simulationSeconds, 1e-9)
      let line = "token \(done)/\(total): in \(run.input) -> \(run.next), \(run.measured.total) cycles simulated, \(Format.si(rate, "cycles/s")) simulated\(run.mismatch == nil ? "" : ", MISMATCH")"
      if terminal {
        let elapsed = ", \(Int(wall.seconds)) s elapsed"
        FileHandle.standardOutput.write(Data(("\r\u{1B}[K" + line + (done == total ? "\n" : elapsed)).utf8))
      } else if total <= 8 || done == 1 || done == total || done % ((total + 3) / 4) == 0 {
        print(line)  // a log gets a few lines; --trace has every token
      }
      let tokens = streams == 1
        ? "input \(run.input) argmax \(run.next) golden \(run.goldenNext)"
        : "inputs \(run.inputs.map(String.init).joined(separator: ",")) argmax \(run.nexts.map(String.init).joined(separator: ",")) golden \(run.goldenNexts.map(String.init).joined(separator: ","))"
      traceLines.append(
        "token \(done - 1) \(tokens) matrix \(run.measured.matrix) elementwise \(run.measured.elementwise) stalls \(run.measured.stalls) control \(run.measured.control) bytes \(run.bytes) weight_stall \(run.activity[.weightStallCycles]) load_wait \(run.activity[.loadWaitCycles])")
    }
    let seconds = wall.seconds
    print("program load (CTRL.LOAD before the first token, not in its cycles): \(sim.program.instructions.count) instructions read by the accelerator's vector DMA in \(sim.programLoadCycles) cycles")
    let decode = tokenizer.map { t in { (ids: [Int]) in t.decode(ids, after: promptIDs) } }
    if let tokenizer {
      let generated = streams == 1 ? [report.generated] : report.streamTokens.map(\.generated)
      for (s, ids) in generated.enumerated() {
        let continuation = tokenizer.decode(ids, after: prompts[s])
        print("\(streams > 1 ? "stream \(s) " : "")text: \(texts[s].debugDescription) -> \(continuation.debugDescription)")
      }
    }
    let logitsArray = NumPyArray(logits: report.logits)
    if let referenceLogits {
      let ours = (0..<logitsArray.rows).map { Array(logitsArray.row($0)) }
      let rows = (0..<referenceLogits.rows).map { Array(referenceLogits.row($0)) }
      do {
        report.reference = try LogitComparison(ours: ours, reference: rows, promptLength: promptIDs.count, source: reference!)
      } catch { throw SimulateError("\(error)") }
    }
    if let logits {
      try logitsArray.write(to: URL(fileURLWithPath: logits))
    }
    var resourcesLine: String?
    if power {
      (report.power, _, resourcesLine) = try AcceleratorPower.estimate(report, sim: sim, profile: profile, clockMHz: clock)
    }
    if let trace {
      try FileOutput.writeAtomically(Data((traceLines.joined(separator: "\n") + "\n").utf8), to: URL(fileURLWithPath: trace))
    }
    if let json {
      try FileOutput.writeAtomically(report.json(), to: URL(fileURLWithPath: json))
    }
    print(Self.describe(report, wall: seconds))
    if let comparison = report.reference {
      for line in comparison.lines(text: decode) { print(line) }
    }
    if let logits { print("logits: \(logits) (\(report.logits.count) x \(modelConfig.vocabSize) float32)") }
    if let estimate = report.power {
      if let resourcesLine { print(resourcesLine) }
      for line in PowerReport.lines(estimate) { print(line) }
      if let reportDirectory {
        let title = "hwgen simulate: \(modelConfig.name) on \(profile.name), lanes \(lanes)"
        try FileOutput.writeAtomically(
          [("report.md", PowerReport.markdown(estimate, title: title, chart: "energy.svg") + "\n" + Self.markdownSummary(report, text: decode)),
           ("energy.svg", PowerReport.svg(estimate))],
          into: URL(fileURLWithPath: reportDirectory))
        print("report: \(reportDirectory)/report.md, \(reportDirectory)/energy.svg")
      }
    }
    if let m = report.firstMismatch {
      throw SimulateError("\(report.mismatches) of \(report.tokens) tokens differ from the golden model; first: \(m)")
    }
  }

  /// The performance half of `report.md`.
  static func markdownSummary(_ r: SimulationReport, text: (([Int]) -> String)? = nil) -> String {
    var lines = ["## Performance (measured in the cycle-accurate simulation)", ""]
    for line in describe(r, wall: 0).split(separator: "\n") where !line.hasPrefix("wall:") { lines.append("- \(line)") }
    if let comparison = r.reference {
      lines += ["", "## Against the reference logits", ""]
      for line in comparison.lines(text: text) { lines.append(line.hasPrefix("  ") ? "  - " + line.dropFirst(2) : "- " + line) }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  static func describe(_ r: SimulationReport, wall: Double) -> String {
    var lines: [String] = []
    if r.streams == 1 {
      lines.append("tokens: \(r.tokens) run (prompt \(r.prompt.count)), generated \(r.generated.map(String.init).joined(separator: " "))")
    } else {
      lines.append("tokens: \(r.tokens) run, \(r.steps) steps of \(r.streams) streams sharing every weight beat")
      for (s, t) in r.streamTokens.enumerated() {
        lines.append("  stream \(s): prompt \(t.prompt.count), generated \(t.generated.map(String.init).joined(separator: " "))")
      }
    }
    lines.append("check: \(r.mismatches == 0 ? "all" : "NOT all") \(r.elementsCompared) compared elements (per-layer outputs, final norm, logits, argmax) \(r.mismatches == 0 ? "equal the golden model, bit for bit" : "equal: \(r.mismatches) tokens differ")")
    let bound = r.extrapolationBound.map { "±\(Format.percent($0))" } ?? ""
    let tag = r.extrapolated
      ? " (\(r.layersSimulated) of \(r.layers) layers simulated, rest extrapolated: \(bound) of a full simulation in the validation runs, never above the memory roofline; basis: \(r.extrapolationBasis ?? "none"))"
      : " (measured)"
    if r.streams == 1 {
      lines.append("cycles per token: \(Format.significant(r.cyclesPerToken, 6))\(tag)")
      lines.append("tokens/s at \(Format.significant(r.clockMHz, 4)) MHz: \(Format.significant(r.tokensPerSecond, 4))")
      lines.append("memory traffic per token: \(Format.si(r.bytesPerToken, "B"))")
    } else {
      lines.append("cycles per step (a token of every stream): \(Format.significant(r.cyclesPerStep, 6))\(tag)")
      lines.append(
        "tokens/s at \(Format.significant(r.clockMHz, 4)) MHz: \(Format.significant(r.tokensPerSecond, 4)) aggregate over \(r.streams) streams, \(Format.significant(r.streamTokensPerSecond, 4)) per stream")
      lines.append("memory traffic per token: \(Format.si(r.bytesPerToken, "B")) (\(Format.si(r.bytesPerToken * Double(r.streams), "B")) a step, shared by the streams)")
    }
    let rooflineOf = r.streams == 1 ? "" : " for \(r.streams) streams"
    lines.append("roofline\(rooflineOf) (\(Format.significant(r.usableGBps, 4)) GB/s usable / bytes per token): \(Format.significant(r.rooflineTokensPerSecond, 4)) tokens/s; achieved \(Format.percent(r.rooflineFraction)) of it\(r.extrapolated ? " (extrapolated, \(bound))" : "")")
    let total = Double(max(1, r.cycles.total))
    lines.append(
      "breakdown: matrix \(Format.percent(Double(r.cycles.matrix) / total)), element-wise \(Format.percent(Double(r.cycles.elementwise) / total)), memory stalls \(Format.percent(Double(r.cycles.stalls) / total)), sequencer \(Format.percent(Double(r.cycles.control) / total)); element-wise work hidden under mat-vecs: \(r.activity[.hiddenElementwiseCycles]) cycles (simulated part)")
    let a = r.activity
    lines.append(
      "RTL performance counters (simulated part): \(a[.weightBeats]) weight beats, \(a[.weightStallCycles]) weight-stall and \(a[.loadWaitCycles]) load-wait cycles, \(a[.instructions]) instructions, \(a[.normBeats]) norm / \(a[.mlgruBeats]) MLGRU / \(a[.vectorBeats]) vector beats")
    let simulated = Double(r.measuredCycles.total)
    lines.append(
      "wall: \(Format.seconds(wall)) for \(r.tokens) tokens (RTL \(Format.seconds(r.simulationSeconds)), \(Format.si(simulated / max(r.simulationSeconds, 1e-9), "cycles/s")); golden model \(Format.seconds(r.goldenSeconds)))")
    return lines.joined(separator: "\n")
  }
}

/// A run-time failure of `hwgen simulate`: one `Error:` line, non-zero exit, no usage text.
struct SimulateError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
