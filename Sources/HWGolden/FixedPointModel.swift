import HWSpec

/// A BitLinear projection in the accelerator's number formats.
public struct FixedBitLinear: Sendable {
  public let weight: PackedTernary
  public let gamma: [Int32]
  public let beta: Scale
  public let constants: Norms.LengthConstants

  public init(_ p: BitLinearWeights) {
    weight = p.weight
    gamma = p.normGamma.map { Fixed.fromDouble(Double($0)) }
    beta = Scale(Double(p.beta))
    constants = Norms.LengthConstants(length: p.cols)
  }

  /// Its own RMSNorm, int8 absmax quantization, the exact ternary mat-vec and
  /// the per-vector rescale: `Norms.quantize`, `PackedTernary.multiply`, `Scale.apply`.
  public func callAsFunction(_ x: [Int32]) -> [Int32] {
    let q = Norms.quantize(x, gamma: gamma, beta: beta, constants)
    let acc = weight.multiply(q.activations)
    return acc.map { q.outputScale.apply(Int64($0)) }
  }
}

/// All weights of a model converted once to the fixed-point formats
/// (docs/numerics.md): gammas, lower bounds and the embedding in Q15.16,
/// betas as `Scale`s. The ternary planes are shared, not copied.
public struct FixedPointWeights: Sendable {
  public struct Layer: Sendable, LayerProjections {
    public let attnNorm: [Int32]
    public let i, f, g, o: FixedBitLinear
    public let gNorm: [Int32]
    public let mlpNorm: [Int32]
    public let gate, down: FixedBitLinear
    /// The lower bound LB[l]; all zeros for layer 0.
    public let lowerBound: [Int32]
  }

  public let config: ModelConfig
  public let embedding: [Int32]
  public let layers: [Layer]
  public let finalNorm: [Int32]
  public let lmHead: FixedBitLinear
  public let hiddenConstants: Norms.LengthConstants

  public init(_ w: ModelWeights) {
    func fixed(_ v: [Float]) -> [Int32] { v.map { Fixed.fromDouble(Double($0)) } }
    config = w.config
    embedding = fixed(w.embedding)
    layers = w.layers.enumerated().map { l, layer in
      Layer(
        attnNorm: fixed(layer.attnNorm), i: FixedBitLinear(layer.i), f: FixedBitLinear(layer.f),
        g: FixedBitLinear(layer.g), o: FixedBitLinear(layer.o), gNorm: fixed(layer.gNorm),
        mlpNorm: fixed(layer.mlpNorm), gate: FixedBitLinear(layer.gate), down: FixedBitLinear(layer.down),
        lowerBound: fixed(w.lowerBounds[l]))
    }
    finalNorm = fixed(w.finalNorm)
    lmHead = FixedBitLinear(w.lmHead)
    hiddenConstants = Norms.LengthConstants(length: w.config.hiddenSize)
  }

  private init(config: ModelConfig, embedding: [Int32], layers: [Layer], finalNorm: [Int32], lmHead: FixedBitLinear) {
    self.config = config
    self.embedding = embedding
    self.layers = layers
    self.finalNorm = finalNorm
    self.lmHead = lmHead
    hiddenConstants = Norms.LengthConstants(length: config.hiddenSize)
  }

  /// The model cut after its first `count` blocks: the same embedding, final
  /// norm and lm_head, and the first blocks exactly as they are (lower bounds
  /// included, which depend on every layer of the full model). A shorter
  /// network of its own, for runs that simulate only part of the depth.
  public func firstLayers(_ count: Int) -> FixedPointWeights {
    precondition(count >= 1 && count <= layers.count)
    var shape = config
    shape.layers = count
    return FixedPointWeights(
      config: shape, embedding: embedding, layers: Array(layers.prefix(count)), finalNorm: finalNorm, lmHead: lmHead)
  }

  public func embedding(token: Int) -> [Int32] {
    let d = config.hiddenSize
    return Array(embedding[token * d..<(token + 1) * d])
  }
}

/// The bit-exact golden model of the whole network: the executable
/// specification the accelerator's RTL must reproduce, element for element,
/// token for token. Greedy decoding, batch 1, one h per layer carried across
/// tokens (h starts at zero).
public struct FixedPointModel: Sendable {
  public let weights: FixedPointWeights
  /// The MLGRU hidden state of every layer, Q15.16.
  public private(set) var state: [[Int32]]
  public private(set) var position = 0

  /// Every vector a token produces, for comparison with the RTL and the float reference.
  public struct Trace: Sendable {
    public var mixerOutputs: [[Int32]] = []
    public var layerOutputs: [[Int32]] = []
    public var finalNormOutput: [Int32] = []
    public var logits: [Int32] = []
    public var next = 0

    public init() {}
  }

  public init(weights: FixedPointWeights) {
    self.weights = weights
    state = Array(repeating: [Int32](repeating: 0, count: weights.config.hiddenSize), count: weights.config.layers)
  }

  public init(weights: ModelWeights) { self.init(weights: FixedPointWeights(weights)) }

  public mutating func reset() {
    for l in state.indices { state[l] = [Int32](repeating: 0, count: weights.config.hiddenSize) }
    position = 0
  }

  public mutating func step(token: Int) -> (logits: [Int32], next: Int) {
    let t = stepTraced(token: token)
    return (t.logits, t.next)
  }

  public mutating func stepTraced(token: Int) -> Trace {
    precondition((0..<weights.config.vocabSize).contains(token), "token \(token) outside the vocabulary")
    var trace = Trace()
    var x = weights.embedding(token: token)
    let dConstants = weights.hiddenConstants
    for (l, layer) in weights.layers.enumerated() {
      // Token mixer: MLGRU.
      let a = Norms.rmsNorm(x, gamma: layer.attnNorm, dConstants)
      let yf = layer.f(a)
      let yi = layer.i(a)
      let h = MLGRUGolden.recur(yf: yf, yi: yi, lb: layer.lowerBound, hPrev: state[l])
      state[l] = h
      let gn = Norms.rmsNorm(layer.g(a), gamma: layer.gNorm, dConstants)
      let y = layer.o(MLGRUGolden.siluMul(h, gn))
      let s = (0..<x.count).map { Fixed.add(y[$0], x[$0]) }
      // Channel mixer: GLU.
      let m = Norms.rmsNorm(s, gamma: layer.mlpNorm, dConstants)
      let gu = layer.gate(m)
      let half = gu.count / 2
      let p = MLGRUGolden.siluMul(Array(gu[..<half]), Array(gu[half...]))
      let down = layer.down(p)
      x = (0..<s.count).map { Fixed.add(s[$0], down[$0]) }
      trace.mixerOutputs.append(y)
      trace.layerOutputs.append(x)
    }
    trace.finalNormOutput = Norms.rmsNorm(x, gamma: weights.finalNorm, dConstants)
    trace.logits = weights.lmHead(trace.finalNormOutput)
    trace.next = Self.argmax(trace.logits)
    position += 1
    return trace
  }

  /// Greedy decoding: feeds `prompt`, then each argmax back in; returns the
  /// `tokens` generated tokens.
  public mutating func generate(prompt: [Int], tokens: Int) -> [Int] {
    precondition(!prompt.isEmpty, "generation needs at least one prompt token")
    precondition(tokens >= 0, "token count must not be negative")
    var next = 0
    for token in prompt { next = step(token: token).next }
    var out: [Int] = []
    while out.count < tokens {
      out.append(next)
      if out.count < tokens { next = step(token: next).next }
    }
    return out
  }

  /// Index of the largest logit, the lowest index on ties.
  public static func argmax(_ logits: [Int32]) -> Int {
    var best = 0
    for i in logits.indices where logits[i] > logits[best] { best = i }
    return best
  }
}
