import ArgumentParser
import Foundation
import HWGolden
import HWReport
import HWSpec
import HWSupport

/// Speed of the software models, and the fixed-point model's drift from the
/// float reference, on a preset with seeded synthetic weights.
struct BenchGolden: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "golden",
    abstract: "Tokens/s of the bit-exact golden model and the float reference, and the fixed-point drift, on a model preset.")

  @Option(help: "Model preset: \(ModelConfig.presets.map(\.name).joined(separator: ", ")) (default 370m).") var model: String?
  @Option(help: "Imported model directory (hwgen import) instead of synthetic weights.") var weights: String?
  @Option(help: "Tokens to run through both models.") var tokens: Int = 8
  @Option(help: "Seed of the synthetic weights and of the token sequence.") var seed: UInt64 = 1

  func validate() throws {
    if let model {
      do { _ = try ModelConfig.preset(named: model) } catch let error as ModelConfig.Invalid { throw ValidationError(error.description) }
    }
    guard (1...4096).contains(tokens) else { throw ValidationError("tokens must be between 1 and 4096, got \(tokens)") }
  }

  func run() throws {
    let generate = Stopwatch()
    let source = try ModelSource.resolve(model: model, weights: weights, seed: seed, defaultModel: "370m")
    let config = source.weights.config
    print("hwgen bench golden: \(config.name) (D \(config.hiddenSize), \(config.layers) layers, I \(config.intermediateSize)), "
      + "\(Format.si(Double(config.ternaryWeightsPerToken), "")) ternary weights per token, \(ProcessInfo.processInfo.activeProcessorCount) cores")
    let weights = source.weights
    print("weights: \(source.description): \(Format.seconds(generate.seconds))")
    let convert = Stopwatch()
    let fixedWeights = FixedPointWeights(weights)
    print("fixed-point conversion: \(Format.seconds(convert.seconds))")

    var rng = SeededRandom(seed: seed)
    let sequence = (0..<tokens).map { _ in Int(rng.next() % UInt64(config.vocabSize)) }
    var fixed = FixedPointModel(weights: fixedWeights)
    var float = FloatReferenceModel(weights: weights)
    var fixedSeconds = 0.0, floatSeconds = 0.0
    var drift = ModelDrift(layers: config.layers)
    for token in sequence {
      let a = Stopwatch()
      let f = fixed.stepTraced(token: token)
      fixedSeconds += a.seconds
      let b = Stopwatch()
      let r = float.stepTraced(token: token)
      floatSeconds += b.seconds
      drift.add(ModelDrift.Outputs(f), ModelDrift.Outputs(r))
    }
    print("golden model (fixed point): \(Format.significant(Double(tokens) / fixedSeconds, 3)) tokens/s (\(Format.seconds(fixedSeconds / Double(tokens))) per token)")
    print("float reference:            \(Format.significant(Double(tokens) / floatSeconds, 3)) tokens/s (\(Format.seconds(floatSeconds / Double(tokens))) per token)")
    print("fixed-point drift from the float reference (relative L2, mean over \(tokens) tokens): \(Self.summary(drift))")
    let floor = ModelDrift.sensitivityFloor(weights, sequence: sequence, seed: seed)
    print("sensitivity floor (float reference, embedding moved by half a Q15.16 step): \(Self.summary(floor))")
  }

  /// First, middle and last layer, the logits and top-1 agreement, on one line.
  static func summary(_ drift: ModelDrift) -> String {
    let l = drift.layerError
    let shown = Array(Set([0, l.count / 2, l.count - 1])).sorted().map { "layer \($0) \(Format.percent(l[$0]))" }
    return shown.joined(separator: ", ") + ", max \(Format.percent(l.max() ?? 0)); logits \(Format.percent(drift.logitError)) "
      + "(worst \(Format.percent(drift.worstLogitError))); top-1 agreement \(drift.top1Agreement)/\(drift.tokens)"
  }
}
