import ArgumentParser
import Foundation
import HWGolden
import HWSpec

/// Where a command's model weights come from: a preset with seeded synthetic
/// weights (`--model`, `--seed`) or an imported model directory (`--weights`).
struct ModelSource {
  let weights: ModelWeights
  /// One line: "imported NAME (source sha256 ...)" or "synthetic, seed S".
  let description: String
  /// The imported model's tokenizer.json, when its checkpoint had one.
  var tokenizer: Tokenizer? = nil

  /// `weights` wins when given; `model`, if also given, must then name a preset
  /// of the same shape. Without `weights`, the preset `model` (default
  /// `defaultModel`) with synthetic weights drawn from `seed`.
  static func resolve(model: String?, weights path: String?, seed: UInt64, defaultModel: String = "tiny") throws -> ModelSource {
    guard let path else {
      let config = try preset(model ?? defaultModel)
      return ModelSource(weights: ModelWeights.synthetic(config, seed: seed), description: "synthetic, seed \(seed)")
    }
    let directory = URL(fileURLWithPath: path)
    if let model {
      let config = try preset(model)
      let stored = try ModelDirectory.readManifest(directory).config
      guard Self.sameShape(config, stored) else {
        throw ModelSourceError("--model \(config.name) (\(shape(config))) disagrees with --weights \(path) (\(shape(stored))); drop --model or pass the matching preset")
      }
    }
    let (weights, info) = try ModelDirectory.load(directory)
    return ModelSource(weights: weights, description: info.summary, tokenizer: info.tokenizer)
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
