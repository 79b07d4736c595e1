import Foundation
import HWSupport
import Testing

/// A running `hwgen`, for tests that interrupt it or run two at once.
private final class RunningHWGen: @unchecked Sendable {
  let process = Process()
  private let pipe = Pipe()
  private var data = Data()
  private let reader = DispatchGroup()

  init(_ arguments: [String], environment: [String: String]) throws {
    process.executableURL = URL(fileURLWithPath: HWGenProcess.executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    process.standardOutput = pipe
    process.standardError = pipe
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let handle = pipe.fileHandleForReading
    reader.enter()
    DispatchQueue.global().async { [self] in
      data = handle.readDataToEndOfFile()
      reader.leave()
    }
  }

  /// Waits for the end; returns the exit status and everything printed.
  func finish() -> (status: Int32, output: String) {
    process.waitUntilExit()
    reader.wait()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }
}

/// Every name in `dir`, recursively, relative to it, sorted.
private func tree(_ dir: URL) -> [String] {
  guard let enumerator = FileManager.default.enumerator(atPath: dir.path) else { return [] }
  return enumerator.compactMap { $0 as? String }.sorted()
}

/// A directory of symlinks to the tools hwgen runs, less `missing`: a PATH without that tool.
private func pathWithout(_ missing: [String]) throws -> String {
  let dir = temporaryDirectory().appendingPathComponent("bin")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  for tool in ["verilator", "verilator_bin", "g++", "iverilog", "vvp", "yosys", "perl", "make", "sh"] where !missing.contains(tool) {
    for prefix in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.fileExists(atPath: "\(prefix)/\(tool)") {
      try? FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent(tool).path, withDestinationPath: "\(prefix)/\(tool)")
      break
    }
  }
  return dir.path
}

private func coreRun(lanes: Int = 2) -> [String] {
  ["core", "--lanes", String(lanes), "--lane-width", "3", "--rows", "5", "--cols", "7", "--vectors", "2"]
}
private let smallCore = coreRun()

/// The CLI under bad input, missing tools, damaged and shared caches,
/// interrupts and unwritable outputs; and its outputs' determinism.
@Suite struct HardeningTests {
  static let badValues: [([String], String)] = [
    // emit
    (["emit", "--lanes", "0"], "lanes must be between 1 and 256, got 0"),
    (["emit", "--lanes", "x"], "'x' is invalid"),
    (["emit", "--lanes"], "Missing value"),
    (["emit", "--lane-width", "1025"], "lane width must be between 1 and 1024, got 1025"),
    (["emit", "--lane-width", "1.5"], "'1.5' is invalid"),
    (["emit", "--reduction", "wallace"], "wallace"),
    (["emit", "--lanes", "128", "--lane-width", "256"], "weights per cycle"),
    (["emit", "--packing", "base4"], "base4"),
    // core
    (["core", "--lanes", "300"], "lanes must be between 1 and 256, got 300"),
    (["core", "--lane-width", "-1"], "lane-width"),
    (["core", "--reduction", "tree"], "tree"),
    (["core", "--rows", "0"], "rows must be between 1 and 65536, got 0"),
    (["core", "--rows", "many"], "'many' is invalid"),
    (["core", "--cols", "11265"], "cols must be between 1 and 11264"),
    (["core", "--vectors", "0"], "vectors must be between 1 and 1024, got 0"),
    (["core", "--vectors", "2000"], "vectors must be between 1 and 1024, got 2000"),
    (["core", "--seed", "-1"], "seed"),
    (["core", "--seed", "1e3"], "'1e3' is invalid"),
    (["core", "--stalls=yes"], "stalls"),
    (["core", "--frobnicate"], "frobnicate"),
    // bench
    (["bench", "core", "--mweights", "0"], "mweights must be between 1 and 100000, got 0"),
    (["bench", "core", "--variants", "default,turbo"], "unknown variant 'turbo'"),
    (["bench", "core", "--lanes", "0"], "lanes must be between 1 and 256"),
    (["bench", "core", "--seed", "abc"], "'abc' is invalid"),
    (["bench", "golden", "--model", "7b"], "unknown model '7b'"),
    (["bench", "golden", "--tokens", "0"], "tokens must be between 1 and 4096, got 0"),
    (["bench", "golden", "--window", "0"], "window must be between 1 and 4096, got 0"),
    (["bench", "golden", "--text", "In the beginning"], "--text needs an imported model with tokenizer.json"),
    (["bench", "golden", "--logits", "/"], "logits: / is a directory"),
    (["bench", "golden", "--logits", "/proc/hwgen-logits.npy"], "logits: cannot write /proc/hwgen-logits.npy"),
    (["bench", "turbo"], "turbo"),
    // regress
    (["regress", "--configs", ""], "empty entry"),
    (["regress", "--configs", "4x"], "config '4x' is not LANESxWIDTH[:REDUCTION]"),
    (["regress", "--configs", "4x8:wallace"], "unknown reduction 'wallace'"),
    (["regress", "--configs", "0x8"], "lanes must be between 1 and 256, got 0"),
    (["regress", "--configs", "full,512x1"], "config '512x1': lanes must be between 1 and 256, got 512"),
    (["regress", "--seeds", "0"], "seeds must be between 1 and 10000, got 0"),
    (["regress", "--seeds", "three"], "'three' is invalid"),
    (["regress", "--seed-base", "-5"], "seed-base"),
    (["regress", "--seed-base", "18446744073709551615", "--seeds", "2"], "passes the largest seed"),
    (["regress", "--simulator", "vcs"], "'vcs' is invalid"),
    (["regress", "--jobs", "0"], "jobs must be between 1 and 64, got 0"),
    (["regress", "--jobs", "65"], "jobs must be between 1 and 64, got 65"),
    (["regress", "--junit", "/"], "junit: / is a directory"),
    (["regress", "--junit", "/proc/hwgen-junit.xml"], "junit: cannot write /proc/hwgen-junit.xml"),
    (["regress", "--keep-failures", "/proc/self/status"], "keep-failures: /proc/self/status exists and is not a directory"),
    // simulate
    (["simulate", "--model", "7b"], "unknown model '7b'"),
    (["simulate", "--lanes", "24"], "lanes must be 1, 2, 4, 8, 16, 32, 64 or a multiple of 64, got 24"),
    (["simulate", "--lanes", "0"], "lanes must be between 1 and 256, got 0"),
    (["simulate", "--tokens", "0"], "tokens must be between 1 and 100000, got 0"),
    (["simulate", "--weight-fifo-kib", "0"], "weight FIFO must be between 1 and 65536 KiB, got 0"),
    (["simulate", "--model", "tiny", "--prompt", "1,x"], "prompt ids must be integers in 0..<512, got 'x'"),
    (["simulate", "--model", "tiny", "--prompt", "512"], "prompt ids must be integers in 0..<512, got '512'"),
    (["simulate", "--prompt", "2048"], "prompt ids must be integers in 0..<2048, got '2048'"),
    (["simulate", "--model", "tiny", "--layers", "3"], "model tiny has 2 layers, --layers 3 is more"),
    (["simulate", "--layers", "5"], "model kjv-2m has 4 layers, --layers 5 is more"),
    (["simulate", "--model", "tiny", "--text", "hello"], "the --model presets have none"),
    (["simulate", "--logits", "/"], "logits: / is a directory"),
    (["simulate", "--reference", "/nonexistent/ref.npy"], "/nonexistent/ref.npy: cannot be read"),
    (["simulate", "--reference", "/etc/passwd"], "/etc/passwd: not a NumPy .npy file"),
    (["simulate", "--weights", "/nonexistent/model"], "/nonexistent/model"),
    (["simulate", "--device", "mars"], "unknown device 'mars'"),
    (["simulate", "--clock-mhz", "0"], "clock must be between 0 and 2000 MHz, got 0.0"),
    (["simulate", "--json", "/"], "json: / is a directory"),
    (["simulate", "--no-power", "--report", "/tmp/hwgen-report"], "--report needs the power estimate"),
    (["bench", "accel", "--runs", "u280:24:256"], "lanes must be 1, 2, 4, 8, 16, 32, 64 or a multiple of 64"),
    (["bench", "accel", "--runs", "u280:128"], "run 'u280:128' is not DEVICE:LANES:FIFO_KIB"),
    (["bench", "accel", "--runs", "mars:16:256"], "unknown device 'mars'"),
    (["bench", "accel", "--runs", "d5005:32:256:base4"], "run 'd5005:32:256:base4': 'base4' is neither a packing (planes, base3) nor sSTREAMS"),
    (["bench", "accel", "--runs", "u250:32:256:base3:s0"], "streams must be between 1 and 16, got 0"),
    (["simulate", "--packing", "trits"], "trits"),
    (["image", "--packing", "trits", "--out", "/tmp/hwgen-never-written"], "trits"),
    (["regress", "--configs", "accel:16:base4"], "'base4' is neither a packing (planes, base3) nor sSTREAMS"),
    (["regress", "--configs", "accel:8:s17"], "streams must be between 1 and 16, got 17"),
    (["emit", "--streams", "0"], "streams must be between 1 and 16, got 0"),
    (["synth", "--streams", "17"], "streams must be between 1 and 16, got 17"),
    (["timing", "--streams", "0"], "streams must be between 1 and 16, got 0"),
    (["timing", "--streams", "2", "--record", "/tmp/t.json"], "--record keeps the default RTL's timing (2-bit planes, one stream); drop --packing, --streams or --record"),
    (["simulate", "--streams", "2", "--prompt", "1,2"], "--prompt gives 1 prompt(s) for 2 stream(s)"),
    (["simulate", "--streams", "2", "--logits", "/tmp/x.npy"], "--logits and --reference take one stream"),
    (["sweep", "--streams", "1,x"], "--streams: 'x' is not valid"),
    // sweep
    (["sweep", "--lanes", "24"], "lanes must be 1, 2, 4, 8, 16, 32, 64 or a multiple of 64"),
    (["sweep", "--lanes", "16,,32"], "--lanes: '' is not valid"),
    (["sweep", "--devices", "mars"], "unknown device 'mars'"),
    (["sweep", "--packing", "planes,base4"], "--packing: 'base4' is not valid"),
    (["sweep", "--layers", "25"], "layers must be between 0 and 24, got 25"),
    (["sweep", "--point", "u250-16-planes-512"], "point 'u250-16-planes-512' is not in the grid"),
    (["sweep", "--collect", "--write-jobs"], "mutually exclusive"),
    (["sweep", "--collect", "--out", "/nonexistent/sweep"], "no result in /nonexistent/sweep/points"),
    // lint
    (["lint", "--configs", "4x8,,1x1"], "empty entry"),
    (["lint", "--jobs", "-2"], "jobs"),
  ]

  @Test(arguments: badValues)
  func badValuesAreOneErrorLineAndANonZeroExit(arguments: [String], message: String) throws {
    let dir = temporaryDirectory()
    // emit always gets an --out of its own: a value that wrongly passed must not touch RTL/.
    let out = arguments[0] == "emit" ? ["--out", dir.appendingPathComponent("out").path] : []
    let result = try HWGenProcess.run(arguments + out, environment: ["HWGEN_CACHE": dir.appendingPathComponent("cache").path])
    #expect(!result.succeeded, "\(arguments)")
    let errors = result.output.split(separator: "\n").filter { $0.hasPrefix("Error:") }
    #expect(errors.count == 1, "\(arguments): \(result.output)")
    #expect(errors.first?.contains(message) == true, "\(arguments): \(result.output)")
    #expect(tree(dir).isEmpty, "\(arguments) wrote \(tree(dir))")
  }

  static let missingTools: [([String], [String], String)] = [
    (smallCore, ["verilator"], "verilator not found on PATH; install it with: apt-get install -y verilator"),
    (["regress", "--configs", "1x1", "--seeds", "1"], ["iverilog"], "iverilog not found on PATH; install it with: apt-get install -y iverilog"),
    (["regress", "--configs", "1x1", "--seeds", "1", "--simulator", "iverilog"], ["vvp"], "vvp not found on PATH; install it with: apt-get install -y iverilog"),
    (["regress", "--configs", "1x1", "--seeds", "1", "--simulator", "verilator"], ["g++"], "g++ not found on PATH; install it with: apt-get install -y g++"),
    (["lint", "--configs", "1x1"], ["yosys"], "yosys not found on PATH; install it with: apt-get install -y yosys"),
    (["lint", "--configs", "1x1"], ["iverilog"], "install it with: apt-get install -y iverilog"),
    (["bench", "core", "--mweights", "1", "--variants", "default"], ["verilator"], "apt-get install -y verilator"),
    (["simulate", "--tokens", "1"], ["yosys"], "yosys not found on PATH; install it with: apt-get install -y yosys"),
    (["simulate", "--tokens", "1", "--no-power"], ["verilator"], "apt-get install -y verilator"),
  ]

  @Test(arguments: missingTools)
  func aMissingToolNamesItsDebianPackage(arguments: [String], missing: [String], message: String) throws {
    let cache = temporaryDirectory()
    let result = try HWGenProcess.run(arguments, environment: ["PATH": try pathWithout(missing), "HWGEN_CACHE": cache.path])
    #expect(!result.succeeded)
    #expect(result.output.contains(message), "\(arguments) without \(missing): \(result.output)")
    #expect(result.output.split(separator: "\n").filter { $0.hasPrefix("Error:") }.count == 1, "\(result.output)")
  }

  @Test func aCorruptedCacheEntryIsRebuiltThroughTheCLI() throws {
    let cache = temporaryDirectory()
    let environment = ["HWGEN_CACHE": cache.path]
    let first = try HWGenProcess.run(smallCore, environment: environment)
    #expect(first.succeeded, "\(first.output)")
    let entries = try FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("verilator").path)
      .filter { $0.count == 64 }
    try #require(entries.count == 1, "\(entries)")
    let library = cache.appendingPathComponent("verilator/\(entries[0])/libmodel.so")
    // Truncate the library to half its size, as a full disk or a killed copy would.
    let bytes = try Data(contentsOf: library)
    try bytes.prefix(bytes.count / 2).write(to: library)
    let second = try HWGenProcess.run(smallCore, environment: environment)
    #expect(second.succeeded, "\(second.output)")
    #expect(second.output.contains("verilator: model built"), "\(second.output)")
    #expect(second.output.contains("check: all 10 outputs equal the golden model"))
    // Garbage in place of the library: rebuilt again.
    try Data("not an ELF file".utf8).write(to: library)
    let third = try HWGenProcess.run(smallCore, environment: environment)
    #expect(third.succeeded && third.output.contains("verilator: model built"), "\(third.output)")
    let fourth = try HWGenProcess.run(smallCore, environment: environment)
    #expect(fourth.output.contains("verilator: cached model loaded"), "\(fourth.output)")
  }

  @Test func concurrentRunsOnAnEmptyCacheBothSucceed() throws {
    let cache = temporaryDirectory()
    let environment = ["HWGEN_CACHE": cache.path]
    let a = try RunningHWGen(smallCore, environment: environment)
    let b = try RunningHWGen(smallCore + ["--seed", "2"], environment: environment)
    let (ra, rb) = (a.finish(), b.finish())
    #expect(ra.status == 0, "\(ra.output)")
    #expect(rb.status == 0, "\(rb.output)")
    #expect(ra.output.contains("check: all 10 outputs equal the golden model"))
    #expect(rb.output.contains("check: all 10 outputs equal the golden model"))
    let names = try FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("verilator").path).sorted()
    #expect(names.filter { $0.count == 64 }.count == 1, "one entry for one design: \(names)")
    #expect(!names.contains { $0.hasPrefix("tmp-") || $0.hasPrefix("trash-") || $0.hasPrefix("failed-") }, "\(names)")
    #expect(!tree(cache).contains { $0.contains(".tmp-") }, "\(tree(cache))")
    let third = try HWGenProcess.run(smallCore, environment: environment)
    #expect(third.output.contains("verilator: cached model loaded"), "\(third.output)")
  }

  @Test func anInterruptedBuildLeavesNoHalfCacheEntry() throws {
    let cache = temporaryDirectory()
    let environment = ["HWGEN_CACHE": cache.path]
    // Early (verilating) and later (compiling): each interrupt ends the run
    // with 130 and leaves only complete runtime objects behind.
    var interrupted = 0
    for delay in [0.6, 2.5] {
      let run = try RunningHWGen(coreRun(lanes: 3), environment: environment)
      Thread.sleep(forTimeInterval: delay)
      run.process.interrupt()
      let (status, output) = run.finish()
      if status == 0 { continue }  // finished first: nothing to check
      interrupted += 1
      #expect(status == 130, "\(output)")
      #expect(output.contains("hwgen: interrupted"), "\(output)")
      let names = (try? FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("verilator").path)) ?? []
      #expect(names.allSatisfy { $0 == "runtime" }, "after \(delay) s: \(names)")
      #expect(!tree(cache).contains { $0.contains(".tmp-") || $0.contains("interrupted") }, "\(tree(cache))")
    }
    #expect(interrupted > 0, "no run was interrupted; the test proves nothing")
    // The cache still works.
    let again = try HWGenProcess.run(coreRun(lanes: 3), environment: environment)
    #expect(again.succeeded, "\(again.output)")
  }

  @Test func anInterruptedEmitLeavesAllOrNothing() throws {
    let parent = temporaryDirectory()
    let reference = parent.appendingPathComponent("reference")
    let arguments = ["emit", "--lanes", "256", "--lane-width", "64"]
    #expect(try HWGenProcess.run(arguments + ["--out", reference.path]).succeeded)
    let expected = try tree(reference).map { try Data(contentsOf: reference.appendingPathComponent($0)) }
    // An older configuration in the way: after an interrupt it is either all there or all replaced.
    let old = parent.appendingPathComponent("old")
    #expect(try HWGenProcess.run(["emit", "--lanes", "2", "--lane-width", "3", "--out", old.path]).succeeded)
    let oldFiles = try tree(old).map { try Data(contentsOf: old.appendingPathComponent($0)) }
    var interrupted = 0
    for attempt in 0..<12 {
      let fresh = parent.appendingPathComponent("fresh\(attempt)")
      let update = parent.appendingPathComponent("update\(attempt)")
      try FileManager.default.copyItem(at: old, to: update)
      for out in [fresh, update] {
        let run = try RunningHWGen(arguments + ["--out", out.path], environment: [:])
        Thread.sleep(forTimeInterval: 0.015 * Double(attempt))
        run.process.interrupt()
        let (status, output) = run.finish()
        if status != 0 { interrupted += 1 }
        #expect(status == 0 || status == 130, "\(output)")
        let files = tree(out)
        if !files.isEmpty || FileManager.default.fileExists(atPath: out.path) {
          let contents = try files.map { try Data(contentsOf: out.appendingPathComponent($0)) }
          #expect(contents == expected || (out == update && contents == oldFiles), "attempt \(attempt): \(files)")
        }
      }
    }
    #expect(!tree(parent).contains { $0.contains(".tmp-") || $0.contains("interrupted") }, "\(tree(parent))")
    #expect(interrupted > 0, "no run was interrupted; the test proves nothing")
  }

  @Test func unwritableOutputsAreOneErrorLineAndWriteNothing() throws {
    let parent = temporaryDirectory()
    let file = parent.appendingPathComponent("plain-file")
    try Data("x".utf8).write(to: file)
    let cases: [[String]] = [
      ["emit", "--out", "/proc/hwgen-rtl"],
      ["emit", "--out", file.appendingPathComponent("rtl").path],
      ["emit", "--out", file.path],
      ["regress", "--configs", "1x1", "--junit", "/proc/hwgen.xml"],
      ["regress", "--configs", "1x1", "--junit", file.appendingPathComponent("junit.xml").path],
      ["regress", "--configs", "1x1", "--keep-failures", file.path],
      smallCore + ["--trace", "/proc/hwgen.vcd"],
      smallCore + ["--trace", file.appendingPathComponent("wave.vcd").path],
    ]
    for arguments in cases {
      let result = try HWGenProcess.run(arguments)
      #expect(!result.succeeded, "\(arguments)")
      #expect(result.output.split(separator: "\n").filter { $0.hasPrefix("Error:") }.count == 1, "\(arguments): \(result.output)")
    }
    #expect(tree(parent) == ["plain-file"])
    #expect(try String(contentsOf: file, encoding: .utf8) == "x")
  }

  /// Drops the lines that carry wall-clock measurements.
  private func withoutTimings(_ output: String, prefixes: [String]) -> String {
    output.split(separator: "\n", omittingEmptySubsequences: false)
      .filter { line in !prefixes.contains { line.hasPrefix($0) } }.joined(separator: "\n")
  }

  @Test func twoRunsGiveIdenticalRTLReportsAndJUnit() throws {
    let dir = temporaryDirectory()
    var stdout: [String] = [], junit: [Data] = [], rtl: [[Data]] = [], core: [String] = [], lint: [String] = []
    for run in 0..<2 {
      let xml = dir.appendingPathComponent("junit\(run).xml")
      let regress = try ProcessResult.run(
        HWGenProcess.executable,
        ["regress", "--configs", "2x3,1x1:adder-tree", "--seeds", "2", "--seed-base", "40", "--junit", xml.path, "--jobs", "2"])
      #expect(regress.succeeded, "\(regress.output)")
      stdout.append(withoutTimings(regress.output, prefixes: ["time:", "junit:", "["]))
      junit.append(try Data(contentsOf: xml))
      let out = dir.appendingPathComponent("rtl\(run)")
      #expect(try HWGenProcess.run(["emit", "--lanes", "5", "--lane-width", "9", "--reduction", "adder-tree", "--out", out.path]).succeeded)
      rtl.append(try tree(out).map { try Data(contentsOf: out.appendingPathComponent($0)) })
      let c = try HWGenProcess.run(smallCore + ["--stalls"])
      #expect(c.succeeded, "\(c.output)")
      core.append(withoutTimings(c.output, prefixes: ["verilator:", "simulation:"]))
      let l = try ProcessResult.run(HWGenProcess.executable, ["lint", "--configs", "2x3"])
      #expect(l.succeeded, "\(l.output)")
      lint.append(withoutTimings(l.output, prefixes: ["time:", "["]))
    }
    #expect(junit[0] == junit[1])
    #expect(stdout[0] == stdout[1])
    #expect(rtl[0] == rtl[1] && rtl[0].count == 12)
    #expect(core[0] == core[1])
    #expect(lint[0] == lint[1])
    #expect(stdout[0].contains("regress: 8 cases, 8 passed, 0 failed, 0 skipped"), "\(stdout[0])")
    #expect(core[0].contains("cycles:"))
  }
}
