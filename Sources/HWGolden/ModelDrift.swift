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

  /// The logits' relative L2 error at each position, in the order the tokens were added.
  public private(set) var logitErrors: [Double] = []
  /// Whether the argmax agreed at each position.
  public private(set) var top1Matches: [Bool] = []

  public init(layers: Int) { layerSums = [Double](repeating: 0, count: layers) }

  /// The logits' drift over one stretch of positions.
  public struct Window: Sendable, Equatable {
    public var positions: Range<Int>
    public var median: Double
    public var mean: Double
    public var max: Double
    /// Positions whose argmax agrees.
    public var top1Agreement: Int
  }

  /// The per-position logit errors summarized in consecutive windows of
  /// `size` positions (0..<size, size..<2 size, ...; the last may be shorter).
  /// The median of an even count is the mean of the two middle values.
  public func windows(size: Int) -> [Window] {
    precondition(size >= 1, "window size must be positive")
    return stride(from: 0, to: logitErrors.count, by: size).map { start in
      let range = start..<min(start + size, logitErrors.count)
      let errors = logitErrors[range].sorted()
      let n = errors.count
      let median = n % 2 == 1 ? errors[n / 2] : (errors[n / 2 - 1] + errors[n / 2]) / 2
      return Window(
        positions: range, median: median, mean: errors.reduce(0, +) / Double(n), max: errors.last!,
        top1Agreement: top1Matches[range].filter { $0 }.count)
    }
  }

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
    logitErrors.append(e)
    worstLogitError = max(worstLogitError, e)
    top1Matches.append(measured.next == reference.next)
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
