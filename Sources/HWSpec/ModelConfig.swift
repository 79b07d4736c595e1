/// Shape of a MatMul-free language model (HGRN-Bit, see docs/model.md): the one
/// value the golden models, the weight importer and the accelerator generators
/// agree on.
///
/// Per layer the model has seven ternary projections (`Projection`): the MLGRU's
/// i, f, g, o (each D -> D), the GLU's gate (D -> 2I: first half gate, second half
/// u) and down (I -> D). The lm_head (D -> vocab) is ternary too; the embedding
/// (vocab x D) is full precision.
public struct ModelConfig: Hashable, Sendable, Codable, CustomStringConvertible {
  /// Preset name ("tiny", "370m", ...) or a free label for a custom shape.
  public var name: String
  /// D: width of the residual stream and of the MLGRU state.
  public var hiddenSize: Int
  /// L: number of blocks.
  public var layers: Int
  /// I: width of the GLU (the gate projection produces 2I values).
  public var intermediateSize: Int
  public var vocabSize: Int
  /// Epsilon of every RMSNorm, including each BitLinear's own (1e-6 in the checkpoints).
  public var rmsNormEps: Double

  public static let defaultRMSNormEps = 1e-6

  /// A custom shape. `intermediateSize` defaults to the reference's formula
  /// (`intermediateSize(hiddenSize:)`).
  public init(
    name: String, hiddenSize: Int, layers: Int, intermediateSize: Int? = nil, vocabSize: Int,
    rmsNormEps: Double = defaultRMSNormEps
  ) {
    self.name = name
    self.hiddenSize = hiddenSize
    self.layers = layers
    self.intermediateSize = intermediateSize ?? Self.intermediateSize(hiddenSize: hiddenSize)
    self.vocabSize = vocabSize
    self.rmsNormEps = rmsNormEps
  }

  /// The reference's GLU width: `I = 256 * ceil(int(D * 4 * 2/3) / 256)`, where
  /// `int(D * 4 * 2/3)` is Python's left-to-right float expression truncated,
  /// i.e. floor(8D / 3).
  public static func intermediateSize(hiddenSize d: Int) -> Int {
    let raw = (d * 8) / 3
    return 256 * ((raw + 255) / 256)
  }

  // MARK: Presets

  /// A model a Verilator test runs end to end in seconds: D = 128, L = 2,
  /// I = 512 (by the formula), vocab 512. For shapes where D is not a multiple
  /// of 64, build a custom config, e.g. `ModelConfig(name: "tiny-96",
  /// hiddenSize: 96, layers: 2, vocabSize: 300)` (I = 256).
  public static let tiny = ModelConfig(name: "tiny", hiddenSize: 128, layers: 2, vocabSize: 512)
  /// ridger/MMfreeLM-370M.
  public static let m370 = ModelConfig(name: "370m", hiddenSize: 1024, layers: 24, vocabSize: 32000)
  /// ridger/MMfreeLM-1.3B.
  public static let b1_3 = ModelConfig(name: "1.3b", hiddenSize: 2048, layers: 24, vocabSize: 32000)
  /// ridger/MMfreeLM-2.7B.
  public static let b2_7 = ModelConfig(name: "2.7b", hiddenSize: 2560, layers: 32, vocabSize: 32000)

  /// Every preset, smallest first.
  public static let presets: [ModelConfig] = [.tiny, .m370, .b1_3, .b2_7]

  public struct Invalid: Error, CustomStringConvertible {
    public let description: String
  }

  /// The preset called `name` ("tiny", "370m", "1.3b", "2.7b"; case-insensitive).
  public static func preset(named name: String) throws -> ModelConfig {
    let key = name.lowercased()
    if let found = presets.first(where: { $0.name == key }) { return found }
    throw Invalid(description: "unknown model '\(name)'; valid names: \(presets.map(\.name).joined(separator: ", "))")
  }

  /// Throws one line saying what is wrong.
  public func validate() throws {
    for (label, value) in [("hidden size", hiddenSize), ("layers", layers), ("intermediate size", intermediateSize), ("vocab size", vocabSize)] {
      guard value >= 1 else { throw Invalid(description: "\(label) must be at least 1, got \(value)") }
    }
    guard rmsNormEps > 0, rmsNormEps.isFinite else {
      throw Invalid(description: "rms norm eps must be positive, got \(rmsNormEps)")
    }
  }

  public var description: String {
    "\(name): D \(hiddenSize), L \(layers), I \(intermediateSize), vocab \(vocabSize)"
  }

  // MARK: Projections and counts

  /// The ternary projections (BitLinear layers), in the order a layer applies them.
  public enum Projection: String, Hashable, Sendable, Codable, CaseIterable {
    case i, f, g, o, gate, down
    /// The output head (once per model, after the final norm).
    case lmHead = "lm_head"

    /// The seven per-layer projections (everything but the lm_head).
    public static let perLayer: [Projection] = [.i, .f, .g, .o, .gate, .down]
  }

  /// Output rows and input columns of a projection's ternary matrix. The
  /// projection's own RMSNorm gamma has `cols` entries.
  public func shape(of projection: Projection) -> (rows: Int, cols: Int) {
    switch projection {
    case .i, .f, .g, .o: return (hiddenSize, hiddenSize)
    case .gate: return (2 * intermediateSize, hiddenSize)
    case .down: return (hiddenSize, intermediateSize)
    case .lmHead: return (vocabSize, hiddenSize)
    }
  }

  /// Ternary weights of one block: 4 D^2 (i, f, g, o) + 2 D I (gate) + D I (down).
  public var ternaryWeightsPerLayer: Int {
    Projection.perLayer.reduce(0) { sum, p in let s = shape(of: p); return sum + s.rows * s.cols }
  }

  /// Ternary weights of the lm_head: vocab x D.
  public var lmHeadWeights: Int { vocabSize * hiddenSize }

  /// Ternary weights one token reads: every layer and the lm_head.
  public var ternaryWeightsPerToken: Int { layers * ternaryWeightsPerLayer + lmHeadWeights }

  /// Bytes of all ternary weights at 2 bits a weight (`TernaryEncoding`).
  public var packedTernaryBytes: Int { (ternaryWeightsPerToken * TernaryEncoding.bitsPerWeight + 7) / 8 }

  /// Full-precision embedding entries: vocab x D.
  public var embeddingParameters: Int { vocabSize * hiddenSize }

  /// Full-precision per-layer vectors: attn_norm, mlp_norm, g_norm (D each),
  /// the i/f/g/o/gate norms (D each), the down norm (I) and one row of
  /// lower_bounds (D).
  public var normParametersPerLayer: Int { 9 * hiddenSize + intermediateSize }

  /// The longest dot product any projection computes (max of D and I): what
  /// the ternary core's accumulators must hold.
  public var longestReduction: Int { max(hiddenSize, intermediateSize) }
}
