import Foundation
import HWGolden
import HWSpec
import HWSupport
import Testing

private func scratch() -> URL {
  ScratchDirectory.make("hwgen-ckpt")
}

/// The reference's weight_quant written out the plain way: |W| summed in
/// Double, beta = max(mean, 1e-5) in Float32, each weight times 1/beta in
/// Float32, rounded half to even by hand, clamped.
private func referenceTernarize(_ w: [Float]) -> (beta: Float, values: [Int8]) {
  var sum = 0.0
  for x in w { sum += Double(abs(x)) }
  let beta = max(Float(sum / Double(w.count)), Float(1e-5))
  let scale: Float = 1 / beta
  func roundHalfEven(_ y: Float) -> Float {
    let low = y.rounded(.down), fraction = y - low
    if fraction > 0.5 { return low + 1 }
    if fraction < 0.5 { return low }
    return low.truncatingRemainder(dividingBy: 2) == 0 ? low : low + 1
  }
  return (beta, w.map { x in Int8(max(-1, min(1, roundHalfEven(x * scale)))) })
}

/// The model a checkpoint holds, built in memory from the fixture's values
/// with `referenceTernarize` and the public `PackedTernary` packer.
private func referenceWeights(_ ckpt: CheckpointFixture.Checkpoint, _ s: CheckpointFixture.Shape, name: String) -> ModelWeights {
  func v(_ n: String) -> [Float] { CheckpointFixture.values(ckpt[n]!) }
  func proj(_ module: String, _ rows: Int, _ cols: Int) -> BitLinearWeights {
    let (beta, values) = referenceTernarize(v(module + ".weight"))
    return BitLinearWeights(weight: PackedTernary(rows: rows, cols: cols, values: values, beta: beta), normGamma: v(module + ".norm.weight"))
  }
  let config = ModelConfig(name: name, hiddenSize: s.hidden, layers: s.layers, intermediateSize: s.intermediate, vocabSize: s.vocab)
  let layers = (0..<s.layers).map { l -> LayerWeights in
    let p = CheckpointFixture.projections(s, layer: l).map { proj($0.0, $0.1, $0.2) }
    return LayerWeights(
      attnNorm: v("model.layers.\(l).attn_norm.weight"), i: p[0], f: p[1], g: p[2], o: p[3],
      gNorm: v("model.layers.\(l).attn.g_norm.weight"), mlpNorm: v("model.layers.\(l).mlp_norm.weight"), gate: p[4], down: p[5])
  }
  return ModelWeights(
    config: config, embedding: v("model.embeddings.weight"), layers: layers, lowerBoundsRaw: v("model.lower_bounds"),
    finalNorm: v("model.norm.weight"), lmHead: proj("lm_head", s.vocab, s.hidden))
}

private func files(_ dir: URL) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted() }

@Suite("Checkpoint import: safetensors reader, ternarization, model directory")
struct CheckpointTests {
  // MARK: Reader

  @Test("tensor values round-trip through the reader in BF16, F16 and F32, with metadata, in any data order")
  func valuesRoundTrip() throws {
    let bf16: [Float] = [0, -0.0, 1, -2.5, 0.0078125, 3.3895314e38, -1.1754944e-38, Float(bitPattern: 0x0001_0000)].map(CheckpointFixture.bf16)
    let f16: [Float] = [0, -0.0, 1, -65504, 0x1p-24, -0x1p-14, 0.333251953125, 1000.5]
    var rng = CheckpointFixture.SplitMix(7)
    let f32: [Float] = (0..<37).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0xBFFF_FFFF) }  // finite
    let tensors = [
      CheckpointFixture.Tensor("z.f32", [37], f32, dtype: "F32"),
      CheckpointFixture.Tensor("a.bf16", [2, 4], bf16),
      CheckpointFixture.Tensor("m.f16", [8, 1], f16, dtype: "F16"),
    ]
    let url = scratch().appendingPathComponent("t.safetensors")
    try CheckpointFixture.safetensors(tensors, metadata: ["format": "pt", "note": "x"]).write(to: url)
    let file = try SafeTensorsFile(url)
    #expect(file.tensors.map(\.name) == ["a.bf16", "m.f16", "z.f32"])
    #expect(file.metadata == ["format": "pt", "note": "x"])
    #expect(file["a.bf16"]!.shape == [2, 4] && file["a.bf16"]!.dtype == .bf16)
    for (name, expected) in [("a.bf16", bf16), ("m.f16", f16), ("z.f32", f32)] {
      let got = try file.floats(file[name]!)
      #expect(got.map(\.bitPattern) == expected.map(\.bitPattern), "\(name)")
    }
    // Every F16 bit pattern that is finite converts exactly (checked against the F32 writer's view).
    for bits in stride(from: 0, through: 0xFFFF, by: 1) where bits & 0x7C00 != 0x7C00 {
      let x = SafeTensorsFile.halfToFloat(UInt16(bits))
      #expect(CheckpointFixture.f16Bits(x) == UInt16(bits) || (bits == 0x8000 && x.bitPattern == 0x8000_0000))
    }
  }

  @Test("a NaN or an infinity names the tensor and the element")
  func nonFiniteValues() throws {
    let url = scratch().appendingPathComponent("t.safetensors")
    try CheckpointFixture.safetensors([CheckpointFixture.Tensor("w", [2, 3], [0, 1, 2, 3, .nan, 5])]).write(to: url)
    let file = try SafeTensorsFile(url)
    #expect(throws: CheckpointError.self) { try file.floats(file["w"]!) }
    do { _ = try file.floats(file["w"]!) } catch let e as CheckpointError { #expect(e.description.hasSuffix("t.safetensors: tensor w: element (1, 1) is NaN")) }
  }

  @Test("config.json: a null intermediate_size is derived from hidden_ratio as the reference does; the presets' shapes come out")
  func configIntermediateSize() throws {
    func parse(_ fields: [String: Any]) throws -> HGRNBitConfig {
      var config = CheckpointFixture.config(.init())
      for (k, v) in fields { config[k] = v }
      return try HGRNBitConfig.parse(JSONSerialization.data(withJSONObject: config), displayName: "config.json")
    }
    for preset in [ModelConfig.m370, .b1_3, .b2_7] {
      let c = try parse(["hidden_size": preset.hiddenSize, "num_hidden_layers": preset.layers, "vocab_size": preset.vocabSize, "intermediate_size": NSNull()])
      #expect(c.intermediateSizeDerived && c.modelConfig(name: preset.name) == preset, "\(preset.name)")
    }
    #expect(try parse(["hidden_size": 1024, "intermediate_size": NSNull(), "hidden_ratio": 2]).intermediateSize == 1536)  // int(1024 * 2 * 2 / 3) = 1365 -> 1536
    #expect(try parse(["intermediate_size": 300]).intermediateSize == 300)
    #expect(throws: CheckpointError.self) { try parse(["hidden_size": 12.5]) }
    #expect(throws: CheckpointError.self) { try parse(["use_lower_bound": 1]) }  // a number is not a boolean
    #expect(throws: CheckpointError.self) { try parse(["num_heads": 4]) }
  }

  // MARK: Ternarization

  @Test("ternarization and beta equal a straightforward implementation of weight_quant", arguments: [UInt64(1), 2, 3, 4])
  func ternarizationMatchesReference(seed: UInt64) {
    var rng = CheckpointFixture.SplitMix(seed)
    let rows = [1, 3, 17, 64][Int(seed) - 1], cols = [1, 63, 64, 130][Int(seed) - 1]
    let scale = Float(rng.next() % 1000 + 1) * 1e-4
    let w = (0..<rows * cols).map { _ in CheckpointFixture.bf16(scale * (Float(rng.next() >> 40) / Float(1 << 23) - 1)) }
    let packed = Ternarize.matrix(w, rows: rows, cols: cols)
    let (beta, values) = referenceTernarize(w)
    #expect(packed.beta.bitPattern == beta.bitPattern, "seed \(seed)")
    #expect(packed.matrix.values == values, "seed \(seed)")
    #expect(packed == PackedTernary(rows: rows, cols: cols, values: values, beta: beta), "seed \(seed)")
  }

  @Test("exact .5 ties round half to even (0.5 -> 0, 1.5 -> 2 -> 1), and the 1e-5 floor on beta")
  func tiesAndFloor() {
    // mean |W| = 0.25 exactly, so W * (1 / beta) = 4W exactly.
    let w: [Float] = [0.125, -0.125, 0.375, -0.375, 0.25, -0.25, 0.25, 0.25, 0.625, -0.625, 0, -0.0, 0.0625, 0.1875, -0.1875, 0.3125]
    #expect(w.reduce(0) { $0 + abs($1) } == 4.0)
    let packed = Ternarize.matrix(w, rows: 2, cols: 8)
    #expect(packed.beta == 0.25)
    #expect(packed.matrix.values == [0, 0, 1, -1, 1, -1, 1, 1, 1, -1, 0, 0, 0, 1, -1, 1])
    #expect(packed.matrix.values == referenceTernarize(w).values)
    // Half away from zero would give +-1 for the first two: the test can tell the rules apart.
    #expect(w[0] * 4 == 0.5 && w[1] * 4 == -0.5)

    let tiny: [Float] = [1e-7, -3e-6, 0, 6e-6]
    let floored = Ternarize.matrix(tiny, rows: 1, cols: 4)
    #expect(floored.beta == Float(1e-5))
    #expect(floored.matrix.values == [0, 0, 0, 1])  // 6e-6 / 1e-5 = 0.6 rounds to 1
    #expect(Ternarize.matrix([0, 0, 0], rows: 1, cols: 3).matrix.values == [0, 0, 0])
  }

  // MARK: Import and load

  @Test("a tiny BF16 checkpoint, unsharded and in 3 shards, imports to the model built in memory: equal weights, identical tokens", arguments: [1, 3])
  func importedModelEqualsInMemoryModel(shards: Int) throws {
    let shape = CheckpointFixture.Shape()
    let ckpt = CheckpointFixture.checkpoint(shape, seed: 11)
    let root = scratch()
    let source = root.appendingPathComponent("mmfree-tiny")
    try ckpt.write(to: source, shards: shards)
    let out = root.appendingPathComponent("model")
    let summary = try CheckpointImport.run(source, to: out)
    #expect(summary.shards == shards)
    #expect(files(out) == ["embedding.bin", "lower_bounds.bin", "manifest.json", "scales.bin", "ternary.bin", "vectors.bin"])
    #expect(files(root) == ["mmfree-tiny", "model"], "no staging directory left")

    let (loaded, info) = try ModelDirectory.load(out)
    let reference = referenceWeights(ckpt, shape, name: "mmfree-tiny")
    #expect(loaded == reference)
    #expect(info.name == "mmfree-tiny")
    #expect(info.summary.hasPrefix("imported mmfree-tiny (source sha256 "))

    // Sources are hashed: config.json's SHA-256 as HWSupport computes it from the text.
    let configText = try String(contentsOf: source.appendingPathComponent("config.json"), encoding: .utf8)
    let manifest = info.manifest
    let config = manifest.checkpoint.sources[0]
    #expect(config.file == "config.json" && config.bytes == configText.utf8.count && config.sha256 == SHA256.hex(configText))
    #expect(manifest.checkpoint.sources.count == 1 + (shards > 1 ? 1 + shards : 1))
    #expect(manifest.checkpoint.dtypes == ["BF16"])
    #expect(manifest.conversion["base3Packing"]?.hasPrefix("not written (hwgen import --packing base3") == true)

    var imported = FixedPointModel(weights: loaded)
    var inMemory = FixedPointModel(weights: reference)
    let tokens = imported.generate(prompt: [3, 200, 17], tokens: 6)
    #expect(tokens == inMemory.generate(prompt: [3, 200, 17], tokens: 6))
    #expect(Set(tokens).count > 1 || tokens.count == 6)
  }

  /// A fresh scratch directory with `ckpt` written into its `ckpt` folder.
  private func written(_ ckpt: CheckpointFixture.Checkpoint) throws -> (root: URL, source: URL) {
    let root = scratch()
    let source = root.appendingPathComponent("ckpt")
    try ckpt.write(to: source)
    return (root, source)
  }

  @Test("importing twice gives identical bytes; sharded and unsharded give the same arrays")
  func deterministicOutput() throws {
    let ckpt = CheckpointFixture.checkpoint(seed: 5)
    let (root, source) = try written(ckpt)
    let sharded = root.appendingPathComponent("ckpt-sharded")
    try ckpt.write(to: sharded, shards: 2)
    let a = root.appendingPathComponent("a"), b = root.appendingPathComponent("b"), c = root.appendingPathComponent("c")
    _ = try CheckpointImport.run(source, to: a)
    _ = try CheckpointImport.run(source.appendingPathComponent("model.safetensors"), to: b)
    _ = try CheckpointImport.run(sharded.appendingPathComponent("model.safetensors.index.json"), to: c)
    for name in files(a) {
      #expect(FileManager.default.contentsEqual(atPath: a.appendingPathComponent(name).path, andPath: b.appendingPathComponent(name).path), "\(name)")
      if name != "manifest.json" {
        #expect(FileManager.default.contentsEqual(atPath: a.appendingPathComponent(name).path, andPath: c.appendingPathComponent(name).path), "\(name)")
      }
    }
  }

  @Test("--packing base3: ternary.bin holds five weights a byte, a fifth smaller, and loads to the same model as the planes; a reserved code is an error naming the tensor")
  func base3Import() throws {
    let (root, source) = try written(CheckpointFixture.checkpoint(seed: 7))
    let planes = root.appendingPathComponent("planes"), base3 = root.appendingPathComponent("base3")
    _ = try CheckpointImport.run(source, to: planes)
    let summary = try CheckpointImport.run(source, to: base3, packing: .base3)
    let (a, _) = try ModelDirectory.load(planes)
    let (b, info) = try ModelDirectory.load(base3)
    #expect(a == b)
    #expect(info.manifest.conversion["base3Packing"] == ModelDirectory.base3Rule)
    // Each matrix ceil(rows * cols / 5) bytes, row-major, digit w mod 3.
    let first = try #require(summary.manifest.arrays.first { $0.encoding == "ternary-base3" })
    let weight = a.layers[0].i.weight
    #expect(first.name == "model.layers.0.attn.i_proj.weight" && first.bytes == (weight.rows * weight.cols + 4) / 5)
    let bytes = [UInt8](try Data(contentsOf: base3.appendingPathComponent("ternary.bin")))
    let digits = (0..<5).map { k in Int(weight[0, k] < 0 ? 2 : weight[0, k]) }
    #expect(Int(bytes[first.offset]) == zip(digits, TritPacking.placeValues).reduce(0) { $0 + $1.0 * $1.1 })
    let size = { (dir: URL) in try Data(contentsOf: dir.appendingPathComponent("ternary.bin")).count }
    let (base3Size, planesSize) = (try size(base3), try size(planes))
    #expect(base3Size * 5 <= planesSize * 4 + 5 * 64)
    try rewrite(base3, "ternary.bin") { bytes in bytes[first.offset + 1] = 243 }
    #expect(loadError(base3).contains("tensor model.layers.0.attn.i_proj.weight: byte 1: 243 is not a base-3 code"))
  }

  @Test("F16 and F32 checkpoints import to the same model as the BF16 one holding the same values")
  func otherDTypes() throws {
    let root = scratch()
    let bf16 = CheckpointFixture.checkpoint(seed: 3)
    var f32 = bf16
    f32.tensors = bf16.tensors.map { CheckpointFixture.Tensor($0.name, $0.shape, CheckpointFixture.values($0), dtype: "F32") }
    try bf16.write(to: root.appendingPathComponent("bf16"))
    try f32.write(to: root.appendingPathComponent("f32"))
    _ = try CheckpointImport.run(root.appendingPathComponent("bf16"), to: root.appendingPathComponent("out-bf16"))
    _ = try CheckpointImport.run(root.appendingPathComponent("f32"), to: root.appendingPathComponent("out-f32"))
    let (a, _) = try ModelDirectory.load(root.appendingPathComponent("out-bf16"))
    let (b, info) = try ModelDirectory.load(root.appendingPathComponent("out-f32"))
    #expect(a.embedding == b.embedding && a.allProjections.map(\.weight) == b.allProjections.map(\.weight) && a.lowerBounds == b.lowerBounds)
    #expect(info.manifest.checkpoint.dtypes == ["F32"])
    // F16: a checkpoint of exactly representable values.
    let s = CheckpointFixture.Shape(hidden: 64, layers: 1, intermediate: 256, vocab: 70)
    var f16 = CheckpointFixture.checkpoint(s, seed: 4)
    f16.tensors = f16.tensors.map { t in
      CheckpointFixture.Tensor(t.name, t.shape, CheckpointFixture.values(t).map { ($0 * 1024).rounded() / 1024 }, dtype: "F16")
    }
    try f16.write(to: root.appendingPathComponent("f16"))
    _ = try CheckpointImport.run(root.appendingPathComponent("f16"), to: root.appendingPathComponent("out-f16"))
    let (h, _) = try ModelDirectory.load(root.appendingPathComponent("out-f16"))
    #expect(h.config.hiddenSize == 64 && h.config.vocabSize == 70)
    let expected = CheckpointFixture.values(CheckpointFixture.checkpoint(s, seed: 4)["model.norm.weight"]!).map { ($0 * 1024).rounded() / 1024 }
    #expect(h.finalNorm == expected)
  }

  // MARK: Load verification

  /// Imports a fixture and returns the model directory.
  private func imported() throws -> URL {
    let root = scratch()
    try CheckpointFixture.checkpoint(seed: 2).write(to: root.appendingPathComponent("ckpt"))
    let out = root.appendingPathComponent("model")
    _ = try CheckpointImport.run(root.appendingPathComponent("ckpt"), to: out)
    return out
  }

  /// Rewrites `file` of a model directory and fixes its size and hash in the manifest.
  private func rewrite(_ dir: URL, _ file: String, _ change: (inout [UInt8]) -> Void) throws {
    var bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent(file)))
    change(&bytes)
    try Data(bytes).write(to: dir.appendingPathComponent(file))
    let manifestURL = dir.appendingPathComponent("manifest.json")
    var manifest = try JSONDecoder().decode(ModelManifest.self, from: Data(contentsOf: manifestURL))
    var hasher = SHA256()
    hasher.update(bytes)
    let hex = hasher.hexDigest()
    for i in manifest.files.indices where manifest.files[i].name == file {
      manifest.files[i].bytes = bytes.count
      manifest.files[i].sha256 = hex
    }
    try JSONEncoder().encode(manifest).write(to: manifestURL)
  }

  private func loadError(_ dir: URL) -> String {
    do {
      _ = try ModelDirectory.load(dir)
      return "loaded"
    } catch {
      return "\(error)"
    }
  }

  @Test("load verifies hashes, sizes, the planes' invariants, betas and the precomputed lower bounds")
  func loadVerifies() throws {
    let changed = try imported()
    var bytes = [UInt8](try Data(contentsOf: changed.appendingPathComponent("ternary.bin")))
    bytes[100] ^= 1
    try Data(bytes).write(to: changed.appendingPathComponent("ternary.bin"))
    #expect(loadError(changed).contains("ternary.bin: SHA-256"))

    let truncated = try imported()
    try Data(try Data(contentsOf: truncated.appendingPathComponent("vectors.bin")).dropLast(4)).write(to: truncated.appendingPathComponent("vectors.bin"))
    #expect(loadError(truncated).contains("vectors.bin: \(try Data(contentsOf: truncated.appendingPathComponent("vectors.bin")).count) bytes, the manifest says"))

    // A negative bit without its non-zero bit, with the hash made to match.
    let reserved = try imported()
    try rewrite(reserved, "ternary.bin") { bytes in
      bytes[0] = 0  // row 0 word 0: clear the non-zero plane's low byte ...
      bytes[8] |= 1  // ... and set a negative bit there
    }
    #expect(loadError(reserved).contains("tensor model.layers.0.attn.i_proj.weight: row 0 word 0: reserved weight code"))

    let lowerBounds = try imported()
    try rewrite(lowerBounds, "lower_bounds.bin") { bytes in
      let at = bytes.count / 2 + 4 * 130  // layer 0 of the precomputed block is zeros; change layer 1 channel 2
      bytes[at] ^= 0x10
    }
    #expect(loadError(lowerBounds).contains("model.lower_bounds.precomputed: layer 1 channel 2: stored"))

    let beta = try imported()
    try rewrite(beta, "scales.bin") { bytes in bytes[0...3] = [0, 0, 0xC0, 0x7F] }  // NaN
    #expect(loadError(beta).contains("tensor model.layers.0.attn.i_proj.beta: element 0 is NaN"))

    let manifest = try imported()
    try Data("{\"format\": \"something\"}".utf8).write(to: manifest.appendingPathComponent("manifest.json"))
    #expect(loadError(manifest).contains("manifest.json: not an hwgen model manifest"))
  }
}
