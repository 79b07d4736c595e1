import Foundation
import HWSupport

/// A Verilated shared library ready for `VerilatedModel`.
public struct BuiltLibrary: Sendable {
  /// `libmodel.so` inside the cache entry.
  public let path: URL
  public let key: String
  /// True when an existing cache entry was used.
  public let fromCache: Bool
  /// Wall time of the build; 0 for a cache hit.
  public let buildSeconds: Double
  /// Verilator's output (warnings included) and the compiler commands.
  public let buildLog: URL
  public let ports: [SimPort]
  public let clockPort: String?
  public let trace: VerilatorBuildSpec.TraceFormat?
}

/// Content-addressed cache of Verilated libraries: `<root>/verilator/<key>/` holds
/// `libmodel.so`, `build.log` and a `manifest`. The key is the SHA-256 of everything that
/// affects the library (sources, top, ports, flags, tool versions, and the bytes of the
/// shim's files in `Sim/verilator`).
///
/// An entry is built in a temporary directory and renamed into place, so a killed or
/// concurrent build never leaves half an entry; when another process wins the rename,
/// its entry is used. An entry that fails to check (manifest, size, `dlopen`, embedded
/// key) is deleted and rebuilt.
public struct VerilatorBuildCache: Sendable {
  public let root: URL

  public init(root: URL = VerilatorBuildCache.defaultRoot) {
    self.root = root
  }

  /// `$HWGEN_CACHE`, else `$XDG_CACHE_HOME/hwgen`, else `~/.cache/hwgen`.
  public static var defaultRoot: URL {
    let environment = ProcessInfo.processInfo.environment
    if let path = environment["HWGEN_CACHE"], !path.isEmpty { return URL(fileURLWithPath: path, isDirectory: true) }
    if let path = environment["XDG_CACHE_HOME"], !path.isEmpty {
      return URL(fileURLWithPath: path, isDirectory: true).appendingPathComponent("hwgen", isDirectory: true)
    }
    return FileManager.default.homeDirectoryForCurrentUser
      .appendingPathComponent(".cache", isDirectory: true).appendingPathComponent("hwgen", isDirectory: true)
  }

  var directory: URL { root.appendingPathComponent("verilator", isDirectory: true) }

  /// The cache key of `spec` with the installed tools.
  public func key(for spec: VerilatorBuildSpec) throws -> String {
    try spec.validate()
    return try Self.key(for: spec, toolchain: try VerilatorToolchain.current())
  }

  static func key(for spec: VerilatorBuildSpec, toolchain: VerilatorToolchain) throws -> String {
    try key(for: spec, toolchain: toolchain, shimDigest: VerilatorShim.files().digest)
  }

  static func key(for spec: VerilatorBuildSpec, toolchain: VerilatorToolchain, shimDigest: String) -> String {
    // Length-prefixed fields, so no two specs serialize alike.
    var text = ""
    func field(_ name: String, _ value: String) { text += "\(name) \(value.utf8.count)\n\(value)\n" }
    field("shim", shimDigest)
    field("tools", toolchain.fingerprint)
    field("top", spec.topModule)
    for file in spec.sources {
      field("file", file.fileName)
      field("text", file.text)
    }
    for port in spec.ports { field("port", "\(port.name) \(port.width) \(port.direction)") }
    field("clock", spec.clockPort ?? "")
    for flag in spec.verilatorFlags { field("verilator-flag", flag) }
    for flag in spec.compilerFlags { field("cxx-flag", flag) }
    field("trace", spec.trace?.rawValue ?? "")
    field("threads", String(spec.threads))
    return SHA256.hex(text)
  }

  /// The library for `spec`: from the cache, or built now.
  public func library(for spec: VerilatorBuildSpec) throws -> BuiltLibrary {
    try spec.validate()
    let toolchain = try VerilatorToolchain.current()
    let key = try Self.key(for: spec, toolchain: toolchain)
    let entry = directory.appendingPathComponent(key, isDirectory: true)
    let fm = FileManager.default

    if let hit = cached(entry, key: key, spec: spec) { return hit }
    // One build at a time per process: a second build would only compete for the same
    // cores, and another thread may be building this very key (or the shared runtime).
    Self.buildLock.lock()
    defer { Self.buildLock.unlock() }
    if let hit = cached(entry, key: key, spec: spec) { return hit }

    let start = DispatchTime.now().uptimeNanoseconds
    do {
      try fm.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
      throw VerilatorError.cacheFailed("cannot create the cache directory \(directory.path): \(error.localizedDescription)")
    }
    sweepLeftovers()
    let scratch = directory.appendingPathComponent("tmp-\(key.prefix(12))-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    let tracked = Interrupts.removeOnInterrupt(scratch)
    defer {
      try? fm.removeItem(at: scratch)
      tracked.release()
    }
    let staged = scratch.appendingPathComponent("entry", isDirectory: true)
    let build = VerilatorBuild(
      spec: spec, key: key, toolchain: toolchain, directory: scratch,
      runtimeDirectory: directory.appendingPathComponent("runtime", isDirectory: true),
      failureLog: directory.appendingPathComponent("failed-\(key).log"))
    let log = try build.run(into: staged)
    try? fm.removeItem(at: build.failureLog)
    let libraryFile = staged.appendingPathComponent("libmodel.so")
    let size = (try fm.attributesOfItem(atPath: libraryFile.path)[.size] as? Int) ?? 0
    try Data(log.utf8).write(to: staged.appendingPathComponent("build.log"))
    try Data("key \(key)\nsize \(size)\nabi \(VerilatorShim.abiVersion)\n".utf8)
      .write(to: staged.appendingPathComponent("manifest"))
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9

    // An interrupt waits for the rename; it can never expose a partial entry under the key.
    if Interrupts.uninterrupted({ rename(staged.path, entry.path) }) != 0 {
      let reason = String(cString: strerror(errno))
      // Another process finished first: use its entry if it is sound, else replace it.
      if let theirs = cached(entry, key: key, spec: spec) { return theirs }
      guard rename(staged.path, entry.path) == 0 else {
        throw VerilatorError.cacheFailed("cannot move the built library into \(entry.path): \(reason)")
      }
    }
    if let problem = problem(with: entry, key: key) {
      throw VerilatorError.loadFailed("the library just built at \(entry.path) is unusable: \(problem)")
    }
    return library(at: entry, key: key, spec: spec, seconds: seconds)
  }

  private static let buildLock = NSLock()

  /// The entry if it is sound; a damaged entry is discarded.
  private func cached(_ entry: URL, key: String, spec: VerilatorBuildSpec) -> BuiltLibrary? {
    guard FileManager.default.fileExists(atPath: entry.path) else { return nil }
    if problem(with: entry, key: key) == nil { return library(at: entry, key: key, spec: spec, seconds: nil) }
    discard(entry)
    return nil
  }

  private func library(at entry: URL, key: String, spec: VerilatorBuildSpec, seconds: Double?) -> BuiltLibrary {
    BuiltLibrary(
      path: entry.appendingPathComponent("libmodel.so"), key: key, fromCache: seconds == nil,
      buildSeconds: seconds ?? 0, buildLog: entry.appendingPathComponent("build.log"), ports: spec.ports,
      clockPort: spec.clockPort, trace: spec.trace)
  }

  /// Why the entry cannot be used, or nil when it is sound.
  func problem(with entry: URL, key: String) -> String? {
    let library = entry.appendingPathComponent("libmodel.so")
    guard let manifest = try? String(contentsOf: entry.appendingPathComponent("manifest"), encoding: .utf8) else {
      return "no manifest"
    }
    let fields = Dictionary(
      manifest.split(separator: "\n").compactMap { line -> (String, String)? in
        let parts = line.split(separator: " ", maxSplits: 1)
        return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
      }, uniquingKeysWith: { first, _ in first })
    guard fields["key"] == key, fields["abi"] == String(VerilatorShim.abiVersion) else { return "manifest of another build" }
    guard let size = (try? FileManager.default.attributesOfItem(atPath: library.path))?[.size] as? Int else {
      return "libmodel.so is missing"
    }
    guard String(size) == fields["size"] else { return "libmodel.so has \(size) bytes, the build wrote \(fields["size"] ?? "?")" }
    do {
      let loaded = try SharedLibrary(library)
      let symbols = try ShimSymbols(loaded)
      guard symbols.abiVersion() == VerilatorShim.abiVersion else { return "shim ABI version differs" }
      guard let embedded = symbols.cacheKey(), String(cString: embedded) == key else { return "library of another build" }
    } catch {
      return "\(error)"
    }
    return nil
  }

  /// Removes an entry without ever exposing a half-deleted one under its key.
  private func discard(_ entry: URL) {
    let trash = directory.appendingPathComponent("trash-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    if rename(entry.path, trash.path) == 0 { try? FileManager.default.removeItem(at: trash) }
  }

  /// Deletes scratch and trash directories of builds killed more than a day ago.
  private func sweepLeftovers() {
    let fm = FileManager.default
    guard let names = try? fm.contentsOfDirectory(atPath: directory.path) else { return }
    let cutoff = Date().addingTimeInterval(-86_400)
    for name in names where name.hasPrefix("tmp-") || name.hasPrefix("trash-") {
      let path = directory.appendingPathComponent(name).path
      if let modified = (try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date, modified < cutoff {
        try? fm.removeItem(atPath: path)
      }
    }
  }
}
