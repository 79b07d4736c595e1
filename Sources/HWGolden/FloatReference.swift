import Foundation
import HWSpec

/// The model math of docs/model.md in Float32, one function per formula.
///
/// "Float" means the norms, scales, nonlinearities and the residual stream are
/// Float32 with the exact library functions (`exp`, `sqrt`). The BitLinear
/// activation quantization to int8 is part of the model (the checkpoints were
/// trained with it), so it happens here too, and the ternary products are
/// exact integers (`PackedTernary.multiply`). Sums (mean of squares, softmax
/// denominators) run in Float32 in index order.
public enum FloatReference {
  /// RMSNorm: `x * (1 / sqrt(mean(x^2) + eps)) * gamma`, the order of the
  /// reference's fused kernel (rstd first, then x * rstd, then * gamma).
  public static func rmsNorm(_ x: [Float], gamma: [Float], eps: Float) -> [Float] {
    precondition(x.count == gamma.count, "RMSNorm: input length \(x.count) != gamma length \(gamma.count)")
    var sumSquares: Float = 0
    for v in x { sumSquares += v * v }
    let rstd = 1 / (sumSquares / Float(x.count) + eps).squareRoot()
    return (0..<x.count).map { x[$0] * rstd * gamma[$0] }
  }

  /// Per-token absmax int8 quantization: `sx = 127 / max(max|x|, 1e-5)`,
  /// `q = clamp(round(x * sx), -128, 127)` with round half away from zero
  /// (CUDA `round`, what the fused kernel executes). Returns q and sx.
  public static func quantizeActivations(_ x: [Float]) -> (values: [Int8], scale: Float) {
    var absMax: Float = 0
    for v in x { absMax = max(absMax, abs(v)) }
    let scale = 127 / max(absMax, 1e-5)
    let q = x.map { v -> Int8 in
      let r = (v * scale).rounded(.toNearestOrAwayFromZero)
      return Int8(min(max(r, -128), 127))
    }
    return (q, scale)
  }

  /// BitLinear: the projection's own RMSNorm, int8 quantization, the exact
  /// ternary mat-vec, then `y = acc * beta / sx` (evaluated left to right).
  public static func bitLinear(_ x: [Float], _ p: BitLinearWeights, eps: Float) -> [Float] {
    let (q, sx) = quantizeActivations(rmsNorm(x, gamma: p.normGamma, eps: eps))
    let beta = p.beta
    return p.weight.multiply(q).map { Float($0) * beta / sx }
  }

  /// 1 / (1 + exp(-z)).
  @inline(__always)
  public static func sigmoid(_ z: Float) -> Float { 1 / (1 + exp(-z)) }

  /// z * sigmoid(z).
  @inline(__always)
  public static func silu(_ z: Float) -> Float { z * sigmoid(z) }

  /// Index of the largest value; the lowest index wins a tie (torch.argmax).
  public static func argmax(_ x: [Float]) -> Int {
    precondition(!x.isEmpty, "argmax of an empty vector")
    var best = 0
    for k in 1..<x.count where x[k] > x[best] { best = k }
    return best
  }
}

/// The whole model in Float32 (see `FloatReference`), one token at a time,
/// batch 1, with its recurrent state: one D-vector h per layer, starting at 0.
public struct FloatReferenceModel: Sendable {
  public let weights: ModelWeights
  /// h of every layer after the last step.
  public private(set) var state: [[Float]]
  /// Tokens consumed since the last reset.
  public private(set) var position = 0

  /// What one step computed, for measuring another model's drift layer by layer.
  public struct Trace: Sendable {
    /// The MLGRU output y of each layer (before residual 1).
    public var mixerOutputs: [[Float]] = []
    /// The residual stream after each block (the input of the next one).
    public var layerOutputs: [[Float]] = []
    /// RMSNorm_final of the last layer's output (the lm_head's input).
    public var finalNormOutput: [Float] = []
    public var logits: [Float] = []
    public var next = 0
  }

  public init(weights: ModelWeights) {
    self.weights = weights
    state = Self.zeroState(weights.config)
  }

  private static func zeroState(_ config: ModelConfig) -> [[Float]] {
    [[Float]](repeating: [Float](repeating: 0, count: config.hiddenSize), count: config.layers)
  }

  /// Back to h = 0 in every layer.
  public mutating func reset() {
    state = Self.zeroState(weights.config)
    position = 0
  }

  /// Consumes `token`; returns the logits and their argmax (the greedy next token).
  public mutating func step(token: Int) -> (logits: [Float], next: Int) {
    let t = stepTraced(token: token)
    return (t.logits, t.next)
  }

  /// `step` that also returns every layer's intermediate vectors.
  public mutating func stepTraced(token: Int) -> Trace {
    let config = weights.config
    let eps = Float(config.rmsNormEps)
    var trace = Trace()
    var x = Array(weights.embedding(token: token))
    for (l, layer) in weights.layers.enumerated() {
      let a = FloatReference.rmsNorm(x, gamma: layer.attnNorm, eps: eps)
      let y = mlgru(a, layer: l, eps: eps)
      let s = (0..<x.count).map { y[$0] + x[$0] }
      let m = FloatReference.rmsNorm(s, gamma: layer.mlpNorm, eps: eps)
      let glu = Self.glu(m, layer, eps: eps)
      x = (0..<s.count).map { s[$0] + glu[$0] }
      trace.mixerOutputs.append(y)
      trace.layerOutputs.append(x)
    }
    trace.finalNormOutput = FloatReference.rmsNorm(x, gamma: weights.finalNorm, eps: eps)
    trace.logits = FloatReference.bitLinear(trace.finalNormOutput, weights.lmHead, eps: eps)
    trace.next = FloatReference.argmax(trace.logits)
    position += 1
    return trace
  }

  /// The MLGRU token mixer of layer `l`; updates `state[l]`.
  private mutating func mlgru(_ a: [Float], layer l: Int, eps: Float) -> [Float] {
    let layer = weights.layers[l]
    let d = a.count
    var f = FloatReference.bitLinear(a, layer.f, eps: eps).map(FloatReference.sigmoid)
    if l > 0 {
      let lb = weights.lowerBounds[l]
      for k in 0..<d { f[k] = lb[k] + (1 - lb[k]) * f[k] }
    }
    let i = FloatReference.bitLinear(a, layer.i, eps: eps)
    var h = state[l]
    for k in 0..<d {
      let c = FloatReference.silu(i[k]) * (1 - f[k])
      h[k] = f[k] * h[k] + c
    }
    state[l] = h
    let g = FloatReference.bitLinear(a, layer.g, eps: eps)
    let gn = FloatReference.rmsNorm(g, gamma: layer.gNorm, eps: eps)
    let gated = (0..<d).map { gn[$0] * FloatReference.silu(h[$0]) }
    return FloatReference.bitLinear(gated, layer.o, eps: eps)
  }

  /// The GLU channel mixer: [gate | u] = gate_proj(m), down_proj(SiLU(gate) * u).
  private static func glu(_ m: [Float], _ layer: LayerWeights, eps: Float) -> [Float] {
    let gu = FloatReference.bitLinear(m, layer.gate, eps: eps)
    let half = gu.count / 2
    let p = (0..<half).map { FloatReference.silu(gu[$0]) * gu[half + $0] }
    return FloatReference.bitLinear(p, layer.down, eps: eps)
  }

  /// Greedy decoding from the current state: feeds `prompt`, then each argmax
  /// back in; returns the `tokens` generated tokens (the prompt not included).
  public mutating func generate(prompt: [Int], tokens: Int) -> [Int] {
    precondition(!prompt.isEmpty, "generation needs at least one prompt token")
    precondition(tokens >= 0, "token count must not be negative")
    var next = 0
    for t in prompt { next = step(token: t).next }
    var out: [Int] = []
    out.reserveCapacity(tokens)
    while out.count < tokens {
      out.append(next)
      if out.count < tokens { next = step(token: next).next }
    }
    return out
  }
}
