import Dispatch
import Foundation
import HWSpec
import HWSupport

/// `hwgen import`: a Hugging Face HGRN-Bit checkpoint to an hwgen model
/// directory (docs/import.md). The checkpoint is checked whole before any
/// value is converted (`HFCheckpoint`); then tensor by tensor, from the mapped
/// shards, each projection is ternarized (`Ternarize`) and everything is
/// written into a temporary sibling of the output directory, which is renamed
/// into place at the end. Any error, or Ctrl-C, leaves no output behind. The
/// sources are hashed on a second thread while the conversion runs. A
/// `tokenizer.json` next to the checkpoint is checked and copied.
public enum CheckpointImport {
  public struct Summary: Sendable {
    public let manifest: ModelManifest
    public let sourceBytes: Int
    public let shards: Int
    /// Fraction of zero weights over all projections.
    public let zeroFraction: Double
    public let betaRange: ClosedRange<Float>
  }

  /// - Parameter packing: how `ternary.bin` holds the weights: 2-bit planes (the default) or
  ///   base-3 bytes, five weights a byte (`ModelDirectory.base3Rule`).
  public static func run(_ source: URL, to output: URL, packing: WeightPacking = .planes) throws -> Summary {
    let checkpoint = try HFCheckpoint(source)
    let config = checkpoint.modelConfig
    let tokenizer = try readTokenizer(checkpoint.directory)
    let staging = try StagedDirectory(output)
    defer { staging.discard() }

    // Hash the sources on another thread while converting.
    let sourceFiles = try checkpoint.sourceFiles.map { url in
      try checkpoint.shards.first { $0.file.url == url }?.file ?? MappedFile(url)
    }
    let hashes = ConcurrentResults<String>(count: sourceFiles.count)
    let hashing = DispatchGroup()
    DispatchQueue.global().async(group: hashing) {
      for (i, file) in sourceFiles.enumerated() { hashes[i] = file.sha256() }
    }

    var outputs: [String: OutputFile] = [:]
    for name in ModelDirectory.files { outputs[name] = try OutputFile(staging.url.appendingPathComponent(name), displayName: output.appendingPathComponent(name).path) }
    var arrays: [ModelManifest.Array] = []
    var weights = 0, nonZero = 0
    var betaLow = Float.infinity, betaHigh = -Float.infinity
    var beta: Float = 0
    var rawLowerBounds: [Float] = []

    for spec in ModelDirectory.layout(config, packing: packing) {
      let out = outputs[spec.file]!
      let offset = out.size
      var count: Int?
      switch spec.kind {
      case .ternary:
        let packed = try checkpoint.ternarized(spec.source!)
        switch packing {
        case .planes: try packed.planes.withUnsafeBytes { try out.append($0) }
        case .base3:
          let weights = (0..<packed.rows).flatMap { r in (0..<packed.cols).map { packed[r, $0] } }
          try out.append(bytes: Data(TritPacking.pack(stream: weights)))
        }
        beta = packed.beta
        count = packed.nonZeroCount
        weights += packed.rows * packed.cols
        nonZero += packed.nonZeroCount
        betaLow = min(betaLow, beta)
        betaHigh = max(betaHigh, beta)
      case .beta:
        try withUnsafeBytes(of: beta.bitPattern.littleEndian) { try out.append($0) }
      case .f32 where spec.name == TensorNames.embedding:
        try copyRows(checkpoint, spec.source!, to: out)
      case .f32 where spec.name == ModelDirectory.precomputedLowerBounds:
        let lb = ModelWeights.lowerBounds(raw: rawLowerBounds, layers: config.layers, hiddenSize: config.hiddenSize)
        try out.append(floats: lb.flatMap { $0 })
      case .f32:
        let values = try checkpoint.floats(spec.source!)
        if spec.name == TensorNames.lowerBounds { rawLowerBounds = values }
        try out.append(floats: values)
      }
      arrays.append(ModelManifest.Array(
        name: spec.name, file: spec.file, offset: offset, bytes: out.size - offset, shape: spec.shape, encoding: spec.encoding,
        source: spec.source, nonZero: count))
    }
    var files = try ModelDirectory.files.map { try outputs[$0]!.finish() }
    if let tokenizer {
      let out = try OutputFile(staging.url.appendingPathComponent(Tokenizer.fileName), displayName: output.appendingPathComponent(Tokenizer.fileName).path)
      try out.append(bytes: tokenizer.data)
      files.append(try out.finish())
    }

    hashing.wait()
    let sources = sourceFiles.enumerated().map { i, file in
      ModelManifest.SourceFile(file: file.url.lastPathComponent, bytes: file.size, sha256: hashes[i]!)
    }
    var combined = SHA256()
    for s in sources { combined.update("\(s.sha256)  \(s.file)\n") }
    let manifest = ModelManifest(
      format: ModelManifest.formatName, formatVersion: ModelManifest.currentVersion,
      checkpoint: ModelManifest.Checkpoint(
        name: checkpoint.name, nameOrPath: checkpoint.config.nameOrPath, sources: sources, sourceHash: combined.hexDigest(),
        dtypes: checkpoint.dtypes),
      config: config,
      conversion: ModelManifest.conversionRules.merging(
        ["intermediateSize": checkpoint.config.intermediateSizeDerived ? "derived from hidden_ratio (intermediate_size is null)" : "config.json's intermediate_size"]
          .merging(packing == .base3 ? ["base3Packing": ModelDirectory.base3Rule] : [:]) { a, _ in a }
      ) { _, b in b },
      files: files, arrays: arrays)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    let manifestFile = try OutputFile(staging.url.appendingPathComponent(ModelDirectory.manifestName), displayName: output.appendingPathComponent(ModelDirectory.manifestName).path)
    try manifestFile.append(bytes: encoder.encode(manifest) + Data("\n".utf8))
    _ = try manifestFile.finish()
    try staging.commit()
    return Summary(
      manifest: manifest, sourceBytes: sources.reduce(0) { $0 + $1.bytes }, shards: checkpoint.shards.count,
      zeroFraction: weights == 0 ? 0 : 1 - Double(nonZero) / Double(weights), betaRange: betaLow...betaHigh)
  }

  /// The checkpoint directory's `tokenizer.json`, if it has one, checked by
  /// parsing it (`Tokenizer`); the model directory gets a byte-for-byte copy.
  static func readTokenizer(_ directory: URL) throws -> (data: Data, tokenizer: Tokenizer)? {
    let url = directory.appendingPathComponent(Tokenizer.fileName)
    guard FileManager.default.fileExists(atPath: url.path) else { return nil }
    let data: Data
    do { data = try Data(contentsOf: url) } catch { throw CheckpointError(file: url.path, "cannot read: \(ioReason(error))") }
    return (data, try Tokenizer(data: data, displayName: url.path))
  }

  /// A large Float32 tensor copied through a bounded buffer (finite values checked).
  static func copyRows(_ checkpoint: HFCheckpoint, _ name: String, to out: OutputFile) throws {
    guard let (shard, info) = checkpoint.lookup(name) else { preconditionFailure("tensor \(name) was checked to exist") }
    defer { shard.file.release(info.bytes) }
    let chunk = 1 << 20
    var buffer = [Float](repeating: 0, count: min(chunk, info.count))
    var start = 0
    while start < info.count {
      let n = min(chunk, info.count - start)
      try buffer.withUnsafeMutableBufferPointer { try shard.read(info, from: start, count: n, into: $0.baseAddress!) }
      try buffer[0..<n].withUnsafeBytes { try out.append($0) }
      start += n
    }
  }
}

/// One output file written front to back, hashed as it is written.
final class OutputFile {
  let url: URL
  let displayName: String
  private let handle: FileHandle
  private var hasher = SHA256()
  private(set) var size = 0

  init(_ url: URL, displayName: String) throws {
    self.url = url
    self.displayName = displayName
    guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
      throw CheckpointError(file: displayName, "cannot create: \(String(cString: strerror(errno)))")
    }
    do { handle = try FileHandle(forWritingTo: url) } catch { throw CheckpointError(file: displayName, "cannot open for writing: \(ioReason(error))") }
  }

  func append(_ bytes: UnsafeRawBufferPointer) throws {
    do { try handle.write(contentsOf: Data(bytes)) } catch { throw CheckpointError(file: displayName, "cannot write: \(ioReason(error))") }
    hasher.update(bytes)
    size += bytes.count
  }

  func append(bytes data: Data) throws { try data.withUnsafeBytes { try append($0) } }

  /// Float32 values, little-endian.
  func append(floats values: [Float]) throws {
    let le = values.map { $0.bitPattern.littleEndian }
    try le.withUnsafeBytes { try append($0) }
  }

  func finish() throws -> ModelManifest.OutputFile {
    do { try handle.close() } catch { throw CheckpointError(file: displayName, "cannot write: \(ioReason(error))") }
    return ModelManifest.OutputFile(name: url.lastPathComponent, bytes: size, sha256: hasher.hexDigest())
  }
}

/// A directory written in a temporary sibling (`.NAME.tmp-PID-RANDOM`, as
/// `FileOutput` names its staging) and renamed into place by `commit`; until
/// then Ctrl-C removes it (`Interrupts`), and `discard` removes it after an
/// error. The destination must not exist or be an empty directory.
final class StagedDirectory {
  let destination: URL
  let url: URL
  private let registration: Interrupts.Registration
  private var committed = false

  init(_ destination: URL) throws {
    let fm = FileManager.default
    self.destination = destination
    var isDirectory: ObjCBool = false
    if fm.fileExists(atPath: destination.path, isDirectory: &isDirectory) {
      guard isDirectory.boolValue else { throw CheckpointError(file: destination.path, "exists and is not a directory") }
      guard (try? fm.contentsOfDirectory(atPath: destination.path))?.isEmpty == true else {
        throw CheckpointError(file: destination.path, "exists and is not empty; hwgen import writes a new model directory")
      }
    }
    let parent = destination.deletingLastPathComponent()
    url = parent.appendingPathComponent(".\(destination.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    registration = Interrupts.removeOnInterrupt(url)
    do {
      try fm.createDirectory(at: url, withIntermediateDirectories: true)
    } catch {
      registration.release()
      throw CheckpointError(file: destination.path, "cannot write: \(ioReason(error))")
    }
  }

  func commit() throws {
    let fm = FileManager.default
    try Interrupts.uninterrupted {
      if fm.fileExists(atPath: destination.path) { try? fm.removeItem(at: destination) }  // checked empty
      if rename(url.path, destination.path) != 0 {
        throw CheckpointError(file: destination.path, "cannot write: \(String(cString: strerror(errno)))")
      }
    }
    committed = true
  }

  func discard() {
    if !committed { try? FileManager.default.removeItem(at: url) }
    registration.release()
  }
}

/// The POSIX reason behind a Foundation I/O error ("No space left on device").
func ioReason(_ error: Error) -> String {
  let ns = error as NSError
  if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
  if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
    return String(cString: strerror(Int32(underlying.code)))
  }
  return ns.localizedDescription
}
