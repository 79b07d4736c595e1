import Dispatch
import Foundation
import HWSpec
import HWSupport

/// One BitLinear projection: ternary weights with their absmean scale beta
/// (`weight.beta`) and the projection's own RMSNorm gamma (one entry per input
/// column). docs/model.md, "BitLinear".
public struct BitLinearWeights: Hashable, Sendable {
  public let weight: PackedTernary
  /// Gamma of the projection's internal RMSNorm, length `weight.cols`
  /// (checkpoint tensor `*_proj.norm.weight`).
  public let normGamma: [Float]

  public init(weight: PackedTernary, normGamma: [Float]) {
    precondition(normGamma.count == weight.cols, "norm gamma length \(normGamma.count) != projection input size \(weight.cols)")
    self.weight = weight
    self.normGamma = normGamma
  }

  public var beta: Float { weight.beta }
  /// Output size.
  public var rows: Int { weight.rows }
  /// Input size.
  public var cols: Int { weight.cols }
}

/// A block's six projections by name, in whatever form a model holds them
/// (latent `BitLinearWeights`, fixed-point `FixedBitLinear`).
public protocol LayerProjections {
  associatedtype Projection
  var i: Projection { get }
  var f: Projection { get }
  var g: Projection { get }
  var o: Projection { get }
  var gate: Projection { get }
  var down: Projection { get }
}

extension LayerProjections {
  /// The projection by name (`.lmHead` is not a layer projection).
  public func projection(_ p: ModelConfig.Projection) -> Projection {
    switch p {
    case .i: return i
    case .f: return f
    case .g: return g
    case .o: return o
    case .gate: return gate
    case .down: return down
    case .lmHead: preconditionFailure("the lm_head belongs to the model, not a layer")
    }
  }
}

/// The parameters of one block (checkpoint prefix `model.layers.N.`).
public struct LayerWeights: Hashable, Sendable, LayerProjections {
  /// `attn_norm.weight`, length D: the RMSNorm before the MLGRU.
  public let attnNorm: [Float]
  /// MLGRU projections, each D -> D (`attn.{i,f,g,o}_proj`).
  public let i: BitLinearWeights
  public let f: BitLinearWeights
  public let g: BitLinearWeights
  public let o: BitLinearWeights
  /// `attn.g_norm.weight`, length D: the RMSNorm of g in the gated output.
  public let gNorm: [Float]
  /// `mlp_norm.weight`, length D: the RMSNorm before the GLU.
  public let mlpNorm: [Float]
  /// GLU input projection, D -> 2I: rows 0..<I are the gate, rows I..<2I are u.
  public let gate: BitLinearWeights
  /// GLU output projection, I -> D.
  public let down: BitLinearWeights

  public init(
    attnNorm: [Float], i: BitLinearWeights, f: BitLinearWeights, g: BitLinearWeights, o: BitLinearWeights,
    gNorm: [Float], mlpNorm: [Float], gate: BitLinearWeights, down: BitLinearWeights
  ) {
    self.attnNorm = attnNorm
    self.i = i
    self.f = f
    self.g = g
    self.o = o
    self.gNorm = gNorm
    self.mlpNorm = mlpNorm
    self.gate = gate
    self.down = down
  }

  /// Checks every shape against `config`.
  func check(_ config: ModelConfig, layer: Int) {
    let d = config.hiddenSize
    for (name, v) in [("attn_norm", attnNorm), ("g_norm", gNorm), ("mlp_norm", mlpNorm)] {
      precondition(v.count == d, "layer \(layer) \(name): length \(v.count) != D \(d)")
    }
    for p in ModelConfig.Projection.perLayer {
      let s = config.shape(of: p), w = projection(p)
      precondition(w.rows == s.rows && w.cols == s.cols, "layer \(layer) \(p.rawValue)_proj: \(w.rows) x \(w.cols), expected \(s.rows) x \(s.cols)")
    }
  }
}

/// Every parameter of a model in memory, in the reference's Float32 values
/// (the fixed-point golden model converts them; nothing here is rounded to a
/// hardware format). Checkpoint names are in docs/model.md.
public struct ModelWeights: Hashable, Sendable {
  public let config: ModelConfig
  /// `model.embeddings.weight`: vocab x D, row-major (row t is token t's vector).
  public let embedding: [Float]
  public let layers: [LayerWeights]
  /// `model.lower_bounds`: the raw L x D parameter, layer-major.
  public let lowerBoundsRaw: [Float]
  /// The precomputed lower bounds: `lowerBounds[l]` is lb_l (length D), with
  /// LB = cumsum(P) - P[0] and P = softmax of `lowerBoundsRaw` over the layer
  /// axis. `lowerBounds[0]` is all zeros; the MLGRU uses lb_l for l > 0 only.
  public let lowerBounds: [[Float]]
  /// `model.norm.weight`, length D.
  public let finalNorm: [Float]
  /// `lm_head.weight` (D -> vocab) with `lm_head.norm.weight`.
  public let lmHead: BitLinearWeights

  /// Checks every shape and precomputes the lower bounds.
  public init(
    config: ModelConfig, embedding: [Float], layers: [LayerWeights], lowerBoundsRaw: [Float], finalNorm: [Float],
    lmHead: BitLinearWeights
  ) {
    let d = config.hiddenSize
    precondition(embedding.count == config.vocabSize * d, "embedding has \(embedding.count) values, expected vocab x D = \(config.vocabSize * d)")
    precondition(layers.count == config.layers, "\(layers.count) layers, config says \(config.layers)")
    for (l, layer) in layers.enumerated() { layer.check(config, layer: l) }
    precondition(lowerBoundsRaw.count == config.layers * d, "lower_bounds has \(lowerBoundsRaw.count) values, expected L x D = \(config.layers * d)")
    precondition(finalNorm.count == d, "final norm length \(finalNorm.count) != D \(d)")
    let head = config.shape(of: .lmHead)
    precondition(lmHead.rows == head.rows && lmHead.cols == head.cols, "lm_head: \(lmHead.rows) x \(lmHead.cols), expected \(head.rows) x \(head.cols)")
    self.config = config
    self.embedding = embedding
    self.layers = layers
    self.lowerBoundsRaw = lowerBoundsRaw
    self.lowerBounds = Self.lowerBounds(raw: lowerBoundsRaw, layers: config.layers, hiddenSize: d)
    self.finalNorm = finalNorm
    self.lmHead = lmHead
  }

  /// Token `token`'s embedding vector (length D).
  public func embedding(token: Int) -> ArraySlice<Float> {
    precondition(token >= 0 && token < config.vocabSize, "token \(token) outside vocab 0..<\(config.vocabSize)")
    let d = config.hiddenSize
    return embedding[token * d..<(token + 1) * d]
  }

  /// Every ternary projection of the model, layer by layer in `Projection.perLayer`
  /// order, then the lm_head.
  public var allProjections: [BitLinearWeights] {
    layers.flatMap { layer in ModelConfig.Projection.perLayer.map { layer.projection($0) } } + [lmHead]
  }

  /// The reference's lower-bound precompute, in Float32, column by column:
  /// P[.][d] = softmax over layers of raw[.][d] (max subtracted before `exp`,
  /// as torch does), LB[l][d] = (P[0][d] + ... + P[l][d]) - P[0][d], the
  /// running sum taken in layer order. LB[0] is exactly 0 and LB is
  /// non-decreasing in l (a running sum of non-negative terms).
  public static func lowerBounds(raw: [Float], layers: Int, hiddenSize d: Int) -> [[Float]] {
    precondition(raw.count == layers * d, "lower_bounds has \(raw.count) values, expected \(layers) x \(d)")
    var lb = [[Float]](repeating: [Float](repeating: 0, count: d), count: layers)
    var p = [Float](repeating: 0, count: layers)
    for c in 0..<d {
      var top = -Float.infinity
      for l in 0..<layers { top = max(top, raw[l * d + c]) }
      var sum: Float = 0
      for l in 0..<layers {
        p[l] = exp(raw[l * d + c] - top)
        sum += p[l]
      }
      for l in 0..<layers { p[l] /= sum }
      var running: Float = 0
      for l in 0..<layers {
        running += p[l]
        lb[l][c] = running - p[0]
      }
    }
    return lb
  }
}

// MARK: - Synthetic weights

/// How `ModelWeights.synthetic` draws a checkpoint-like model. The defaults
/// imitate what a trained BitNet-style checkpoint looks like to the datapath
/// (ranges, outliers, sparsity), which is what the fixed-point formats and
/// the hardware must survive; the values carry no language.
public struct SyntheticWeightDistribution: Hashable, Sendable, Codable {
  /// Probability that a ternary weight is non-zero (rounded down to a multiple
  /// of 1/256). Absmean ternarization zeroes |W| < beta/2: for a Gaussian
  /// latent weight that is 31% of the weights, for a Laplacian 39%, so trained
  /// checkpoints have about a third zeros; the default is 2/3 non-zero
  /// (171/256 after rounding). Signs are +-1 with equal probability.
  public var nonZeroFraction: Double = 2.0 / 3.0
  /// beta (mean |W| of the latent weights) per matrix, log-uniform in this
  /// range: latent weights with standard deviation 0.012...0.06, the scale of
  /// trained projections of these widths.
  public var betaRange: ClosedRange<Float> = 0.01...0.05
  /// RMSNorm gammas: gamma_j = level * exp(sigma * z_j), z_j ~ N(0, 1), with
  /// one `level` per vector, log-uniform in `gammaLevelRange` (norms of
  /// different sites sit at different scales), and `gammaSigma` the log-normal
  /// spread around it.
  public var gammaLevelRange: ClosedRange<Float> = 0.5...2.0
  public var gammaSigma: Float = 0.35
  /// Outlier channels per gamma vector: one per `outlierEvery` channels (at
  /// least one), each multiplied by a factor log-uniform in `outlierScale` --
  /// the few massive channels trained LLM norms are known for, which dominate
  /// the absmax activation scale and the residual's range.
  public var outlierEvery: Int = 256
  public var outlierScale: ClosedRange<Float> = 5...20
  /// `lower_bounds` raw values ~ N(0, sigma^2) independently per layer and
  /// channel (trained values start at 0 and drift apart): the softmax over
  /// layers is then far from uniform, so LB varies across layers and channels.
  public var lowerBoundSigma: Float = 1.0
  /// Embedding row t ~ N(0, s_t^2) per entry with s_t log-uniform in this
  /// range (frequent and rare tokens have very different norms) ...
  public var embeddingScaleRange: ClosedRange<Float> = 0.02...1.0
  /// ... and one outlier dimension per `outlierEvery` dimensions (at least
  /// one), the same for every token, scaled by a factor log-uniform in this range.
  public var embeddingOutlierScale: ClosedRange<Float> = 3...10
  /// Round embedding, gammas and raw lower bounds to BF16-representable values
  /// (round to nearest even), as the BF16 checkpoints store them. Betas stay
  /// Float32 (the importer computes them).
  public var bf16Values: Bool = true

  public init() {}

  public init(nonZeroFraction: Double) { self.nonZeroFraction = nonZeroFraction }
}

extension ModelWeights {
  /// A seeded, deterministic, checkpoint-like model (see
  /// `SyntheticWeightDistribution` for what is drawn and why).
  ///
  /// Every matrix, vector and row block draws from its own `fork` of the seed's
  /// generator, keyed by what it is (layer, projection, row block), so the
  /// result depends only on `config`, `seed` and `distribution` -- not on the
  /// number of cores or thread timing. Ternary planes come from the generator
  /// a whole 64-weight word at a time (`PackedTernary.random`); matrices and
  /// the embedding are filled on all cores.
  public static func synthetic(
    _ config: ModelConfig, seed: UInt64, distribution: SyntheticWeightDistribution = .init()
  ) -> ModelWeights {
    precondition((try? config.validate()) != nil, "invalid model config \(config)")
    let root = SeededRandom(seed: seed)
    let dist = distribution
    let d = config.hiddenSize

    func gamma(_ count: Int, _ rng: SeededRandom) -> [Float] {
      SyntheticDraws.gamma(count: count, distribution: dist, rng: rng)
    }
    func projection(_ p: ModelConfig.Projection, _ rng: SeededRandom) -> BitLinearWeights {
      let s = config.shape(of: p)
      var betaRng = rng.fork(2)
      let beta = SyntheticDraws.logUniform(dist.betaRange, using: &betaRng)
      let w = PackedTernary.random(rows: s.rows, cols: s.cols, nonZeroFraction: dist.nonZeroFraction, beta: beta, rng: rng.fork(0))
      return BitLinearWeights(weight: w, normGamma: gamma(s.cols, rng.fork(1)))
    }

    let embedding = SyntheticDraws.embedding(vocab: config.vocabSize, hidden: d, distribution: dist, rng: root.fork(1))
    var lbRng = root.fork(2)
    let lowerBoundsRaw = (0..<config.layers * d).map { _ in
      SyntheticDraws.storage(dist.lowerBoundSigma * SyntheticDraws.normal(using: &lbRng), dist)
    }
    let layers = (0..<config.layers).map { l -> LayerWeights in
      let rng = root.fork(100 + UInt64(l))
      let p = ModelConfig.Projection.perLayer
      func proj(_ which: ModelConfig.Projection) -> BitLinearWeights {
        projection(which, rng.fork(UInt64(p.firstIndex(of: which)!)))
      }
      return LayerWeights(
        attnNorm: gamma(d, rng.fork(10)), i: proj(.i), f: proj(.f), g: proj(.g), o: proj(.o),
        gNorm: gamma(d, rng.fork(12)), mlpNorm: gamma(d, rng.fork(11)), gate: proj(.gate), down: proj(.down))
    }
    return ModelWeights(
      config: config, embedding: embedding, layers: layers, lowerBoundsRaw: lowerBoundsRaw,
      finalNorm: gamma(d, root.fork(3)), lmHead: projection(.lmHead, root.fork(4)))
  }
}

/// The draws behind `ModelWeights.synthetic`.
enum SyntheticDraws {
  /// Uniform in [0, 1) with 24 random bits (exact in Float).
  @inline(__always)
  static func unit(using rng: inout SeededRandom) -> Float {
    Float(rng.next() >> 40) * (1.0 / 16_777_216.0)
  }

  static func logUniform(_ range: ClosedRange<Float>, using rng: inout SeededRandom) -> Float {
    let lo = log(range.lowerBound), hi = log(range.upperBound)
    return exp(lo + (hi - lo) * unit(using: &rng))
  }

  /// One N(0, 1) sample (Box-Muller; the sine half is dropped so each sample
  /// costs a fixed two draws).
  @inline(__always)
  static func normal(using rng: inout SeededRandom) -> Float {
    let u1 = 1 - unit(using: &rng)  // (0, 1]
    let u2 = unit(using: &rng)
    return (-2 * log(u1)).squareRoot() * cos(2 * Float.pi * u2)
  }

  /// Two N(0, 1) samples from two draws (both Box-Muller halves), for bulk fills.
  @inline(__always)
  static func normalPair(using rng: inout SeededRandom) -> (Float, Float) {
    let u1 = 1 - unit(using: &rng)
    let u2 = unit(using: &rng)
    let r = (-2 * log(u1)).squareRoot(), t = 2 * Float.pi * u2
    return (r * cos(t), r * sin(t))
  }

  /// `x` rounded to the nearest BF16 value (ties to even), if the distribution asks for it.
  @inline(__always)
  static func storage(_ x: Float, _ dist: SyntheticWeightDistribution) -> Float {
    dist.bf16Values ? bf16(x) : x
  }

  static func bf16(_ x: Float) -> Float {
    guard x.isFinite else { return x }
    let bits = x.bitPattern
    let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
    return Float(bitPattern: rounded & 0xFFFF_0000)
  }

  /// `count` channel indices, one per `every` channels (at least one), drawn with replacement.
  static func outlierChannels(count: Int, every: Int, using rng: inout SeededRandom) -> [Int] {
    let n = max(1, count / max(1, every))
    return (0..<n).map { _ in Int(rng.next() % UInt64(count)) }
  }

  static func gamma(count: Int, distribution dist: SyntheticWeightDistribution, rng: SeededRandom) -> [Float] {
    var levelRng = rng.fork(0), channelRng = rng.fork(1), outlierRng = rng.fork(2)
    let level = logUniform(dist.gammaLevelRange, using: &levelRng)
    var g = (0..<count).map { _ in level * exp(dist.gammaSigma * normal(using: &channelRng)) }
    for c in outlierChannels(count: count, every: dist.outlierEvery, using: &outlierRng) {
      g[c] *= logUniform(dist.outlierScale, using: &outlierRng)
    }
    return g.map { storage($0, dist) }
  }

  /// Tokens generated from one sub-stream (fixed, like `PackedTernary.rowsPerStream`).
  static let tokensPerStream = 64

  static func embedding(vocab: Int, hidden d: Int, distribution dist: SyntheticWeightDistribution, rng: SeededRandom) -> [Float] {
    var dimRng = rng.fork(0)
    var dimScale = [Float](repeating: 1, count: d)
    for c in outlierChannels(count: d, every: dist.outlierEvery, using: &dimRng) {
      dimScale[c] = logUniform(dist.embeddingOutlierScale, using: &dimRng)
    }
    let scale = dimScale
    let rows = rng.fork(1)
    let blocks = (vocab + tokensPerStream - 1) / tokensPerStream
    return [Float](unsafeUninitializedCapacity: vocab * d) { buffer, count in
      let out = ParallelWritePointer(buffer.baseAddress!)
      let fill: @Sendable (Int) -> Void = { block in
        var stream = rows.fork(UInt64(block))
        for t in block * tokensPerStream..<min(vocab, (block + 1) * tokensPerStream) {
          let s = logUniform(dist.embeddingScaleRange, using: &stream)
          let row = out.pointer + t * d
          var c = 0
          while c < d {
            let (z0, z1) = normalPair(using: &stream)
            row[c] = storage(s * scale[c] * z0, dist)
            if c + 1 < d { row[c + 1] = storage(s * scale[c + 1] * z1, dist) }
            c += 2
          }
        }
      }
      if vocab * d >= 1 << 16 && blocks > 1 {
        DispatchQueue.concurrentPerform(iterations: blocks, execute: fill)
      } else {
        for b in 0..<blocks { fill(b) }
      }
      count = vocab * d
    }
  }
}
