import Dispatch
import Foundation
import HWSpec
import HWSupport

/// `manifest.json` of an hwgen model directory (docs/import.md): what every
/// file holds, where, and what it came from.
public struct ModelManifest: Codable, Hashable, Sendable {
  public static let formatName = "hwgen-model"
  public static let currentVersion = 1

  public struct SourceFile: Codable, Hashable, Sendable {
    public var file: String
    public var bytes: Int
    public var sha256: String
  }

  public struct Checkpoint: Codable, Hashable, Sendable {
    public var name: String
    /// config.json's `_name_or_path`, when present.
    public var nameOrPath: String?
    public var sources: [SourceFile]
    /// SHA-256 of the lines "sha256  file\n" of `sources`, in order: one id for the checkpoint.
    public var sourceHash: String
    public var dtypes: [String]
  }

  public struct OutputFile: Codable, Hashable, Sendable {
    public var name: String
    public var bytes: Int
    public var sha256: String
  }

  /// One array in one file.
  public struct Array: Codable, Hashable, Sendable {
    public var name: String
    public var file: String
    public var offset: Int
    public var bytes: Int
    public var shape: [Int]
    /// `f32` (Float32 little-endian), `ternary-planes` (`PackedTernary.planes`, UInt64 little-endian)
    /// or `ternary-base3` (the matrix row-major, five weights a byte, `TritPacking`).
    public var encoding: String
    /// The checkpoint tensor it was converted from.
    public var source: String?
    /// Non-zero weights, for a ternary array.
    public var nonZero: Int?
  }

  public var format: String
  public var formatVersion: Int
  public var checkpoint: Checkpoint
  public var config: ModelConfig
  /// How each kind of array was converted, in words (the rules of docs/import.md).
  public var conversion: [String: String]
  public var files: [OutputFile]
  public var arrays: [Array]

  public static let conversionRules: [String: String] = [
    "ternarization": "beta = max(mean |W|, 1e-5), |W| summed in double and the mean rounded once to float32; Wt = clamp(round half to even(W * float32(1 / beta)), -1, 1) in float32, as mmfreelm's weight_quant",
    "ternaryEncoding": "ternary-planes: PackedTernary, per row and 64-weight word a non-zero UInt64 then a negative UInt64 (bit j = weight 64k + j; +1 = nz, -1 = nz and neg, 0 = neither), little-endian; the planes the core streams",
    "base3Packing": "not written (hwgen import --packing base3 writes ternary-base3); hwgen image --packing base3 packs the planes for the base-3 hardware",
    "vectors": "f32: the checkpoint's values as float32 little-endian, unchanged (BF16 and F16 convert to float32 exactly); the golden model converts them to Q15.16 on load (FixedPointWeights)",
    "scales": "f32: one beta per projection, the PackedTernary.beta the rescale uses",
    "lowerBounds": "model.lower_bounds is the raw [L, D] parameter; model.lower_bounds.precomputed is LB = cumsum(softmax over layers) - P[0] (ModelWeights.lowerBounds, float32), which the loader recomputes and compares bit for bit",
  ]
}

/// Where an imported model came from, for reports.
public struct CheckpointInfo: Hashable, Sendable {
  public let name: String
  public let sourceHash: String
  public let directory: URL
  public let manifest: ModelManifest
  /// The checkpoint's `tokenizer.json`, when it had one.
  public let tokenizer: Tokenizer?

  /// "imported NAME (source sha256 0123456789ab)".
  public var summary: String { "imported \(name) (source sha256 \(sourceHash.prefix(12)))" }
}

/// An hwgen model directory: the ternary planes, scales, gammas, lower bounds
/// and embedding of one checkpoint, its `tokenizer.json` if it had one, and `manifest.json`. `CheckpointImport`
/// writes it; `load` reads it back and verifies everything.
public enum ModelDirectory {
  public static let manifestName = "manifest.json"

  /// What a model directory holds for `config`, in file order.
  struct ArraySpec {
    enum Kind { case ternary, beta, f32 }
    let name: String
    let file: String
    let shape: [Int]
    let kind: Kind
    /// The checkpoint tensor it comes from (`nil` for the precomputed lower bounds).
    let source: String?
    /// How a ternary array lies in `ternary.bin`.
    var packing = WeightPacking.planes

    var encoding: String { kind == .ternary ? ModelDirectory.encoding(packing) : "f32" }

    var byteCount: Int {
      switch (kind, packing) {
      case (.ternary, .planes): return 16 * shape[0] * PackedTernary.wordsPerRow(cols: shape[1])
      case (.ternary, .base3): return (shape[0] * shape[1] + TritPacking.tritsPerByte - 1) / TritPacking.tritsPerByte
      case (.beta, _), (.f32, _): return 4 * shape.reduce(1, *)
      }
    }
  }

  static let files = ["embedding.bin", "lower_bounds.bin", "scales.bin", "ternary.bin", "vectors.bin"]
  /// Copied unchanged from the checkpoint when it has one; listed in `files` like the others.
  static let optionalFiles = [Tokenizer.fileName]
  static let precomputedLowerBounds = TensorNames.lowerBounds + ".precomputed"

  /// A ternary array's encoding name in the manifest.
  static func encoding(_ packing: WeightPacking) -> String { packing == .planes ? "ternary-planes" : "ternary-base3" }

  /// The rule `ternary-base3` follows, for the manifest.
  public static let base3Rule = "ternary-base3: each matrix row-major, weight w as the digit w mod 3 (0, +1 -> 1, -1 -> 2), five to a byte d0 + 3 d1 + 9 d2 + 27 d3 + 81 d4 (codes 243-255 never written), the last byte padded with zero digits; 1.6 bits a weight"

  static func layout(_ c: ModelConfig, packing: WeightPacking = .planes) -> [ArraySpec] {
    let d = c.hiddenSize
    var specs = [
      ArraySpec(name: TensorNames.embedding, file: "embedding.bin", shape: [c.vocabSize, d], kind: .f32, source: TensorNames.embedding),
      ArraySpec(name: TensorNames.lowerBounds, file: "lower_bounds.bin", shape: [c.layers, d], kind: .f32, source: TensorNames.lowerBounds),
      ArraySpec(name: precomputedLowerBounds, file: "lower_bounds.bin", shape: [c.layers, d], kind: .f32, source: nil),
    ]
    func projection(_ p: ModelConfig.Projection, layer: Int?) {
      let s = c.shape(of: p)
      let weight = TensorNames.projection(p, layer: layer)
      specs.append(ArraySpec(name: weight, file: "ternary.bin", shape: [s.rows, s.cols], kind: .ternary, source: weight, packing: packing))
      specs.append(ArraySpec(name: TensorNames.module(p, layer: layer) + ".beta", file: "scales.bin", shape: [], kind: .beta, source: weight))
      let norm = TensorNames.projectionNorm(p, layer: layer)
      specs.append(ArraySpec(name: norm, file: "vectors.bin", shape: [s.cols], kind: .f32, source: norm))
    }
    for l in 0..<c.layers {
      for v in TensorNames.LayerVector.allCases {
        let name = TensorNames.vector(v, layer: l)
        specs.append(ArraySpec(name: name, file: "vectors.bin", shape: [d], kind: .f32, source: name))
      }
      for p in ModelConfig.Projection.perLayer { projection(p, layer: l) }
    }
    specs.append(ArraySpec(name: TensorNames.finalNorm, file: "vectors.bin", shape: [d], kind: .f32, source: TensorNames.finalNorm))
    projection(.lmHead, layer: nil)
    return specs
  }

  // MARK: Loading

  /// Reads `manifest.json` and checks its format and config (no data files).
  public static func readManifest(_ directory: URL) throws -> ModelManifest {
    let url = directory.appendingPathComponent(manifestName)
    let file = try MappedFile(url)
    guard file.size <= 64 << 20 else { throw CheckpointError(file: url.path, "\(file.size) bytes is too large for a manifest") }
    let manifest: ModelManifest
    do {
      manifest = try JSONDecoder().decode(ModelManifest.self, from: Data(file.bytes(0..<file.size)))
    } catch {
      throw CheckpointError(file: url.path, "not an hwgen model manifest: \(error)")
    }
    guard manifest.format == ModelManifest.formatName else {
      throw CheckpointError(file: url.path, "format '\(manifest.format)' is not \(ModelManifest.formatName)")
    }
    guard manifest.formatVersion == ModelManifest.currentVersion else {
      throw CheckpointError(file: url.path, "format version \(manifest.formatVersion); this hwgen reads version \(ModelManifest.currentVersion)")
    }
    do { try manifest.config.validate() } catch { throw CheckpointError(file: url.path, "config: \(error)") }
    guard manifest.config.rmsNormEps == ModelConfig.defaultRMSNormEps else {
      throw CheckpointError(file: url.path, "config: rms norm eps \(manifest.config.rmsNormEps) is not the hardware's \(ModelConfig.defaultRMSNormEps)")
    }
    return manifest
  }

  /// Reads a model directory back into `ModelWeights`, verifying the manifest,
  /// every file's size and SHA-256, every array's place, shape and encoding,
  /// the ternary planes' invariants, finite values and positive betas, and
  /// the stored precomputed lower bounds against `ModelWeights`' own; and
  /// reads `tokenizer.json` (`CheckpointInfo.tokenizer`) when the manifest lists it.
  public static func load(_ directory: URL) throws -> (ModelWeights, CheckpointInfo) {
    let manifest = try readManifest(directory)
    let manifestPath = directory.appendingPathComponent(manifestName).path
    let config = manifest.config

    // Files: exactly the expected ones (and the optional ones it lists), each with its size and hash.
    let listed = manifest.files.map(\.name).sorted()
    guard listed == (files + optionalFiles.filter(listed.contains)).sorted() else {
      throw CheckpointError(file: manifestPath, "files \(listed), expected \(files) and optionally \(optionalFiles)")
    }
    var mapped: [String: MappedFile] = [:]
    for entry in manifest.files {
      let file = try MappedFile(directory.appendingPathComponent(entry.name))
      guard file.size == entry.bytes else {
        throw CheckpointError(file: file.displayName, "\(file.size) bytes, the manifest says \(entry.bytes)")
      }
      mapped[entry.name] = file
    }
    let entries = manifest.files
    let opened = entries.map { mapped[$0.name]! }
    let hashes = ConcurrentResults<String>(count: entries.count)
    DispatchQueue.concurrentPerform(iterations: entries.count) { i in hashes[i] = opened[i].sha256() }
    for (i, entry) in entries.enumerated() where hashes[i] != entry.sha256 {
      throw CheckpointError(file: mapped[entry.name]!.displayName, "SHA-256 \(hashes[i]!) differs from the manifest's \(entry.sha256): the file was changed")
    }

    // Arrays: exactly the layout's, each where the manifest says.
    var byName: [String: ModelManifest.Array] = [:]
    for array in manifest.arrays {
      guard byName.updateValue(array, forKey: array.name) == nil else { throw CheckpointError(file: manifestPath, tensor: array.name, "listed twice") }
    }
    // The packing the directory's ternary arrays use (one for all of them; `located` checks each).
    let packing: WeightPacking = manifest.arrays.contains { $0.encoding == encoding(.base3) } ? .base3 : .planes
    let specs = layout(config, packing: packing)
    let expectedNames = Set(specs.map(\.name))
    if let extra = manifest.arrays.first(where: { !expectedNames.contains($0.name) }) {
      throw CheckpointError(file: manifestPath, tensor: extra.name, "not part of a model of \(config)")
    }
    func located(_ spec: ArraySpec) throws -> UnsafeRawBufferPointer {
      guard let a = byName[spec.name] else { throw CheckpointError(file: manifestPath, tensor: spec.name, "missing") }
      guard a.shape == spec.shape, a.encoding == spec.encoding, a.file == spec.file, a.bytes == spec.byteCount else {
        throw CheckpointError(
          file: manifestPath, tensor: spec.name,
          "\(a.encoding) \(a.shape) in \(a.file) (\(a.bytes) bytes), expected \(spec.encoding) \(spec.shape) in \(spec.file) (\(spec.byteCount) bytes)")
      }
      let file = mapped[a.file]!
      guard a.offset >= 0, a.offset <= file.size - a.bytes else {
        throw CheckpointError(file: file.displayName, tensor: spec.name, "bytes \(a.offset)..<\(a.offset + a.bytes) outside the file (\(file.size) bytes)")
      }
      return file.bytes(a.offset..<(a.offset + a.bytes))
    }
    func floats(_ spec: ArraySpec) throws -> [Float] {
      let raw = try located(spec)
      let values = (0..<raw.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
      if let bad = values.firstIndex(where: { !$0.isFinite }) {
        throw CheckpointError(file: mapped[spec.file]!.displayName, tensor: spec.name, "element \(bad) is \(values[bad].isNaN ? "NaN" : "infinite")")
      }
      return values
    }
    var vectors: [String: [Float]] = [:]
    var ternary: [String: PackedTernary] = [:]
    var pending: (spec: ArraySpec, planes: [UInt64])?
    for spec in specs {
      switch spec.kind {
      case .f32:
        vectors[spec.name] = try floats(spec)
      case .ternary:
        let raw = try located(spec)
        let planes: [UInt64]
        switch packing {
        case .planes:
          planes = (0..<raw.count / 8).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)) }
          try checkPlanes(planes, rows: spec.shape[0], cols: spec.shape[1], name: spec.name, file: mapped[spec.file]!.displayName)
        case .base3:
          planes = try base3Planes(raw, rows: spec.shape[0], cols: spec.shape[1], name: spec.name, file: mapped[spec.file]!.displayName)
        }
        let nonZero = stride(from: 0, to: planes.count, by: 2).reduce(0) { $0 + planes[$1].nonzeroBitCount }
        if let stated = byName[spec.name]!.nonZero, stated != nonZero {
          throw CheckpointError(file: manifestPath, tensor: spec.name, "\(nonZero) non-zero weights, the manifest says \(stated)")
        }
        pending = (spec, planes)
      case .beta:
        let beta = try floats(spec)[0]
        guard beta > 0, let (weightSpec, planes) = pending, weightSpec.name == spec.source else {
          throw CheckpointError(file: mapped[spec.file]!.displayName, tensor: spec.name, "beta \(beta) is not a positive scale")
        }
        ternary[weightSpec.name] = PackedTernary(rows: weightSpec.shape[0], cols: weightSpec.shape[1], planes: planes, beta: beta)
        pending = nil
      }
    }

    func projection(_ p: ModelConfig.Projection, _ layer: Int?) -> BitLinearWeights {
      BitLinearWeights(weight: ternary[TensorNames.projection(p, layer: layer)]!, normGamma: vectors[TensorNames.projectionNorm(p, layer: layer)]!)
    }
    let layers = (0..<config.layers).map { l in
      LayerWeights(
        attnNorm: vectors[TensorNames.vector(.attnNorm, layer: l)]!, i: projection(.i, l), f: projection(.f, l), g: projection(.g, l),
        o: projection(.o, l), gNorm: vectors[TensorNames.vector(.gNorm, layer: l)]!, mlpNorm: vectors[TensorNames.vector(.mlpNorm, layer: l)]!,
        gate: projection(.gate, l), down: projection(.down, l))
    }
    let weights = ModelWeights(
      config: config, embedding: vectors[TensorNames.embedding]!, layers: layers, lowerBoundsRaw: vectors[TensorNames.lowerBounds]!,
      finalNorm: vectors[TensorNames.finalNorm]!, lmHead: projection(.lmHead, nil))
    let stored = vectors[precomputedLowerBounds]!
    let d = config.hiddenSize
    for l in 0..<config.layers {
      for c in 0..<d where weights.lowerBounds[l][c].bitPattern != stored[l * d + c].bitPattern {
        throw CheckpointError(
          file: mapped["lower_bounds.bin"]!.displayName, tensor: precomputedLowerBounds,
          "layer \(l) channel \(c): stored \(stored[l * d + c]), recomputed from the raw values \(weights.lowerBounds[l][c])")
      }
    }
    let tokenizer = try mapped[Tokenizer.fileName].map { file in
      try Tokenizer(data: Data(file.bytes(0..<file.size)), displayName: file.displayName)
    }
    let info = CheckpointInfo(
      name: manifest.checkpoint.name, sourceHash: manifest.checkpoint.sourceHash, directory: directory, manifest: manifest, tokenizer: tokenizer)
    return (weights, info)
  }

  /// A `ternary-base3` matrix as `PackedTernary` planes: every byte a code below 243, the
  /// padding digits past the last weight zero.
  static func base3Planes(_ raw: UnsafeRawBufferPointer, rows: Int, cols: Int, name: String, file: String) throws -> [UInt64] {
    let words = PackedTernary.wordsPerRow(cols: cols)
    var planes = [UInt64](repeating: 0, count: 2 * rows * words)
    for (at, byte) in raw.enumerated() {
      guard let digits = TritPacking.unpack(byte) else {
        throw CheckpointError(file: file, tensor: name, "byte \(at): \(byte) is not a base-3 code (243-255 are reserved)")
      }
      for (k, w) in digits.enumerated() where w != 0 {
        let index = at * TritPacking.tritsPerByte + k
        guard index < rows * cols else { throw CheckpointError(file: file, tensor: name, "byte \(at): a weight past the matrix's \(rows * cols)") }
        let (r, c) = index.quotientAndRemainder(dividingBy: cols)
        let word = 2 * (r * words + c / 64), bit = UInt64(1) << UInt64(c % 64)
        planes[word] |= bit
        if w < 0 { planes[word + 1] |= bit }
      }
    }
    return planes
  }

  /// `PackedTernary`'s invariants, as an error instead of a trap.
  static func checkPlanes(_ planes: [UInt64], rows: Int, cols: Int, name: String, file: String) throws {
    let words = PackedTernary.wordsPerRow(cols: cols)
    let tailMask: UInt64 = cols % 64 == 0 ? ~0 : (UInt64(1) << UInt64(cols % 64)) - 1
    for r in 0..<rows {
      for k in 0..<words {
        let nz = planes[2 * (r * words + k)], neg = planes[2 * (r * words + k) + 1]
        guard neg & ~nz == 0 else { throw CheckpointError(file: file, tensor: name, "row \(r) word \(k): reserved weight code (negative without non-zero)") }
        guard k < words - 1 || nz & ~tailMask == 0 else { throw CheckpointError(file: file, tensor: name, "row \(r): weights past column \(cols)") }
      }
    }
  }
}

/// Results written by `concurrentPerform` workers, one slot each.
final class ConcurrentResults<T>: @unchecked Sendable {
  private var values: [T?]
  private let lock = NSLock()
  init(count: Int) { values = [T?](repeating: nil, count: count) }
  subscript(i: Int) -> T? {
    get { lock.lock(); defer { lock.unlock() }; return values[i] }
    set { lock.lock(); values[i] = newValue; lock.unlock() }
  }
}
