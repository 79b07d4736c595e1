import Foundation
import HWSupport

/// One build of a Verilated shared library in a private directory:
/// `verilator --cc`, a check of the design's ports against the spec, then the model, the
/// shim (`Sim/verilator/hw_shim.cpp` with the design's `hw_design.h`) and Verilator's
/// runtime compiled and linked into one `-fPIC -shared` library.
///
/// Compile time is mostly header parsing, so the model's files are compiled as one or two
/// unity translation units (hot code with the shim, slow code at `-O0`), two compiler
/// processes at a time. Verilator's runtime (`verilated.cpp` alone takes ~5 s) is compiled
/// once per toolchain and flags into `runtimeDirectory` and reused by every design.
struct VerilatorBuild {
  let spec: VerilatorBuildSpec
  let key: String
  let toolchain: VerilatorToolchain
  /// Private scratch directory; the caller deletes it.
  let directory: URL
  /// Shared directory of cached runtime objects.
  let runtimeDirectory: URL
  /// Where the full log of a failed build is kept.
  let failureLog: URL

  static let parallelJobs = 2
  /// Hot model code above this size is split into two translation units.
  static let splitThreshold = 200_000

  private var sourceDirectory: URL { directory.appendingPathComponent("src") }
  private var objectDirectory: URL { directory.appendingPathComponent("obj") }

  /// Builds `libmodel.so` into `output`, returns the build log.
  func run(into output: URL) throws -> String {
    let fm = FileManager.default
    for dir in [sourceDirectory, objectDirectory, output] {
      try fm.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    for file in spec.sources {
      try Data(file.text.utf8).write(to: sourceDirectory.appendingPathComponent(file.fileName))
    }
    var log = "hwgen Verilator build \(key)\n\(toolchain.fingerprint)\n\n"

    // 1. Verilate. Run in the source directory so messages name files as the spec does.
    var arguments = ["--cc"] + spec.verilatorFlags
    switch spec.trace {
    case .vcd?: arguments.append("--trace")
    case .fst?: arguments.append("--trace-fst")
    case nil: break
    }
    arguments += ["--threads", String(spec.threads), "--top-module", spec.topModule, "-Mdir", objectDirectory.path]
    arguments += spec.compiledSources.map(\.fileName)
    let verilated = try ProcessResult.run(toolchain.verilator, arguments, in: sourceDirectory)
    log += "$ verilator \(arguments.joined(separator: " "))\n\(verilated.output)\n"
    guard verilated.succeeded else {
      throw VerilatorError.verilatorFailed(excerpt: Self.excerpt(verilated.output, marker: "%Error"), log: keep(log))
    }

    // 2. The ports Verilator found must be the spec's, or the shim would not compile.
    let prefix = "V\(spec.topModule)"
    let header = try String(contentsOf: objectDirectory.appendingPathComponent(prefix + ".h"), encoding: .utf8)
    let problems = Self.portProblems(spec: spec.ports, header: header)
    if !problems.isEmpty { throw VerilatorError.portMismatch(problems) }

    // 3. Compile the model, shim and runtime; link.
    let classes = try VerilatedClasses(
      makefile: String(contentsOf: objectDirectory.appendingPathComponent(prefix + "_classes.mk"), encoding: .utf8))
    let shim = try VerilatorShim.files()
    for file in shim.contents { try file.data.write(to: objectDirectory.appendingPathComponent(file.name)) }
    try Data(VerilatorShim.designHeader(for: spec, key: key).utf8)
      .write(to: objectDirectory.appendingPathComponent(VerilatorShim.designHeaderName))
    // The runtime's flags must not depend on the design: of the VM_* switches it only reads
    // VM_SC (VM_TRACE just defines the compatibility macro WAVES), so one set of runtime
    // objects serves traced and untraced designs alike.
    var runtimeFlags = ["-fPIC", "-pthread", "-w"] + toolchain.cxxFlags
    runtimeFlags += ["-I", toolchain.includeDirectory, "-I", toolchain.includeDirectory + "/vltstd"]
    runtimeFlags += ["-DVM_SC=0", "-DVL_USER_FINISH", "-DVL_USER_STOP", "-DVL_USER_FATAL"]
    if classes.timing { runtimeFlags += toolchain.coroutineFlags }
    runtimeFlags += spec.compilerFlags
    let modelFlags = runtimeFlags + ["-I", objectDirectory.path] + classes.defines

    var jobs: [CompileJob] = []
    let (runtimeJobs, runtimeObjects, runtimeCached) = try runtime(classes: classes, flags: runtimeFlags, shim: shim)
    jobs += runtimeJobs
    for (index, group) in Self.split(classes.fast, sizes: sizes(classes.fast)).enumerated() {
      let units = (index == 0 ? [VerilatorShim.sourceName] + VerilatorShim.harnessSourceNames : []) + group.map { $0 + ".cpp" }
      jobs.append(try unity("hw_unity_fast\(index)", units, flags: modelFlags))
    }
    if !classes.slow.isEmpty {
      jobs.append(try unity("hw_unity_slow", classes.slow.map { $0 + ".cpp" }, flags: modelFlags + ["-O0"]))
    }
    log += try compile(jobs)

    var link = ["-shared", "-o", output.appendingPathComponent("libmodel.so").path]
    link += jobs.filter { !$0.isRuntime }.map(\.output.path) + runtimeObjects.map(\.path)
    link += toolchain.threadLibs + (spec.trace == .fst ? ["-lz"] : [])
    var linked = try ProcessResult.run(toolchain.cxx, link, in: objectDirectory)
    if !linked.succeeded && runtimeCached {
      // Perhaps a damaged cached runtime object: compile those objects again, once.
      log += "$ \(toolchain.cxx) \(link.joined(separator: " "))\n\(linked.output)\nrecompiling the runtime objects\n"
      for object in runtimeObjects { try? FileManager.default.removeItem(at: object) }
      let (again, _, _) = try runtime(classes: classes, flags: runtimeFlags, shim: shim)
      log += try compile(again)
      linked = try ProcessResult.run(toolchain.cxx, link, in: objectDirectory)
    }
    log += "$ \(toolchain.cxx) \(link.joined(separator: " "))\n\(linked.output)\n"
    guard linked.succeeded else { throw compileFailure(linked.output, log: log) }
    return log
  }

  // MARK: - Compiling

  struct CompileJob {
    /// Everything but `-o <output>`.
    var arguments: [String]
    var output: URL
    /// Runtime objects are compiled to a temporary name and renamed into the shared cache.
    var isRuntime: Bool
  }

  private func unity(_ name: String, _ files: [String], flags: [String]) throws -> CompileJob {
    let source = objectDirectory.appendingPathComponent(name + ".cpp")
    let text = "// Generated by hwgen: one translation unit for several Verilator output files.\n"
      + files.map { "#include \"\($0)\"\n" }.joined()
    try Data(text.utf8).write(to: source)
    let object = objectDirectory.appendingPathComponent(name + ".o")
    return CompileJob(arguments: flags + ["-c", source.path], output: object, isRuntime: false)
  }

  /// Cached runtime objects, and jobs for the missing ones.
  private func runtime(
    classes: VerilatedClasses, flags: [String], shim: VerilatorShim.Files
  ) throws -> ([CompileJob], [URL], Bool) {
    let digest = SHA256.hex("\(toolchain.fingerprint)\nruntime wrapper \(shim.runtimeDigest)\n\(flags.joined(separator: "\n"))")
    let directory = runtimeDirectory.appendingPathComponent(String(digest.prefix(32)))
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    var jobs: [CompileJob] = []
    var objects: [URL] = []
    var allCached = true
    for name in classes.global {
      let object = directory.appendingPathComponent(name + ".o")
      objects.append(object)
      if Self.looksLikeObject(object) { continue }
      allCached = false
      let wrapper = objectDirectory.appendingPathComponent(VerilatorShim.runtimeSourceName)
      let arguments = flags + [VerilatorShim.runtimeDefine(for: name), "-c", wrapper.path]
      jobs.append(CompileJob(arguments: arguments, output: object, isRuntime: true))
    }
    return (jobs, objects, allCached)
  }

  static func looksLikeObject(_ url: URL) -> Bool {
    guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
    defer { try? handle.close() }
    return (try? handle.read(upToCount: 4)) == Data([0x7F, 0x45, 0x4C, 0x46])  // ELF
  }

  /// Runs the jobs two at a time; returns their log, or throws the first failure.
  private func compile(_ jobs: [CompileJob]) throws -> String {
    let results = ResultSlots(count: jobs.count)
    let toolchain = self.toolchain
    DispatchQueue.concurrentPerform(iterations: min(Self.parallelJobs, jobs.count)) { _ in
      while let index = results.claim() {
        let job = jobs[index]
        guard job.isRuntime else {
          results.store(index, Result { try ProcessResult.run(toolchain.cxx, job.arguments + ["-o", job.output.path]) })
          continue
        }
        // Builds in other processes may compile the same runtime object: each writes its
        // own temporary file and renames it into place.
        let temporary = job.output.deletingLastPathComponent()
          .appendingPathComponent(".\(job.output.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let tracked = Interrupts.removeOnInterrupt(temporary)
        let result = Result { try ProcessResult.run(toolchain.cxx, job.arguments + ["-o", temporary.path]) }
        if (try? result.get())?.succeeded != true || rename(temporary.path, job.output.path) != 0 {
          try? FileManager.default.removeItem(at: temporary)
        }
        tracked.release()
        results.store(index, result)
      }
    }
    var log = ""
    for (job, result) in zip(jobs, results.values) {
      let done = try result!.get()
      log += "$ \(toolchain.cxx) \((job.arguments + ["-o", job.output.path]).joined(separator: " "))\n\(done.output)\n"
      if !done.succeeded { throw compileFailure(done.output, log: log) }
    }
    return log
  }

  private func compileFailure(_ output: String, log: String) -> VerilatorError {
    if output.contains("zlib.h") || output.contains("cannot find -lz") {
      return .missingDependency("FST tracing needs zlib; install it with: apt-get install -y zlib1g-dev")
    }
    return .compileFailed(excerpt: Self.excerpt(output, marker: "error"), log: keep(log))
  }

  /// Saves the log of a failed build next to the cache entries; returns its path.
  private func keep(_ log: String) -> String {
    try? FileOutput.writeAtomically(Data(log.utf8), to: failureLog)
    return failureLog.path
  }

  private func sizes(_ names: [String]) -> [Int] {
    names.map { name in
      let path = objectDirectory.appendingPathComponent(name + ".cpp").path
      return (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }
  }

  /// One group, or two of similar size when the code is large.
  static func split(_ names: [String], sizes: [Int]) -> [[String]] {
    guard names.count > 1, sizes.reduce(0, +) > splitThreshold else { return [names] }
    var groups: [[String]] = [[], []]
    var totals = [0, 0]
    for index in names.indices.sorted(by: { sizes[$0] > sizes[$1] }) {
      let lighter = totals[0] <= totals[1] ? 0 : 1
      groups[lighter].append(names[index])
      totals[lighter] += sizes[index]
    }
    return groups
  }

  /// The first lines mentioning `marker`, each with the two lines after it; or the
  /// output's first lines when none does.
  static func excerpt(_ output: String, marker: String, limit: Int = 20) -> String {
    let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var picked: [String] = []
    var index = 0
    while index < lines.count, picked.count < limit {
      if lines[index].contains(marker) {
        picked += lines[index..<min(index + 3, lines.count)]
        index += 3
      } else {
        index += 1
      }
    }
    if picked.isEmpty { picked = Array(lines.prefix(limit)) }
    return picked.prefix(limit).joined(separator: "\n")
  }

  // MARK: - Ports

  /// Ports as Verilator declares them in `V<top>.h` (`VL_IN8(&name,msb,lsb);`, `VL_OUTW(&name,msb,lsb,words);`).
  static func headerPorts(_ header: String) -> [(name: String, width: Int, direction: SimPort.Direction?)] {
    var ports: [(String, Int, SimPort.Direction?)] = []
    for raw in header.split(separator: "\n") {
      let line = raw.trimmingCharacters(in: .whitespaces)
      guard line.hasPrefix("VL_IN") || line.hasPrefix("VL_OUT"),
        let open = line.firstIndex(of: "("), let close = line.lastIndex(of: ")")
      else { continue }
      let macro = line[..<open]
      let arguments = line[line.index(after: open)..<close].split(separator: ",").map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      guard arguments.count >= 3, let msb = Int(arguments[1]), let lsb = Int(arguments[2]) else { continue }
      let name = arguments[0].hasPrefix("&") ? String(arguments[0].dropFirst()) : arguments[0]
      let direction: SimPort.Direction? =
        macro.hasPrefix("VL_INOUT") ? nil : macro.hasPrefix("VL_IN") ? .input : .output
      ports.append((name, abs(msb - lsb) + 1, direction))
    }
    return ports
  }

  static func portProblems(spec: [SimPort], header: String) -> [String] {
    let found = headerPorts(header)
    var problems: [String] = []
    for port in spec {
      guard let design = found.first(where: { $0.name == port.name }) else {
        problems.append("port \(port.name) is not a port of the design")
        continue
      }
      if design.direction != port.direction || design.width != port.width {
        problems.append(
          "port \(port.name): spec says \(port.width)-bit \(port.direction), design has \(design.width)-bit "
            + (design.direction.map { "\($0)" } ?? "inout"))
      }
    }
    for design in found where !spec.contains(where: { $0.name == design.name }) {
      problems.append("design port \(design.name) (\(design.width) bits) is missing from the spec")
    }
    return problems
  }
}

/// The file lists of `V<top>_classes.mk`.
struct VerilatedClasses {
  /// Model files compiled for speed (`VM_CLASSES_FAST`, `VM_SUPPORT_FAST`).
  var fast: [String] = []
  /// Model files run once (`VM_CLASSES_SLOW`, `VM_SUPPORT_SLOW`).
  var slow: [String] = []
  /// Verilator runtime files in `include/` (`VM_GLOBAL_FAST`, `VM_GLOBAL_SLOW`).
  var global: [String] = []
  /// `-DVM_TRACE=1` and friends.
  var defines: [String] = []
  var timing = false

  init(makefile: String) throws {
    var list: String?
    for raw in makefile.split(separator: "\n") {
      let line = raw.trimmingCharacters(in: .whitespaces)
      if line.hasSuffix("+= \\") {
        list = String(line.dropLast(4)).trimmingCharacters(in: .whitespaces)
        continue
      }
      if let current = list {
        guard line.hasSuffix("\\") else {
          list = nil
          continue
        }
        let name = line.dropLast().trimmingCharacters(in: .whitespaces)
        switch current {
        case "VM_CLASSES_FAST", "VM_SUPPORT_FAST": fast.append(name)
        case "VM_CLASSES_SLOW", "VM_SUPPORT_SLOW": slow.append(name)
        case "VM_GLOBAL_FAST", "VM_GLOBAL_SLOW": global.append(name)
        default: break
        }
        continue
      }
      let parts = line.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
      if parts.count == 2, ["VM_COVERAGE", "VM_TIMING", "VM_TRACE", "VM_TRACE_VCD", "VM_TRACE_FST"].contains(parts[0]) {
        defines.append("-D\(parts[0])=\(parts[1])")
        if parts[0] == "VM_TIMING", parts[1] != "0" { timing = true }
      }
    }
    guard !fast.isEmpty, !global.isEmpty else {
      throw VerilatorError.cacheFailed("unexpected Verilator classes makefile: no model or runtime files listed")
    }
  }
}

/// Results of parallel jobs, filled from several threads.
private final class ResultSlots: @unchecked Sendable {
  private let lock = NSLock()
  private var next = 0
  private(set) var values: [Result<ProcessResult, Error>?]

  init(count: Int) { values = Array(repeating: nil, count: count) }

  func claim() -> Int? {
    lock.lock()
    defer { lock.unlock() }
    guard next < values.count else { return nil }
    next += 1
    return next - 1
  }

  func store(_ index: Int, _ result: Result<ProcessResult, Error>) {
    lock.lock()
    values[index] = result
    lock.unlock()
  }
}
