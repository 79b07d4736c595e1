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

  /// One token's outputs, whichever model produced them, in real values.
  public struct Outputs {
    public var layers: [[Double]]
    public var logits: [Double]
    public var next: Int

    public init(_ t: FixedPointModel.Trace) {
      layers = t.layerOutputs.map { $0.map(Fixed.toDouble) }
      logits = t.logits.map(Fixed.toDouble)
      next = t.next
    }

    public init(_ t: FloatReferenceModel.Trace) {
      layers = t.layerOutputs.map { $0.map(Double.init) }
      logits = t.logits.map(Double.init)
      next = t.next
    }
  }

  /// Adds one token: `measured` against `reference`.
  public mutating func add(_ measured: Outputs, _ reference: Outputs) {
    for l in layerSums.indices { layerSums[l] += Self.relativeL2(measured.layers[l], reference.layers[l]) }
    let e = Self.relativeL2(measured.logits, reference.logits)
    logitSum += e
    worstLogitError = max(worstLogitError, e)
    if measured.next == reference.next { top1Agreement += 1 }
    tokens += 1
  }

  /// ||a - b|| / ||b||, b the reference (the absolute norm when b is zero).
  public static func relativeL2(_ a: [Double], _ reference: [Double]) -> Double {
    var num = 0.0
    var den = 0.0
    for (x, r) in zip(a, reference) {
      num += (x - r) * (x - r)
      den += r * r
    }
    return den == 0 ? num.squareRoot() : (num / den).squareRoot()
  }

  /// Runs both models from a fresh state over `sequence`.
  public static func measure(_ weights: ModelWeights, fixedWeights: FixedPointWeights? = nil, sequence: [Int]) -> ModelDrift {
    var fixed = FixedPointModel(weights: fixedWeights ?? FixedPointWeights(weights))
    var float = FloatReferenceModel(weights: weights)
    var drift = ModelDrift(layers: weights.config.layers)
    for token in sequence {
      drift.add(Outputs(fixed.stepTraced(token: token)), Outputs(float.stepTraced(token: token)))
    }
    return drift
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
    for token in sequence { drift.add(Outputs(a.stepTraced(token: token)), Outputs(b.stepTraced(token: token))) }
    return drift
  }
}
