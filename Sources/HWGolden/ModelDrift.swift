import Foundation
import HWSpec
import HWSupport

/// How far the fixed-point golden model drifts from the float reference of
/// the same model math, over one token sequence fed to both (teacher forcing:
/// both see the same tokens, so errors do not compound through different choices).
public struct ModelDrift: Sendable {
  private var layerSums: [Double]
  private var logitSum = 0.0
  /// Largest per-token relative L2 error of the logits.
  public private(set) var worstLogitError = 0.0
  /// Tokens whose argmax agrees.
  public private(set) var top1Agreement = 0
  public private(set) var tokens = 0

  public init(layers: Int) { layerSums = [Double](repeating: 0, count: layers) }

  /// Relative L2 error of each layer's output (the residual stream), mean over tokens.
  public var layerError: [Double] { layerSums.map { $0 / Double(max(1, tokens)) } }
  /// Relative L2 error of the logits, mean over tokens.
  public var logitError: Double { logitSum / Double(max(1, tokens)) }
  public var top1Fraction: Double { tokens == 0 ? 1 : Double(top1Agreement) / Double(tokens) }

  /// Adds one token's traces from both models.
  public mutating func add(_ fixed: FixedPointModel.Trace, _ reference: FloatReferenceModel.Trace) {
    for l in layerSums.indices { layerSums[l] += Self.relativeL2(fixed.layerOutputs[l], reference.layerOutputs[l]) }
    let e = Self.relativeL2(fixed.logits, reference.logits)
    logitSum += e
    worstLogitError = max(worstLogitError, e)
    if fixed.next == reference.next { top1Agreement += 1 }
    tokens += 1
  }

  /// Adds one token's traces from two float runs (for the sensitivity floor).
  public mutating func add(_ perturbed: FloatReferenceModel.Trace, _ reference: FloatReferenceModel.Trace) {
    for l in layerSums.indices { layerSums[l] += Self.relativeL2(perturbed.layerOutputs[l], reference.layerOutputs[l]) }
    let e = Self.relativeL2(perturbed.logits, reference.logits)
    logitSum += e
    worstLogitError = max(worstLogitError, e)
    if perturbed.next == reference.next { top1Agreement += 1 }
    tokens += 1
  }

  public static func relativeL2(_ a: [Float], _ reference: [Float]) -> Double {
    var num = 0.0
    var den = 0.0
    for (x, r) in zip(a, reference) {
      let d = Double(x) - Double(r)
      num += d * d
      den += Double(r) * Double(r)
    }
    return den == 0 ? num.squareRoot() : (num / den).squareRoot()
  }

  /// The model's own sensitivity: the float reference against itself with
  /// every embedding value moved by +-2^-17 (half a Q15.16 step, the error
  /// the fixed-point conversion of the embedding alone introduces). Drift
  /// near this floor is the model amplifying any perturbation, not
  /// arithmetic error; the synthetic models' coarse int8 activations (outlier
  /// gammas) make them amplify a lot.
  public static func sensitivityFloor(_ weights: ModelWeights, sequence: [Int], seed: UInt64 = 1) -> ModelDrift {
    var rng = SeededRandom(seed: seed)
    let nudge = Float(1.0 / 131072)
    let embedding = weights.embedding.map { $0 + (rng.next() & 1 == 0 ? nudge : -nudge) }
    let perturbed = ModelWeights(
      config: weights.config, embedding: embedding, layers: weights.layers, lowerBoundsRaw: weights.lowerBoundsRaw,
      finalNorm: weights.finalNorm, lmHead: weights.lmHead)
    var a = FloatReferenceModel(weights: perturbed)
    var b = FloatReferenceModel(weights: weights)
    var drift = ModelDrift(layers: weights.config.layers)
    for token in sequence { drift.add(a.stepTraced(token: token), b.stepTraced(token: token)) }
    return drift
  }

  /// One line: first, middle and last layer, the logits, top-1 agreement.
  public var summary: String {
    func pct(_ x: Double) -> String { String(format: "%.2f%%", x * 100) }
    let l = layerError
    let shown = Array(Set([0, l.count / 2, l.count - 1])).sorted().map { "layer \($0) \(pct(l[$0]))" }.joined(separator: ", ")
    return "\(shown), max \(pct(l.max() ?? 0)); logits \(pct(logitError)) (worst \(pct(worstLogitError))); top-1 agreement \(top1Agreement)/\(tokens)"
  }

  /// ||a - b|| / ||b||, with b the float reference.
  public static func relativeL2(_ fixed: [Int32], _ reference: [Float]) -> Double {
    var num = 0.0
    var den = 0.0
    for (q, r) in zip(fixed, reference) {
      let d = Fixed.toDouble(q) - Double(r)
      num += d * d
      den += Double(r) * Double(r)
    }
    return den == 0 ? num.squareRoot() : (num / den).squareRoot()
  }

  /// Runs both models from a fresh state over `sequence`.
  public static func measure(_ weights: ModelWeights, fixedWeights: FixedPointWeights? = nil, sequence: [Int]) -> ModelDrift {
    var fixed = FixedPointModel(weights: fixedWeights ?? FixedPointWeights(weights))
    var float = FloatReferenceModel(weights: weights)
    var drift = ModelDrift(layers: weights.config.layers)
    for token in sequence { drift.add(fixed.stepTraced(token: token), float.stepTraced(token: token)) }
    return drift
  }
}
