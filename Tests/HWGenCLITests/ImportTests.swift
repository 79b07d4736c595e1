import Dispatch
import Foundation
import HWSupport
import Testing

/// Every name under `dir`, recursively, sorted.
private func tree(_ dir: URL) -> [String] {
  guard let enumerator = FileManager.default.enumerator(atPath: dir.path) else { return [] }
  return enumerator.compactMap { $0 as? String }.sorted()
}

/// A malformed-checkpoint case: how to spoil a good tiny checkpoint, and what the error must say.
struct BrokenCheckpoint: CustomStringConvertible, Sendable {
  let label: String
  let shards: Int
  /// Edits the checkpoint before it is written.
  let edit: @Sendable (inout CheckpointFixture.Checkpoint) -> Void
  /// Edits the written directory (bytes on disk).
  let damage: @Sendable (URL) throws -> Void
  /// Every string the one error line must contain.
  let expected: [String]

  init(
    _ label: String, shards: Int = 1, edit: @escaping @Sendable (inout CheckpointFixture.Checkpoint) -> Void = { _ in },
    damage: @escaping @Sendable (URL) throws -> Void = { _ in }, expect: [String]
  ) {
    self.label = label
    self.shards = shards
    self.edit = edit
    self.damage = damage
    self.expected = expect
  }

  var description: String { label }
}

private let model = "model.safetensors"

/// Rewrites model.safetensors with `change` applied to its bytes.
private func bytes(_ change: @escaping @Sendable (inout Data) -> Void) -> @Sendable (URL) throws -> Void {
  { dir in
    let url = dir.appendingPathComponent(model)
    var data = try Data(contentsOf: url)
    change(&data)
    try data.write(to: url)
  }
}

private func headerLength(_ data: Data) -> Int { (0..<8).reduce(0) { $0 | Int(data[$1]) << (8 * $1) } }

@Suite("hwgen import and --weights through the CLI")
struct ImportTests {
  static let broken: [BrokenCheckpoint] = [
    .init("truncated data", damage: bytes { $0 = $0.prefix($0.count / 2) }, expect: [model, "outside the data section"]),
    .init("file shorter than the header length field", damage: bytes { $0 = $0.prefix(5) }, expect: [model, "truncated: 5 bytes"]),
    .init("header length past the end", damage: bytes { d in d.replaceSubrange(0..<8, with: [0, 0, 0, 0, 1, 0, 0, 0]) }, expect: [model, "header length 4294967296 runs past the end of the file"]),
    .init("malformed JSON header", damage: bytes { d in d[8 + 1] = UInt8(ascii: "{") }, expect: [model, "malformed JSON header"]),
    .init("header that is not an object", damage: bytes { d in
      let n = headerLength(d)
      d.replaceSubrange(8..<(8 + n), with: Data(("[" + String(repeating: " ", count: n - 2) + "]").utf8))
    }, expect: [model, "malformed JSON header: it does not start with '{'"]),
    .init("overlapping data offsets", edit: { c in
      let size = c["model.norm.weight"]!.data.count
      let lower = c.tensors.prefix { $0.name != "model.norm.weight" }.reduce(0) { $0 + $1.data.count }
      c.tensors[c.tensors.firstIndex { $0.name == "model.norm.weight" }!].offsetsOverride = (lower - 2, lower - 2 + size)
    }, expect: [model, "tensor model.norm.weight: data_offsets", "overlap tensor"]),
    .init("data offsets out of range", edit: { c in
      let total = c.tensors.reduce(0) { $0 + $1.data.count }
      c.tensors[0].offsetsOverride = (total - 2, total + c.tensors[0].data.count - 2)
    }, expect: [model, "tensor model.embeddings.weight: data_offsets", "outside the data section"]),
    .init("offsets that do not match dtype x shape", edit: { c in c["lm_head.norm.weight"]!.shape = [64] },
          expect: [model, "tensor lm_head.norm.weight", "hold 256 bytes, but BF16 x [64] needs 128"]),
    .init("unknown dtype", edit: { c in c["model.layers.0.attn.f_proj.weight"]!.dtype = "BF17" },
          expect: [model, "tensor model.layers.0.attn.f_proj.weight: unknown dtype 'BF17'"]),
    .init("dtype hwgen does not read", edit: { c in
      let t = c["model.norm.weight"]!
      c["model.norm.weight"] = .init(raw: t.name, dtype: "I16", shape: t.shape, data: t.data)
    }, expect: [model, "tensor model.norm.weight: dtype I16 is not supported (BF16, F16, F32)"]),
    .init("missing tensor", edit: { c in c["model.layers.1.mlp.down_proj.norm.weight"] = nil },
          expect: [model, "tensor model.layers.1.mlp.down_proj.norm.weight: missing"]),
    .init("missing tensor in a sharded checkpoint", shards: 3, edit: { c in c["model.lower_bounds"] = nil },
          expect: ["model.safetensors.index.json", "tensor model.lower_bounds: missing"]),
    .init("unexpected tensor", edit: { c in c.tensors.append(.init("model.layers.0.attn.h_conv1d.weight", [4], [1, 2, 3, 4])) },
          expect: [model, "tensor model.layers.0.attn.h_conv1d.weight: not part of an HGRN-Bit model"]),
    .init("shape that disagrees with config.json", edit: { c in
      c["model.layers.1.mlp.gate_proj.weight"] = .init("model.layers.1.mlp.gate_proj.weight", [512, 128], [Float](repeating: 0.01, count: 512 * 128))
    }, expect: [model, "tensor model.layers.1.mlp.gate_proj.weight: shape [512, 128], but config.json implies [1024, 128]"]),
    .init("config with another hidden size", edit: { c in c.config["hidden_size"] = 256 },
          expect: ["config.json: hidden_size 256, but", model, "tensor model.embeddings.weight has shape [512, 128] (hidden size 128)"]),
    .init("config naming a billion layers", edit: { c in c.config["num_hidden_layers"] = 1e9 },
          expect: ["config.json: num_hidden_layers 1000000000, but", model, "holds 2 layers (model.layers.0 to model.layers.1)"]),
    .init("config naming fewer layers than the checkpoint holds", shards: 2, edit: { c in c.config["num_hidden_layers"] = 1 },
          expect: ["config.json: num_hidden_layers 1, but the 2 shards of model.safetensors.index.json hold 2 layers"]),
    .init("config with another vocab size", edit: { c in c.config["vocab_size"] = 1 << 40 },
          expect: ["config.json: vocab_size 1099511627776, but", "tensor model.embeddings.weight has shape [512, 128] (vocab size 512)"]),
    .init("config with a huge hidden_ratio", edit: { c in c.config["intermediate_size"] = NSNull(); c.config["hidden_ratio"] = 1e15 },
          expect: ["config.json: intermediate_size null (", "from hidden_size 128 x hidden_ratio 1000000000000000), but", "model.layers.0.mlp.down_proj.weight has shape [128, 512]"]),
    .init("config with a huge intermediate size and no down_proj to compare", edit: { c in
      c.config["intermediate_size"] = 1_000_000_000
      c["model.layers.0.mlp.down_proj.weight"] = nil
    }, expect: ["config.json: intermediate_size 1000000000 is larger than any tensor in", "(the largest holds 131072 values)"]),
    .init("NaN weight", edit: { c in
      var t = c["model.layers.1.attn.o_proj.weight"]!
      t.data[2 * (3 * 128 + 5)] = 0xC1
      t.data[2 * (3 * 128 + 5) + 1] = 0x7F
      c["model.layers.1.attn.o_proj.weight"] = t
    }, expect: [model, "tensor model.layers.1.attn.o_proj.weight: element (3, 5) is NaN"]),
    .init("infinite gamma", edit: { c in
      var t = c["model.layers.0.mlp_norm.weight"]!
      t.data[14] = 0x80
      t.data[15] = 0xFF
      c["model.layers.0.mlp_norm.weight"] = t
    }, expect: [model, "tensor model.layers.0.mlp_norm.weight: element (7) is infinite"]),
    .init("non-HGRN-Bit model_type", edit: { c in c.config["model_type"] = "llama" },
          expect: ["config.json", "model_type \"llama\" is not an HGRN-Bit model"]),
    .init("non-HGRN-Bit architecture", edit: { c in c.config["architectures"] = ["LlamaForCausalLM"] },
          expect: ["config.json", "architectures [\"LlamaForCausalLM\"] does not name HGRNBitForCausalLM"]),
    .init("missing config key", edit: { c in c.config["num_hidden_layers"] = nil }, expect: ["config.json", "missing key num_hidden_layers"]),
    .init("unsupported rms_norm_eps", edit: { c in c.config["rms_norm_eps"] = 1e-5 }, expect: ["config.json", "rms_norm_eps 1e-05 is not supported"]),
    .init("short convolution", edit: { c in c.config["use_short_conv"] = true }, expect: ["config.json", "use_short_conv true is not supported"]),
    .init("missing config.json", damage: { dir in try FileManager.default.removeItem(at: dir.appendingPathComponent("config.json")) },
          expect: ["config.json", "missing"]),
    .init("malformed config.json", damage: { dir in try Data("{\"model_type\": ".utf8).write(to: dir.appendingPathComponent("config.json")) },
          expect: ["config.json", "malformed JSON"]),
    .init("index naming a shard without the tensor", shards: 2, damage: { dir in
      let url = dir.appendingPathComponent("model.safetensors.index.json")
      var index = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
      var map = index["weight_map"] as! [String: String]
      map["model.norm.weight"] = map["model.norm.weight"] == "model-00001-of-00002.safetensors" ? "model-00002-of-00002.safetensors" : "model-00001-of-00002.safetensors"
      index["weight_map"] = map
      let text = String(decoding: try JSONSerialization.data(withJSONObject: index), as: UTF8.self)
      try Data(text.utf8).write(to: url)
    }, expect: ["tensor model.norm.weight", "model.safetensors.index.json places it in model-0000"]),
    .init("index naming a shard outside the directory", shards: 2, damage: { dir in
      let url = dir.appendingPathComponent("model.safetensors.index.json")
      let text = try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: ": \"model-00002-of-00002.safetensors\"", with: ": \"../x.safetensors\"")
      try Data(text.utf8).write(to: url)
    }, expect: ["model.safetensors.index.json", "is not a file name in the checkpoint directory"]),
  ]

  @Test(arguments: broken)
  func aBrokenCheckpointIsOneErrorLineAndLeavesNoOutput(_ c: BrokenCheckpoint) throws {
    let root = temporaryDirectory()
    var ckpt = CheckpointFixture.checkpoint(seed: 3)
    c.edit(&ckpt)
    let source = root.appendingPathComponent("ckpt")
    try ckpt.write(to: source, shards: c.shards)
    try c.damage(source)
    let before = tree(root)
    let result = try HWGenProcess.run(["import", source.path, "--out", root.appendingPathComponent("model").path])
    #expect(!result.succeeded, "\(c)")
    let errors = result.output.split(separator: "\n").filter { $0.hasPrefix("Error:") }
    #expect(errors.count == 1, "\(c): \(result.output)")
    for text in c.expected {
      #expect(errors.first?.contains(text) == true, "\(c): expected '\(text)' in: \(result.output)")
    }
    #expect(tree(root) == before, "\(c): left \(Set(tree(root)).subtracting(before).sorted())")
  }

  @Test func importWritesTheModelDirectoryAndRefusesToOverwriteIt() throws {
    let root = temporaryDirectory()
    try CheckpointFixture.checkpoint(seed: 4).write(to: root.appendingPathComponent("mmfree-tiny"), shards: 2)
    let out = root.appendingPathComponent("model")
    let result = try HWGenProcess.run(["import", root.appendingPathComponent("mmfree-tiny").path, "--out", out.path])
    #expect(result.succeeded, "\(result.output)")
    #expect(result.output.contains("hwgen import: mmfree-tiny (mmfree-tiny: D 128, L 2, I 512, vocab 512), 2 shards, BF16"), "\(result.output)")
    #expect(result.output.contains("ternarized 13 projections"), "\(result.output)")
    #expect(tree(out) == ["embedding.bin", "lower_bounds.bin", "manifest.json", "scales.bin", "ternary.bin", "vectors.bin"])
    let manifest = try String(contentsOf: out.appendingPathComponent("manifest.json"), encoding: .utf8)
    #expect(manifest.contains("\"formatVersion\" : 1"))
    #expect(manifest.contains("\"file\" : \"model-00002-of-00002.safetensors\""))

    let again = try HWGenProcess.run(["import", root.appendingPathComponent("mmfree-tiny").path, "--out", out.path])
    #expect(!again.succeeded)
    #expect(again.output.contains("Error: \(out.path): exists and is not empty"), "\(again.output)")
    #expect(tree(root).filter { $0.hasPrefix(".") }.isEmpty)
  }

  @Test func weightsOptionRunsTheImportedModelAndChecksConsistency() throws {
    let root = temporaryDirectory()
    try CheckpointFixture.checkpoint(seed: 6).write(to: root.appendingPathComponent("mmfree-tiny"))
    let out = root.appendingPathComponent("model")
    #expect(try HWGenProcess.run(["import", root.appendingPathComponent("mmfree-tiny").path, "--out", out.path]).succeeded)

    let golden = try HWGenProcess.run(["bench", "golden", "--weights", out.path, "--tokens", "2"])
    #expect(golden.succeeded, "\(golden.output)")
    #expect(golden.output.contains("weights: imported mmfree-tiny (source sha256 "), "\(golden.output)")

    let clash = try HWGenProcess.run(["simulate", "--weights", out.path, "--model", "370m"])
    #expect(!clash.succeeded)
    #expect(clash.output.split(separator: "\n").filter { $0.hasPrefix("Error:") }.count == 1, "\(clash.output)")
    #expect(clash.output.contains("--model 370m (D 1024, L 24, I 2816, vocab 32000) disagrees with --weights"), "\(clash.output)")

    // A changed byte in a data file: the load fails on its hash.
    let ternary = out.appendingPathComponent("ternary.bin")
    var data = try Data(contentsOf: ternary)
    data[7] ^= 0x40
    try data.write(to: ternary)
    let tampered = try HWGenProcess.run(["bench", "golden", "--weights", out.path, "--tokens", "1"])
    #expect(!tampered.succeeded)
    #expect(tampered.output.contains("Error: \(ternary.path): SHA-256"), "\(tampered.output)")
  }

  @Test func simulateRunsAnImportedModelThroughTheRTL() throws {
    let root = temporaryDirectory()
    try CheckpointFixture.checkpoint(seed: 8).write(to: root.appendingPathComponent("mmfree-tiny"))
    let out = root.appendingPathComponent("model")
    #expect(try HWGenProcess.run(["import", root.appendingPathComponent("mmfree-tiny").path, "--out", out.path]).succeeded)
    let run = try HWGenProcess.run(["simulate", "--weights", out.path, "--model", "tiny", "--tokens", "2", "--prompt", "9", "--no-power"])
    #expect(run.succeeded, "\(run.output)")
    #expect(run.output.contains("hwgen simulate: model mmfree-tiny"), "\(run.output)")
    #expect(run.output.contains("weights: imported mmfree-tiny (source sha256 "), "\(run.output)")
  }
}

/// `hwgen import` of the trained kjv-2m checkpoint, damaged by a few seeds of
/// `CheckpointMutation` (the in-process run in HWGoldenTests covers many more)
/// and by a config.json naming a billion layers, through the CLI: one `Error:`
/// line and nothing else, a non-zero exit, well within the time bound, nothing
/// left behind; or a model directory.
@Suite("hwgen import of a damaged real checkpoint through the CLI")
struct ImportMutationCLITests {
  /// Runs hwgen; nil if it has not ended within `seconds` (then it is terminated).
  static func run(_ arguments: [String], within seconds: Double) throws -> (status: Int32, output: String)? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: HWGenProcess.executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    process.standardInput = FileHandle.nullDevice
    let ended = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in ended.signal() }
    try process.run()
    final class Output: @unchecked Sendable { var data = Data() }
    let output = Output()
    let reader = DispatchGroup()
    reader.enter()
    DispatchQueue.global().async {
      output.data = pipe.fileHandleForReading.readDataToEndOfFile()
      reader.leave()
    }
    guard ended.wait(timeout: .now() + seconds) == .success else {
      process.terminate()
      process.waitUntilExit()
      return nil
    }
    reader.wait()
    return (process.terminationStatus, String(decoding: output.data, as: UTF8.self))
  }

  /// Header bytes, offsets, header length, truncation, tokenizer.json, config values (1-10), an
  /// infinity (24), a dtype edit that still imports (28), a NaN (38).
  static let seeds: [UInt64] = Array(1...10) + [24, 28, 38]

  @Test func damagedCheckpointsAreOneErrorLineOrAModelDirectory() throws {
    let original = try #require(CheckpointMutation.trainedModel("kjv-2m"), "kjv-2m not found in models/ of the repository, $HWGEN_MODELS or shared/models")
    var cases: [(seed: UInt64?, damage: (URL) throws -> CheckpointMutation.Applied)] = Self.seeds.map { seed in
      (seed, { try CheckpointMutation.apply(seed: seed, to: $0) })
    }
    cases.append((nil, { dir in
      let url = dir.appendingPathComponent("config.json")
      var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
      config["num_hidden_layers"] = 1e9
      try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]).write(to: url, options: .atomic)
      return CheckpointMutation.Applied(
        seed: 0, what: "config.json: num_hidden_layers 1e9",
        expected: ["Error: \(url.path): num_hidden_layers 1000000000, but", "model.safetensors holds 4 layers (model.layers.0 to model.layers.3)"],
        mustFail: true)
    }))
    for c in cases {
      let root = temporaryDirectory()
      defer { try? FileManager.default.removeItem(at: root) }
      let source = root.appendingPathComponent("kjv-2m")
      try CheckpointMutation.link(original, to: source)
      let applied = try c.damage(source)
      let before = tree(root)
      let out = root.appendingPathComponent("model")
      let start = Date()
      guard let result = try Self.run(["import", source.path, "--out", out.path], within: 30) else {
        Issue.record("\(applied): no result after 30 s")
        continue
      }
      let seconds = Date().timeIntervalSince(start)
      let lines = result.output.split(separator: "\n")
      if result.status == 0 {
        #expect(!applied.mustFail, "\(applied): imported: \(result.output)")
        #expect(tree(out).contains("manifest.json"), "\(applied): \(tree(out))")
      } else {
        #expect(lines.count == 1 && lines[0].hasPrefix("Error: "), "\(applied): \(result.output)")
        for text in applied.expected { #expect(result.output.contains(text), "\(applied): expected '\(text)' in \(result.output)") }
        #expect(tree(root) == before, "\(applied): left \(Set(tree(root)).subtracting(before).sorted())")
      }
      if applied.what.contains("num_hidden_layers 1e9") { #expect(seconds < 5, "\(applied): took \(seconds) s") }
    }
  }
}
