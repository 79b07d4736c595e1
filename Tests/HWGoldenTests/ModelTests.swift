import Dispatch
import Foundation
import HWGolden
import HWSpec
import HWSupport
import Testing

@Suite struct ModelTests {
  // MARK: Config

  @Test func presetShapesAndCountsMatchTheModelTable() {
    // docs/model.md, "Sizes": D, L, I, vocab, weights per layer, per token (M), packed (MB).
    let table: [(ModelConfig, Int, Int, Int, Int, Int, String, String)] = [
      (.m370, 1024, 24, 2816, 32000, 12_845_056, "341.0", "85.3"),
      (.b1_3, 2048, 24, 5632, 32000, 51_380_224, "1298.7", "324.7"),
      (.b2_7, 2560, 32, 6912, 32000, 79_298_560, "2619.5", "654.9"),
    ]
    for (c, d, l, i, vocab, perLayer, perTokenM, packedMB) in table {
      #expect(c.hiddenSize == d && c.layers == l && c.intermediateSize == i && c.vocabSize == vocab, "\(c)")
      #expect(ModelConfig.intermediateSize(hiddenSize: d) == i)
      #expect(c.ternaryWeightsPerLayer == perLayer, "\(c.name)")
      #expect(c.ternaryWeightsPerLayer == 4 * d * d + 3 * d * i)
      #expect(c.ternaryWeightsPerToken == l * perLayer + vocab * d)
      #expect(String(format: "%.1f", Double(c.ternaryWeightsPerToken) / 1e6) == perTokenM, "\(c.name)")
      #expect(String(format: "%.1f", Double(c.packedTernaryBytes) / 1e6) == packedMB, "\(c.name)")
      #expect(c.rmsNormEps == 1e-6)
      #expect(c.longestReduction == i)
    }
    #expect(ModelConfig.b1_3.ternaryWeightsPerToken == 1_298_661_376)
  }

  @Test func tinyAndCustomConfigs() throws {
    let tiny = ModelConfig.tiny
    #expect(tiny.hiddenSize == 128 && tiny.layers == 2 && tiny.intermediateSize == 512 && tiny.vocabSize == 512)
    let odd = ModelConfig(name: "tiny-96", hiddenSize: 96, layers: 2, vocabSize: 300)
    #expect(odd.intermediateSize == 256)
    try odd.validate()
    #expect(odd.shape(of: .gate) == (512, 96))
    #expect(odd.shape(of: .down) == (96, 256))
    #expect(odd.shape(of: .lmHead) == (300, 96))
    #expect(odd.shape(of: .f) == (96, 96))
    #expect(odd.normParametersPerLayer == 9 * 96 + 256)
    #expect(throws: ModelConfig.Invalid.self) {
      try ModelConfig(name: "bad", hiddenSize: 0, layers: 1, vocabSize: 4).validate()
    }
  }

  @Test func presetLookupByName() throws {
    #expect(try ModelConfig.preset(named: "tiny") == .tiny)
    #expect(try ModelConfig.preset(named: "370m") == .m370)
    #expect(try ModelConfig.preset(named: "1.3B") == .b1_3)
    #expect(try ModelConfig.preset(named: "2.7b") == .b2_7)
    do {
      _ = try ModelConfig.preset(named: "7b")
      Issue.record("unknown name accepted")
    } catch let error as ModelConfig.Invalid {
      #expect(error.description == "unknown model '7b'; valid names: tiny, 370m, 1.3b, 2.7b")
    }
  }

  @Test func configRoundTripsThroughJSON() throws {
    let data = try JSONEncoder().encode(ModelConfig.b2_7)
    #expect(try JSONDecoder().decode(ModelConfig.self, from: data) == .b2_7)
  }

  // MARK: Packed ternary mat-vec

  @Test func packedMatVecMatchesTheSlowReference() throws {
    // Odd rows, columns not a multiple of 64, and shapes large enough for the two-thread path.
    let shapes = [(1, 1), (3, 5), (17, 133), (33, 64), (64, 128), (7, 200), (1, 6912), (520, 2100), (1025, 1000)]
    for (n, (rows, cols)) in shapes.enumerated() {
      let seed = UInt64(100 + n)
      var rng = SeededRandom(seed: seed)
      let m = TernaryWorkload.randomMatrix(rows: rows, cols: cols, using: &rng)
      let packed = PackedTernary(m, beta: 0.02)
      #expect(packed.matrix == m, "seed \(seed): pack/unpack round trip")
      for _ in 0..<3 {
        let a = TernaryWorkload.randomActivations(cols, using: &rng)
        let slow = try TernaryMatVec.multiply(m, a, accumulatorWidth: 32)
        let fast = packed.multiply(a)
        #expect(fast.map(Int64.init) == slow, "seed \(seed) shape \(rows) x \(cols)")
      }
    }
  }

  @Test func seededPackedMatricesMatchTheSlowReference() throws {
    for (n, (rows, cols, density)) in [(5, 70, 2.0 / 3.0), (64, 65, 0.1), (9, 128, 1.0), (300, 3000, 0.5)].enumerated() {
      let seed = UInt64(200 + n)
      let packed = PackedTernary.random(rows: rows, cols: cols, nonZeroFraction: density, beta: 0.03, rng: SeededRandom(seed: seed))
      var rng = SeededRandom(seed: seed ^ 0xABCD)
      let a = TernaryWorkload.randomActivations(cols, using: &rng)
      let slow = try TernaryMatVec.multiply(packed.matrix, a, accumulatorWidth: 32)
      #expect(packed.multiply(a).map(Int64.init) == slow, "seed \(seed) shape \(rows) x \(cols)")
    }
  }

  @Test func packedMatVecCorners() {
    for cols in [11264, 11263, 63, 1] {
      let minus128 = [Int8](repeating: -128, count: cols)
      let plus127 = [Int8](repeating: 127, count: cols)
      let plus = PackedTernary(TernaryMatrix(rows: 3, cols: cols, repeating: 1), beta: 1)
      let minus = PackedTernary(TernaryMatrix(rows: 2, cols: cols, repeating: -1), beta: 1)
      let zero = PackedTernary(TernaryMatrix(rows: 1, cols: cols, repeating: 0), beta: 1)
      let c = Int32(cols)
      #expect(plus.multiply(minus128) == [Int32](repeating: -128 * c, count: 3), "cols \(cols)")
      #expect(minus.multiply(minus128) == [128 * c, 128 * c], "cols \(cols)")
      #expect(zero.multiply(minus128) == [0], "cols \(cols)")
      #expect(plus.multiply(plus127) == [Int32](repeating: 127 * c, count: 3), "cols \(cols)")
      #expect(minus.multiply(plus127) == [-127 * c, -127 * c], "cols \(cols)")
    }
    // A single -1 against each extreme and zero.
    let one = PackedTernary(rows: 1, cols: 3, values: [-1, -1, 1], beta: 1)
    #expect(one.multiply([-128, 0, 127]) == [128 + 127])
    #expect(one.multiply([127, -128, -128]) == [-127 + 128 - 128])
  }

  @Test func activationPlanesAreTheCoreLayout() {
    var rng = SeededRandom(seed: 7)
    let a = TernaryWorkload.randomActivations(100, using: &rng)
    let planes = ActivationPlanes(a)
    #expect(planes.planes.count == 16)
    for (j, v) in a.enumerated() {
      for b in 0..<8 {
        let bit = (planes.planes[8 * (j / 64) + b] >> UInt64(j % 64)) & 1
        #expect(bit == UInt64((UInt8(bitPattern: v) >> UInt8(b)) & 1))
      }
    }
    // Padding columns are zero in every plane.
    #expect(planes.planes[8...].allSatisfy { $0 >> 36 == 0 })
  }

  @Test func seededRowsDependOnlyOnTheSeed() {
    // 1100 x 1024 takes the multi-threaded path, 64 x 1024 the serial one; the
    // shared rows must be identical.
    let rng = SeededRandom(seed: 42)
    let big = PackedTernary.random(rows: 1100, cols: 1024, beta: 0.02, rng: rng)
    let small = PackedTernary.random(rows: 64, cols: 1024, beta: 0.02, rng: rng)
    #expect(Array(big.planes[0..<small.planes.count]) == small.planes)
    #expect(big == PackedTernary.random(rows: 1100, cols: 1024, beta: 0.02, rng: rng))
    // Bits past the last column stay zero.
    let odd = PackedTernary.random(rows: 10, cols: 70, nonZeroFraction: 1, beta: 1, rng: rng)
    #expect(odd.nonZeroCount == 700)
  }

  @Test func seededDensityAndSigns() {
    for fraction in [2.0 / 3.0, 0.5, 0.25] {
      let m = PackedTernary.random(rows: 256, cols: 1000, nonZeroFraction: fraction, beta: 1, rng: SeededRandom(seed: 3))
      let nz = Double(m.nonZeroCount) / 256_000
      let expected = (fraction * 256).rounded(.down) / 256
      #expect(abs(nz - expected) < 0.005, "fraction \(fraction): got \(nz)")
      let negShare = Double(m.negativeCount) / Double(m.nonZeroCount)
      #expect(abs(negShare - 0.5) < 0.01, "fraction \(fraction): negative share \(negShare)")
    }
  }

  // MARK: Synthetic weights

  @Test func syntheticWeightsAreDeterministic() {
    let a = ModelWeights.synthetic(.tiny, seed: 1)
    let b = ModelWeights.synthetic(.tiny, seed: 1)
    let c = ModelWeights.synthetic(.tiny, seed: 2)
    #expect(a == b)
    #expect(a.embedding.withUnsafeBytes { Array($0) } == b.embedding.withUnsafeBytes { Array($0) })
    #expect(a.embedding != c.embedding)
    #expect(a.layers[0].i.weight.planes != c.layers[0].i.weight.planes)
    #expect(a.layers[1].gate.normGamma != c.layers[1].gate.normGamma)
    #expect(a.lowerBoundsRaw != c.lowerBoundsRaw)
    // Projections of one model are not copies of each other.
    #expect(a.layers[0].i.weight.planes != a.layers[0].f.weight.planes)
    #expect(a.layers[0].i.weight.planes != a.layers[1].i.weight.planes)
  }

  @Test func syntheticShapesFollowTheConfig() {
    let config = ModelConfig(name: "tiny-96", hiddenSize: 96, layers: 3, intermediateSize: 200, vocabSize: 300)
    let w = ModelWeights.synthetic(config, seed: 5)
    #expect(w.embedding.count == 300 * 96)
    #expect(w.layers.count == 3)
    for layer in w.layers {
      for p in ModelConfig.Projection.perLayer {
        let s = config.shape(of: p), proj = layer.projection(p)
        #expect(proj.rows == s.rows && proj.cols == s.cols && proj.normGamma.count == s.cols, "\(p)")
      }
    }
    #expect(w.lmHead.rows == 300 && w.lmHead.cols == 96)
    #expect(w.allProjections.count == 3 * 6 + 1)
    #expect(w.allProjections.reduce(0) { $0 + $1.rows * $1.cols } == config.ternaryWeightsPerToken)
  }

  @Test func syntheticWeightsLookTrained() {
    let w = ModelWeights.synthetic(.tiny, seed: 9)
    let projections = w.allProjections
    // About a third of the ternary weights are zero, signs balanced.
    let total = projections.reduce(0) { $0 + $1.rows * $1.cols }
    let nonZero = projections.reduce(0) { $0 + $1.weight.nonZeroCount }
    let negative = projections.reduce(0) { $0 + $1.weight.negativeCount }
    let density = Double(nonZero) / Double(total)
    #expect(abs(density - 171.0 / 256) < 0.005, "density \(density)")
    #expect(abs(Double(negative) / Double(nonZero) - 0.5) < 0.01)
    // The density is a parameter.
    let half = ModelWeights.synthetic(.tiny, seed: 9, distribution: .init(nonZeroFraction: 0.5)).allProjections
    let halfDensity = Double(half.reduce(0) { $0 + $1.weight.nonZeroCount }) / Double(total)
    #expect(abs(halfDensity - 0.5) < 0.005, "density \(halfDensity)")
    // Betas in range and different per projection.
    let betas = projections.map(\.beta)
    #expect(betas.allSatisfy { $0 >= 0.01 && $0 <= 0.05 })
    #expect(Set(betas).count == betas.count)
    // Gammas: positive, spread, with outlier channels, different per site.
    let gammas = [w.finalNorm, w.lmHead.normGamma] + w.layers.flatMap { [$0.attnNorm, $0.mlpNorm, $0.gNorm, $0.i.normGamma, $0.down.normGamma] }
    for g in gammas {
      #expect(g.allSatisfy { $0 > 0 && $0.isFinite })
      let sorted = g.sorted()
      let median = sorted[sorted.count / 2]
      #expect(sorted.last! / median > 4, "an outlier channel at least 4x the median")
      let logs = g.map { log(Double($0)) }
      let mean = logs.reduce(0, +) / Double(logs.count)
      let sd = (logs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(logs.count)).squareRoot()
      #expect(sd > 0.25, "log-gamma spread \(sd)")
    }
    #expect(Set(gammas.map { $0.sorted()[$0.count / 2] }).count == gammas.count, "each site has its own level")
    // Embedding: finite, row norms spread over more than an order of magnitude, BF16 values.
    let d = w.config.hiddenSize
    let rms = (0..<w.config.vocabSize).map { t -> Float in
      let row = w.embedding(token: t)
      return (row.reduce(0) { $0 + $1 * $1 } / Float(d)).squareRoot()
    }
    #expect(rms.max()! / rms.min()! > 10)
    #expect(w.embedding.allSatisfy { $0.isFinite && $0.bitPattern & 0xFFFF == 0 })
  }

  // MARK: Lower bounds

  /// The reference's precompute written out in Double, column by column.
  static func straightforwardLowerBounds(_ raw: [Float], layers: Int, d: Int) -> [[Double]] {
    (0..<layers).map { l in
      (0..<d).map { c in
        let e = (0..<layers).map { exp(Double(raw[$0 * d + c])) }
        let sum = e.reduce(0, +)
        let p = e.map { $0 / sum }
        return p[0...l].reduce(0, +) - p[0]
      }
    }
  }

  @Test func lowerBoundPrecompute() {
    let config = ModelConfig(name: "lb", hiddenSize: 40, layers: 6, vocabSize: 8)
    let w = ModelWeights.synthetic(config, seed: 11)
    let lb = w.lowerBounds
    let expected = Self.straightforwardLowerBounds(w.lowerBoundsRaw, layers: 6, d: 40)
    for l in 0..<6 {
      for c in 0..<40 {
        #expect(abs(Double(lb[l][c]) - expected[l][c]) < 1e-6, "layer \(l) channel \(c)")
        #expect(lb[l][c] >= 0 && lb[l][c] < 1)
        if l > 0 { #expect(lb[l][c] >= lb[l - 1][c], "monotone in l, channel \(c)") }
      }
    }
    #expect(lb[0].allSatisfy { $0 == 0 })
    // Non-uniform across channels and unlike the untrained l / L.
    #expect(Set(lb[1]).count > 30)
    let spread = lb[3].max()! - lb[3].min()!
    #expect(spread > 0.2, "LB[3] spread \(spread)")
    // Zero raw values give the untrained bounds l / L.
    let flat = ModelWeights.lowerBounds(raw: [Float](repeating: 0, count: 4 * 3), layers: 4, hiddenSize: 3)
    for l in 0..<4 { #expect(flat[l].allSatisfy { abs($0 - Float(l) / 4) < 1e-6 }) }
  }

  // MARK: Float reference

  @Test func activationQuantizationRoundsHalfAwayFromZero() {
    // max |x| = 127, so sx = 1 and x * sx is exact.
    let (q, sx) = FloatReference.quantizeActivations([127, 0.5, -0.5, 1.5, -2.5, -127, 0])
    #expect(sx == 1)
    #expect(q == [127, 1, -1, 2, -3, -127, 0])
    let (zeros, zs) = FloatReference.quantizeActivations([0, 0])
    #expect(zeros == [0, 0] && zs == 127 / 1e-5)
  }

  @Test func bitLinearMatchesTheFormula() throws {
    let w = ModelWeights.synthetic(.tiny, seed: 4)
    let p = w.layers[0].down
    var rng = SeededRandom(seed: 8)
    let x = (0..<p.cols).map { _ in Float(Int(rng.next() % 2001) - 1000) / 100 }
    let y = FloatReference.bitLinear(x, p, eps: 1e-6)
    // Written out in Double apart from the int8 step.
    let ms = x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(x.count)
    let xn = (0..<x.count).map { Double(x[$0]) / (ms + 1e-6).squareRoot() * Double(p.normGamma[$0]) }
    let sx = 127 / xn.map(abs).max()!
    let q = xn.map { Int8(max(-128, min(127, ($0 * sx).rounded(.toNearestOrAwayFromZero)))) }
    let acc = try TernaryMatVec.multiply(p.weight.matrix, q, accumulatorWidth: 32)
    for r in 0..<p.rows {
      let ref = Double(acc[r]) * Double(p.beta) / sx
      #expect(abs(Double(y[r]) - ref) <= 1e-4 * max(1, abs(ref)), "row \(r): \(y[r]) vs \(ref)")
    }
  }

  @Test func floatReferenceRunsTinyDeterministically() {
    let weights = ModelWeights.synthetic(.tiny, seed: 1)
    var model = FloatReferenceModel(weights: weights)
    var again = FloatReferenceModel(weights: weights)
    let tokens = [1, 17, 300, 17, 511]
    var steps: [(logits: [Float], next: Int)] = []
    for t in tokens {
      let s = model.step(token: t)
      #expect(s.logits.count == 512)
      #expect(s.logits.allSatisfy { $0.isFinite })
      #expect(s.next == FloatReference.argmax(s.logits))
      #expect(s.logits[s.next] == s.logits.max()!)
      let r = again.step(token: t)
      #expect(r.logits == s.logits && r.next == s.next, "same weights, same tokens, same logits")
      steps.append(s)
    }
    #expect(model.position == 5)
    #expect(model.state.allSatisfy { $0.contains { $0 != 0 } })
    // State is carried: token 17 the second time differs from a fresh model's token 17.
    var fresh = FloatReferenceModel(weights: weights)
    let first17 = fresh.step(token: 17)
    #expect(first17.logits != steps[3].logits)
    #expect(steps[1].logits != steps[3].logits)
    // reset() forgets it.
    model.reset()
    #expect(model.step(token: 1).logits == steps[0].logits)
  }

  @Test func floatReferenceGeneratesGreedily() {
    let config = ModelConfig(name: "tiny-96", hiddenSize: 96, layers: 3, vocabSize: 300)
    let weights = ModelWeights.synthetic(config, seed: 3)
    var a = FloatReferenceModel(weights: weights)
    let generated = a.generate(prompt: [5, 6, 7], tokens: 6)
    #expect(generated.count == 6)
    #expect(generated.allSatisfy { (0..<300).contains($0) })
    // The same by hand, step by step, with traces.
    var b = FloatReferenceModel(weights: weights)
    var next = 0
    for t in [5, 6, 7] { next = b.step(token: t).next }
    var manual: [Int] = []
    for _ in 0..<6 {
      manual.append(next)
      let trace = b.stepTraced(token: next)
      #expect(trace.layerOutputs.count == 3 && trace.mixerOutputs.count == 3)
      #expect(trace.layerOutputs.allSatisfy { $0.count == 96 && $0.allSatisfy { $0.isFinite } })
      next = trace.next
    }
    #expect(generated == manual)
  }
}

// MARK: Opt-in benchmark

/// `HWGEN_BENCH=1 swift test -c release --filter ModelBench`: synthetic weight
/// generation time and float-reference tokens/s for 370m and 1.3b.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["HWGEN_BENCH"] != nil))
struct ModelBench {
  static func seconds(_ body: () -> Void) -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
  }

  @Test(arguments: [ModelConfig.m370, ModelConfig.b1_3])
  func syntheticAndFloatReference(config: ModelConfig) {
    var weights: ModelWeights?
    let generation = Self.seconds { weights = ModelWeights.synthetic(config, seed: 1) }
    var model = FloatReferenceModel(weights: weights!)
    _ = model.step(token: 1)  // warm-up
    let tokens = 8
    var out: [Int] = []
    let run = Self.seconds { out = model.generate(prompt: [2], tokens: tokens) }
    let words = weights!.allProjections.reduce(0) { $0 + $1.rows * $1.weight.wordsPerRow }
    let planes = ActivationPlanes([Int8](repeating: 3, count: config.hiddenSize))
    var y: [Int32] = []
    let head = Self.seconds { for _ in 0..<10 { y = weights!.lmHead.weight.multiply(planes) } }
    func f(_ x: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }
    print(
      "\(config.name): synthetic weights \(f(generation)) s; float reference \(f(Double(tokens) / run)) tokens/s"
        + " (\(f(run / Double(tokens) * 1000, 0)) ms/token, \(words) packed words/token,"
        + " \(f(run / Double(tokens) / Double(words) * 1e9)) ns/word); lm_head mat-vec \(f(head / 10 * 1000, 1)) ms"
        + " (\(y.count) rows); generated \(out)")
  }
}
