import Foundation
import HWSpec

/// A Hugging Face HGRN-Bit checkpoint on disk: `config.json` and either one
/// `model.safetensors` or the shards a `model.safetensors.index.json` names.
/// Opening it reads and checks every header, the index against the shards
/// (each tensor in exactly the shard the index names), and the tensor set
/// against config.json (every tensor present with its shape and a readable
/// dtype, nothing else); values are read later, tensor by tensor, from the
/// mapped shards.
public final class HFCheckpoint: @unchecked Sendable {
  public let directory: URL
  /// "owner/model" for a Hugging Face cache snapshot, else the directory's name.
  public let name: String
  public let configFile: URL
  public let config: HGRNBitConfig
  public let indexFile: URL?
  /// Shards sorted by file name.
  public let shards: [SafeTensorsFile]
  private let location: [String: Int]

  public static let indexName = "model.safetensors.index.json"
  public static let singleName = "model.safetensors"
  public static let configName = "config.json"

  /// `path` is a checkpoint directory, its `model.safetensors`, its index file or its config.json.
  public init(_ path: URL) throws {
    let fm = FileManager.default
    let path = path.lastPathComponent == Self.configName ? path.deletingLastPathComponent() : path
    var isDirectory: ObjCBool = false
    guard fm.fileExists(atPath: path.path, isDirectory: &isDirectory) else { throw CheckpointError(file: path.path, "no such file or directory") }
    let directory = isDirectory.boolValue ? path : path.deletingLastPathComponent()
    self.directory = directory
    name = Self.name(of: directory)

    var indexFile: URL?
    var shardNames: [String]
    var weightMap: [String: String]?
    if !isDirectory.boolValue {
      if path.lastPathComponent.hasSuffix(".index.json") {
        indexFile = path
      }
      shardNames = [path.lastPathComponent]
    } else if fm.fileExists(atPath: directory.appendingPathComponent(Self.indexName).path) {
      indexFile = directory.appendingPathComponent(Self.indexName)
      shardNames = []
    } else if fm.fileExists(atPath: directory.appendingPathComponent(Self.singleName).path) {
      shardNames = [Self.singleName]
    } else {
      throw CheckpointError(file: directory.path, "no \(Self.indexName) or \(Self.singleName) in the directory")
    }
    if let indexFile {
      weightMap = try Self.readIndex(indexFile)
      shardNames = Array(Set(weightMap!.values)).sorted()
    }
    self.indexFile = indexFile

    configFile = directory.appendingPathComponent(Self.configName)
    guard fm.fileExists(atPath: configFile.path) else {
      throw CheckpointError(file: configFile.path, "missing (hwgen import reads the config.json next to the safetensors)")
    }
    config = try HGRNBitConfig.load(configFile, displayName: configFile.path)

    shards = try shardNames.map { try SafeTensorsFile(directory.appendingPathComponent($0)) }
    var location: [String: Int] = [:]
    for (s, shard) in shards.enumerated() {
      for tensor in shard.tensors {
        if let map = weightMap {
          guard let listed = map[tensor.name] else {
            throw CheckpointError(file: shard.displayName, tensor: tensor.name, "not listed in \(Self.indexName)")
          }
          guard listed == shardNames[s] else {
            throw CheckpointError(file: shard.displayName, tensor: tensor.name, "\(Self.indexName) places it in \(listed)")
          }
        }
        location[tensor.name] = s
      }
    }
    if let map = weightMap, let indexFile {
      for (tensor, shard) in map.sorted(by: { $0.key < $1.key }) where location[tensor] == nil {
        throw CheckpointError(file: indexFile.path, tensor: tensor, "listed in shard \(shard), which does not contain it")
      }
    }
    self.location = location
    try checkConfig()
    try checkTensors()
  }

  /// The checkpoint's name: `owner/model` for a Hugging Face cache snapshot
  /// (`models--owner--model/snapshots/HASH`), else the directory's name.
  static func name(of directory: URL) -> String {
    let parts = directory.standardizedFileURL.pathComponents
    if parts.count >= 3, parts[parts.count - 2] == "snapshots", parts[parts.count - 3].hasPrefix("models--") {
      return parts[parts.count - 3].dropFirst("models--".count).replacingOccurrences(of: "--", with: "/")
    }
    return directory.standardizedFileURL.lastPathComponent
  }

  /// The index's `weight_map`: tensor name -> shard file name (a plain name in the same directory).
  static func readIndex(_ url: URL) throws -> [String: String] {
    let file = url.path
    let data: Data
    do { data = try Data(contentsOf: url) } catch { throw CheckpointError(file: file, "cannot read: \((error as NSError).localizedDescription)") }
    let json: Any
    do { json = try JSONSerialization.jsonObject(with: data) } catch {
      throw CheckpointError(file: file, "malformed JSON: \((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)")")
    }
    guard let object = json as? [String: Any], let map = object["weight_map"] as? [String: Any] else {
      throw CheckpointError(file: file, "no weight_map object")
    }
    var result: [String: String] = [:]
    for (tensor, value) in map {
      guard let shard = value as? String, !shard.isEmpty, !shard.contains("/"), shard != ".", shard != ".." else {
        throw CheckpointError(file: file, tensor: tensor, "shard \(HGRNBitConfig.describe(value)) is not a file name in the checkpoint directory")
      }
      result[tensor] = shard
    }
    guard !result.isEmpty else { throw CheckpointError(file: file, "weight_map is empty") }
    return result
  }

  // MARK: Tensors

  /// The source files (config, index, shards) in a fixed order.
  public var sourceFiles: [URL] { [configFile] + (indexFile.map { [$0] } ?? []) + shards.map(\.file.url) }

  /// The dtypes the checkpoint stores its tensors in, sorted.
  public var dtypes: [String] { Array(Set(shards.flatMap { $0.tensors.map(\.dtype.rawValue) })).sorted() }

  /// The golden model's config for this checkpoint.
  public var modelConfig: ModelConfig { config.modelConfig(name: name) }

  /// Every tensor an HGRN-Bit model of `config` has, with its shape.
  public static func expectedTensors(_ c: ModelConfig) -> [(name: String, shape: [Int])] {
    let d = c.hiddenSize
    var list: [(String, [Int])] = [(TensorNames.embedding, [c.vocabSize, d]), (TensorNames.lowerBounds, [c.layers, d])]
    for l in 0..<c.layers {
      for v in TensorNames.LayerVector.allCases { list.append((TensorNames.vector(v, layer: l), [d])) }
      for p in ModelConfig.Projection.perLayer {
        let s = c.shape(of: p)
        list.append((TensorNames.projection(p, layer: l), [s.rows, s.cols]))
        list.append((TensorNames.projectionNorm(p, layer: l), [s.cols]))
      }
    }
    let head = c.shape(of: .lmHead)
    list += [
      (TensorNames.finalNorm, [d]), (TensorNames.projection(.lmHead, layer: nil), [head.rows, head.cols]),
      (TensorNames.projectionNorm(.lmHead, layer: nil), [head.cols]),
    ]
    return list
  }

  /// config.json's sizes against what the safetensors headers hold, before
  /// anything loops over layers or is sized by a dimension: `num_hidden_layers`
  /// against the `model.layers.N` indices present; `hidden_size`, `vocab_size`
  /// and `intermediate_size` against the tensor that carries each (the
  /// embedding, the first layer's down_proj), or, when that tensor is missing
  /// or malformed, against the largest tensor present (no tensor of a model
  /// with that size could be smaller). One line naming config.json, the key and
  /// what the checkpoint holds.
  func checkConfig() throws {
    let c = config
    func fail(_ message: String) -> CheckpointError { CheckpointError(file: configFile.path, message) }
    let holder = shards.count == 1 ? shards[0].displayName : "the \(shards.count) shards of \(indexFile?.lastPathComponent ?? "the checkpoint")"

    var held = Set<Int>()
    for shard in shards {
      for tensor in shard.tensors { if let n = Self.layerIndex(tensor.name) { held.insert(n) } }
    }
    let contiguous = held.allSatisfy { $0 < held.count }
    if c.layers > held.count || (contiguous && c.layers != held.count) {
      let range = held.isEmpty ? " (no model.layers.N tensors)" : contiguous ? " (model.layers.0 to model.layers.\(held.count - 1))" : ""
      throw fail("num_hidden_layers \(c.layers), but \(holder) \(shards.count == 1 ? "holds" : "hold") \(held.count) layer\(held.count == 1 ? "" : "s")\(range)")
    }

    let largest = shards.flatMap { $0.tensors.map(\.count) }.max() ?? 0
    let down = TensorNames.projection(.down, layer: 0)
    let intermediate = c.hiddenRatio.map {
      "intermediate_size null (\(c.intermediateSize) from hidden_size \(c.hiddenSize) x hidden_ratio \($0))"
    } ?? "intermediate_size \(c.intermediateSize)"
    let sizes: [(said: String, value: Int, tensor: String, axis: Int, name: String)] = [
      ("hidden_size \(c.hiddenSize)", c.hiddenSize, TensorNames.embedding, 1, "hidden size"),
      ("vocab_size \(c.vocabSize)", c.vocabSize, TensorNames.embedding, 0, "vocab size"),
      (intermediate, c.intermediateSize, down, 1, "intermediate size"),
    ]
    for size in sizes {
      if let (shard, info) = lookup(size.tensor), info.shape.count == 2 {
        guard info.shape[size.axis] == size.value else {
          throw fail("\(size.said), but \(shard.displayName): tensor \(size.tensor) has shape \(info.shapeText) (\(size.name) \(info.shape[size.axis]))")
        }
      } else if size.value > largest {
        throw fail("\(size.said) is larger than any tensor in \(holder) (the largest holds \(largest) values)")
      }
    }
  }

  /// N of a `model.layers.N.` tensor name (nil for any other name).
  static func layerIndex(_ name: String) -> Int? {
    let prefix = "model.layers."
    guard name.hasPrefix(prefix) else { return nil }
    let digits = name.dropFirst(prefix.count).prefix { $0.isASCII && $0.isNumber }
    guard !digits.isEmpty, digits.count <= 9, name.dropFirst(prefix.count + digits.count).hasPrefix(".") else { return nil }
    return Int(digits)
  }

  /// Every expected tensor present with its shape and a readable dtype; no other tensor.
  func checkTensors() throws {
    let expected = Self.expectedTensors(modelConfig)
    let where_ = indexFile?.path ?? shards[0].displayName
    for (name, shape) in expected {
      guard let (shard, info) = lookup(name) else {
        throw CheckpointError(file: where_, tensor: name, "missing (an HGRN-Bit model with \(Self.configName)'s shape has it)")
      }
      guard info.shape == shape else {
        throw CheckpointError(file: shard.displayName, tensor: name, "shape \(info.shapeText), but \(Self.configName) implies [\(shape.map(String.init).joined(separator: ", "))]")
      }
      guard SafeTensorsDType.readable.contains(info.dtype) else {
        throw CheckpointError(file: shard.displayName, tensor: name, "dtype \(info.dtype.rawValue) is not supported (\(SafeTensorsDType.readable.map(\.rawValue).joined(separator: ", ")))")
      }
    }
    let known = Set(expected.map(\.name))
    for shard in shards {
      for tensor in shard.tensors where !known.contains(tensor.name) {
        throw CheckpointError(file: shard.displayName, tensor: tensor.name, "not part of an HGRN-Bit model (\(Self.configName): \(modelConfig))")
      }
    }
  }

  public func lookup(_ name: String) -> (SafeTensorsFile, SafeTensorInfo)? {
    guard let s = location[name], let info = shards[s][name] else { return nil }
    return (shards[s], info)
  }

  func tensor(_ name: String) -> (SafeTensorsFile, SafeTensorInfo) {
    guard let found = lookup(name) else { preconditionFailure("tensor \(name) was checked to exist") }
    return found
  }

  /// A whole tensor as Float32 (every value checked finite).
  public func floats(_ name: String) throws -> [Float] {
    let (shard, info) = tensor(name)
    defer { shard.file.release(info.bytes) }
    return try shard.floats(info)
  }

  /// A projection ternarized (`Ternarize`), read row by row from the mapped shard.
  public func ternarized(_ name: String) throws -> PackedTernary {
    let (shard, info) = tensor(name)
    defer { shard.file.release(info.bytes) }
    let cols = info.shape[1]
    return try Ternarize.matrix(rows: info.shape[0], cols: cols) { r, out in
      try shard.read(info, from: r * cols, count: cols, into: out)
    }
  }
}

/// The reference's tensor names (docs/model.md, "Checkpoints").
public enum TensorNames {
  public static let embedding = "model.embeddings.weight"
  public static let lowerBounds = "model.lower_bounds"
  public static let finalNorm = "model.norm.weight"

  /// The plain RMSNorm gammas of a block.
  public enum LayerVector: String, CaseIterable, Sendable {
    case attnNorm = "attn_norm", gNorm = "attn.g_norm", mlpNorm = "mlp_norm"
  }

  public static func vector(_ v: LayerVector, layer: Int) -> String { "model.layers.\(layer).\(v.rawValue).weight" }

  /// `model.layers.N.attn.i_proj` ... `model.layers.N.mlp.down_proj`, `lm_head`.
  public static func module(_ p: ModelConfig.Projection, layer: Int?) -> String {
    switch p {
    case .i, .f, .g, .o: return "model.layers.\(layer!).attn.\(p.rawValue)_proj"
    case .gate, .down: return "model.layers.\(layer!).mlp.\(p.rawValue)_proj"
    case .lmHead: return "lm_head"
    }
  }

  public static func projection(_ p: ModelConfig.Projection, layer: Int?) -> String { module(p, layer: layer) + ".weight" }
  public static func projectionNorm(_ p: ModelConfig.Projection, layer: Int?) -> String { module(p, layer: layer) + ".norm.weight" }
}
