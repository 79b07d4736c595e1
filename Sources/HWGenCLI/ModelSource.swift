import ArgumentParser
import Foundation
import HWGolden
import HWSpec
import HWSupport

/// Where a command's model weights come from: a preset with seeded synthetic
/// weights (`--model`, `--seed`) or an imported model directory (`--weights`).
struct ModelSource {
  let weights: ModelWeights
  /// One line: "imported NAME (source sha256 ...)" or "synthetic, seed S".
  let description: String
  /// The imported model's tokenizer.json, when its checkpoint had one.
  var tokenizer: Tokenizer? = nil

  /// The checkpoint `hwgen simulate` runs when neither `--model` nor `--weights` is given.
  static let shippedDefault = "models/kjv-2m"

  /// `weights` wins when given: an hwgen model directory (`hwgen import`'s
  /// output) or a Hugging Face checkpoint, imported into a temporary directory
  /// that is removed once loaded. `model`, if also given, must then name a
  /// preset of the same shape. Without `weights`, the preset `model`; without
  /// either, the shipped checkpoint `defaultCheckpoint` when given, else the
  /// preset `defaultModel`, with synthetic weights drawn from `seed`.
  static func resolve(
    model: String?, weights path: String?, seed: UInt64, defaultModel: String = "tiny", defaultCheckpoint: String? = nil
  ) throws -> ModelSource {
    if path == nil, model == nil, let shipped = defaultCheckpoint {
      guard let url = ProjectFiles.locate(shipped) else {
        throw ModelSourceError("the default checkpoint \(shipped) is not here (run hwgen from its checkout or set HWGEN_HOME to it); pass --weights DIR or --model tiny|370m|1.3b|2.7b")
      }
      return try resolve(model: nil, weights: url.path, seed: seed)
    }
    guard let path else {
      let config = try preset(model ?? defaultModel)
      return ModelSource(weights: ModelWeights.synthetic(config, seed: seed), description: "synthetic, seed \(seed)")
    }
    var directory = URL(fileURLWithPath: path)
    var temporary: URL?
    defer { if let temporary { try? FileManager.default.removeItem(at: temporary) } }
    let isModelDirectory = FileManager.default.fileExists(atPath: directory.appendingPathComponent(ModelDirectory.manifestName).path)
    if !isModelDirectory {
      let staging = FileManager.default.temporaryDirectory.appendingPathComponent("hwgen-import-\(UUID().uuidString)")
      temporary = staging
      _ = try CheckpointImport.run(directory, to: staging)
      directory = staging
    }
    if let model {
      let config = try preset(model)
      let stored = try ModelDirectory.readManifest(directory).config
      guard Self.sameShape(config, stored) else {
        throw ModelSourceError("--model \(config.name) (\(shape(config))) disagrees with --weights \(path) (\(shape(stored))); drop --model or pass the matching preset")
      }
    }
    let (weights, info) = try ModelDirectory.load(directory)
    let description = isModelDirectory
      ? info.summary
      : "checkpoint \(info.name) at \(path) (source sha256 \(info.sourceHash.prefix(12)), ternarized on load)"
    return ModelSource(weights: weights, description: description, tokenizer: info.tokenizer)
  }

  static func preset(_ name: String) throws -> ModelConfig {
    do { return try ModelConfig.preset(named: name) } catch let error as ModelConfig.Invalid { throw ModelSourceError(error.description) }
  }

  static func sameShape(_ a: ModelConfig, _ b: ModelConfig) -> Bool {
    a.hiddenSize == b.hiddenSize && a.layers == b.layers && a.intermediateSize == b.intermediateSize && a.vocabSize == b.vocabSize
  }

  static func shape(_ c: ModelConfig) -> String {
    "D \(c.hiddenSize), L \(c.layers), I \(c.intermediateSize), vocab \(c.vocabSize)"
  }
}

/// A model that cannot be resolved: one `Error:` line.
struct ModelSourceError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
