import ArgumentParser
import Foundation
import HWGolden
import HWReport
import HWSpec
import HWSupport

/// Speed of the software models, and the fixed-point model's drift from the
/// float reference (per layer, at the logits, and over the context in windows
/// of positions), on a preset with seeded synthetic weights or an imported
/// model; optionally the fixed-point logits of every position as a .npy.
struct BenchGolden: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "golden",
    abstract: "Tokens/s of the bit-exact golden model and the float reference, and the fixed-point drift, on a model preset.")

  @Option(help: "Model preset: \(ModelConfig.presets.map(\.name).joined(separator: ", ")) (default 370m).") var model: String?
  @Option(help: "Imported model directory (hwgen import) instead of synthetic weights.") var weights: String?
  @Option(help: "Positions to run through both models (prompt or --text tokens included).") var tokens: Int = 8
  @Option(help: "Seed of the synthetic weights and of the token sequence.") var seed: UInt64 = 1
  @Option(help: "Text to feed, tokenized with the imported model's tokenizer.json (teacher-forced, cut at --tokens); the fixed-point model's greedy continuation fills the remaining positions. Default: seeded random tokens.") var text: String?
  @Option(help: "Positions per window of the drift-over-context summary.") var window: Int = 64
  @Option(help: "Write the fixed-point logits of every position, dequantized (Q15.16 / 65536), as a float32 .npy [positions, vocab].") var logits: String?

  func validate() throws {
    if let model {
      do { _ = try ModelConfig.preset(named: model) } catch let error as ModelConfig.Invalid { throw ValidationError(error.description) }
    }
    guard (1...4096).contains(tokens) else { throw ValidationError("tokens must be between 1 and 4096, got \(tokens)") }
    guard (1...4096).contains(window) else { throw ValidationError("window must be between 1 and 4096, got \(window)") }
    if text != nil && weights == nil { throw ValidationError("--text needs an imported model with tokenizer.json (--weights MODEL_DIR)") }
    if text?.isEmpty == true { throw ValidationError("--text is empty") }
    if let logits { try Regress.checkWritable(file: logits, option: "logits") }
  }

  func run() throws {
    let generate = Stopwatch()
    let source = try ModelSource.resolve(model: model, weights: weights, seed: seed, defaultModel: "370m")
    let config = source.weights.config
    var prompt: [Int] = []
    if let text {
      guard let tokenizer = source.tokenizer else { throw ModelSourceError("--text needs an imported model with tokenizer.json; \(weights ?? "") has none") }
      prompt = tokenizer.encode(text)
      if let bad = prompt.first(where: { !(0..<config.vocabSize).contains($0) }) {
        throw ModelSourceError("the tokenizer gives id \(bad) for --text, outside the model's vocab 0..<\(config.vocabSize)")
      }
      guard !prompt.isEmpty else { throw ModelSourceError("--text encodes to no tokens") }
    }
    print("hwgen bench golden: \(config.name) (D \(config.hiddenSize), \(config.layers) layers, I \(config.intermediateSize)), "
      + "\(Format.si(Double(config.ternaryWeightsPerToken), "")) ternary weights per token, \(ProcessInfo.processInfo.activeProcessorCount) cores")
    let weights = source.weights
    print("weights: \(source.description): \(Format.seconds(generate.seconds))")
    let convert = Stopwatch()
    let fixedWeights = FixedPointWeights(weights)
    print("fixed-point conversion: \(Format.seconds(convert.seconds))")

    // The tokens: --text's (teacher-forced), then the fixed-point model's greedy
    // choices; without --text, seeded random ids. Both models see the same ones.
    var rng = SeededRandom(seed: seed)
    var sequence = text == nil ? (0..<tokens).map { _ in Int(rng.next() % UInt64(config.vocabSize)) } : Array(prompt.prefix(tokens))
    var fixed = FixedPointModel(weights: fixedWeights)
    var float = FloatReferenceModel(weights: weights)
    var fixedSeconds = 0.0, floatSeconds = 0.0
    var drift = ModelDrift(layers: config.layers)
    var logitRows: [[Int32]] = []
    var position = 0
    while position < tokens {
      let token = sequence[position]
      let a = Stopwatch()
      let f = fixed.stepTraced(token: token)
      fixedSeconds += a.seconds
      let b = Stopwatch()
      let r = float.stepTraced(token: token)
      floatSeconds += b.seconds
      drift.add(ModelDrift.Outputs(f), ModelDrift.Outputs(r))
      if logits != nil { logitRows.append(f.logits) }
      position += 1
      if position == sequence.count && position < tokens { sequence.append(f.next) }
    }
    if text != nil {
      let fed = min(prompt.count, tokens)
      print("tokens: \(fed) of --text (\(prompt.count) encoded), then \(tokens - fed) greedy (fixed point), fed to both models")
    }
    print("golden model (fixed point): \(Format.significant(Double(tokens) / fixedSeconds, 3)) tokens/s (\(Format.seconds(fixedSeconds / Double(tokens))) per token)")
    print("float reference:            \(Format.significant(Double(tokens) / floatSeconds, 3)) tokens/s (\(Format.seconds(floatSeconds / Double(tokens))) per token)")
    print("fixed-point drift from the float reference (relative L2, mean over \(tokens) tokens): \(Self.summary(drift))")
    if tokens > window {
      print("logit drift over the context (relative L2 per position, by window; top-1 agreement):")
      for w in drift.windows(size: window) { print("  " + Self.line(w)) }
    }
    let floor = ModelDrift.sensitivityFloor(weights, sequence: sequence, seed: seed)
    print("sensitivity floor (float reference, embedding moved by half a Q15.16 step): \(Self.summary(floor))")
    if let logits {
      try NumPyArray(logits: logitRows).write(to: URL(fileURLWithPath: logits))
      print("logits: \(logits) (\(logitRows.count) x \(config.vocabSize) float32, fixed point / 65536)")
    }
  }

  /// "positions 0-63: median 2.1%, mean 2.3%, max 4.0%; top-1 64/64".
  static func line(_ w: ModelDrift.Window) -> String {
    "positions \(w.positions.lowerBound)-\(w.positions.upperBound - 1): median \(Self.percent(w.median)), mean \(Self.percent(w.mean)), "
      + "max \(Self.percent(w.max)); top-1 \(w.top1Agreement)/\(w.positions.count)"
  }

  /// First, middle and last layer, the logits and top-1 agreement, on one line.
  static func summary(_ drift: ModelDrift) -> String {
    let l = drift.layerError
    let shown = Array(Set([0, l.count / 2, l.count - 1])).sorted().map { "layer \($0) \(Format.percent(l[$0]))" }
    return shown.joined(separator: ", ") + ", max \(Format.percent(l.max() ?? 0)); logits \(Format.percent(drift.logitError)) "
      + "(worst \(Format.percent(drift.worstLogitError))); top-1 agreement \(drift.top1Agreement)/\(drift.tokens)"
  }
}

extension BenchGolden {
  /// Two decimals: the windows' drift is a few percent.
  static func percent(_ fraction: Double) -> String { String(format: "%.2f%%", fraction * 100) }
}
