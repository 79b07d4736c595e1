import ArgumentParser
import Foundation
import HWReport
import HWSim
import HWTools
import HWSupport
import HWVerilator

/// Which simulators `hwgen regress` runs.
enum SimulatorChoice: String, ExpressibleByArgument, CaseIterable {
  case verilator, iverilog, both

  var simulators: [RegressSimulator] {
    switch self {
    case .verilator: return [.verilator]
    case .iverilog: return [.iverilog]
    case .both: return [.verilator, .iverilog]
    }
  }
}

/// Options shared by `regress` and `lint`: which configurations, how many threads.
struct MatrixOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Configurations: \(RegressTarget.syntax).", valueName: "list"))
  var configs: String = "full"

  @Option(help: "Cases run at once (1-64; Verilator builds run one at a time, two compiler processes each).")
  var jobs: Int = min(8, max(1, ProcessInfo.processInfo.activeProcessorCount))

  func targets() throws -> [RegressTarget] {
    do { return try RegressTarget.parseList(configs) } catch let error as RegressTarget.Invalid {
      throw ValidationError(error.description)
    }
  }

  func validate() throws {
    _ = try targets()
    guard (1...64).contains(jobs) else { throw ValidationError("jobs must be between 1 and 64, got \(jobs)") }
  }
}

struct Regress: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run RTL regression cases on Verilator and Icarus Verilog and check every output against the golden model.",
    discussion: """
      A case is a configuration, a seed and a simulator. It streams a few seeded mat-vecs of \
      non-multiple shapes (now and then all weights one sign against -128 or 127 activations) \
      through the core with seeded valid/ready stalls on all three streams, and compares every \
      output with the golden model. Verilator runs every configuration; Icarus runs a \
      self-checking SystemVerilog bench ($readmemh stimulus, expected values and stall \
      pattern) on configurations of up to 512 weights per cycle and skips larger ones.

      Configurations (--configs): LANESxWIDTH[:REDUCTION], comma-separated; REDUCTION is \
      popcount (the default) or adder-tree. Named sets: \
      \(RegressMatrix.sets.map { "\($0.name) (\($0.targets.count) configs: \($0.summary))" }.joined(separator: "; ")).

      Output: a summary table (deterministic: no timings), each failure with its seed and the \
      one-line command that reproduces exactly that case, then the wall time. --junit writes \
      JUnit XML without timings, sorted by configuration, simulator and seed. Exit status 1 \
      when any case fails.
      """)

  @OptionGroup var matrix: MatrixOptions

  @Option(help: "Seeds per configuration and simulator (1-10000).") var seeds: Int = 3
  @Option(name: .customLong("seed-base"), help: "First seed; cases use seed-base, seed-base + 1, ...")
  var seedBase: UInt64 = 1
  @Option(help: "verilator, iverilog or both.") var simulator: SimulatorChoice = .both
  @Option(help: ArgumentHelp("Write JUnit XML to this file (replaced atomically).", valueName: "file"))
  var junit: String?
  @Option(name: .customLong("keep-failures"), help: ArgumentHelp("Keep each failing Icarus case's directory (bench, memory files, logs) under this directory.", valueName: "dir"))
  var keepFailures: String?
  @Flag(help: "Print the cases and their commands without running them.") var list = false

  func validate() throws {
    guard (1...10_000).contains(seeds) else { throw ValidationError("seeds must be between 1 and 10000, got \(seeds)") }
    guard seedBase <= UInt64.max - UInt64(seeds) else {
      throw ValidationError("seed-base \(seedBase) + \(seeds) seeds passes the largest seed, \(UInt64.max)")
    }
    if let junit { try Self.checkWritable(file: junit, option: "junit") }
    if let keepFailures {
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: keepFailures, isDirectory: &isDirectory), !isDirectory.boolValue {
        throw ValidationError("keep-failures: \(keepFailures) exists and is not a directory")
      }
    }
  }

  /// Fails before a long run, not after it, when the report cannot be written.
  static func checkWritable(file path: String, option: String) throws {
    let url = URL(fileURLWithPath: path)
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
      throw ValidationError("\(option): \(path) is a directory")
    }
    let probe = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).probe-\(getpid())")
    do {
      try FileOutput.writeAtomically(Data(), to: probe)
      try? FileManager.default.removeItem(at: probe)
    } catch {
      let reason = "\(error)".components(separatedBy: ": ").last ?? "\(error)"
      throw ValidationError("\(option): cannot write \(path): \(reason)")
    }
  }

  func run() throws {
    let targets = try matrix.targets()
    let seedList = (0..<UInt64(seeds)).map { seedBase + $0 }
    let cases = RegressCase.matrix(targets: targets, seeds: seedList, simulators: simulator.simulators)
    if list {
      for c in cases { print(c.command) }
      return
    }
    if simulator.simulators.contains(.verilator) {
      _ = try ExternalTool.verilator.locate()
      _ = try ExternalTool.cxx.locate()
    }
    if simulator.simulators.contains(.iverilog) {
      _ = try ExternalTool.iverilog.locate()
      _ = try ExternalTool.vvp.locate()
    }
    let seedText = seeds == 1 ? "seed \(seedBase)" : "seeds \(seedBase)-\(seedBase + UInt64(seeds) - 1)"
    print("hwgen regress: \(targets.count) configs x \(seedText) x \(simulator.simulators.map(\.rawValue).joined(separator: " + ")) = \(cases.count) cases")

    let clock = Stopwatch()
    let done = Counter()
    let runner = RegressRunner(keepFailures: keepFailures.map { URL(fileURLWithPath: $0, isDirectory: true) })
    if let keepFailures { try FileManager.default.createDirectory(atPath: keepFailures, withIntermediateDirectories: true) }
    let total = cases.count
    let outcomes = runner.run(cases, jobs: matrix.jobs) { outcome in
      // Progress goes to stderr in completion order; stdout stays deterministic.
      let c = outcome.regressCase
      let verdict: String
      switch outcome.status {
      case .passed: verdict = "passed"
      case .failed: verdict = "FAILED"
      case .skipped: verdict = "skipped"
      }
      let line = "[\(done.increment())/\(total)] \(c.target) seed \(c.seed) \(c.simulator.rawValue): \(verdict) (\(Format.seconds(outcome.seconds)))\n"
      FileHandle.standardError.write(Data(line.utf8))
    }
    let report = RegressReport(outcomes, targets: targets)
    print(Format.table(RegressReport.summaryHeader, report.summaryRows))
    for failure in report.failures {
      guard case .failed(let message) = failure.status else { continue }
      let c = failure.regressCase
      print("FAILED \(c.target) seed \(c.seed) on \(c.simulator.rawValue): \(message)")
      print("  reproduce: \(c.command)")
    }
    print("regress: \(outcomes.count) cases, \(report.passedCount) passed, \(report.failures.count) failed, \(report.skippedCount) skipped")
    if let junit {
      try FileOutput.writeAtomically(Data(report.junit.utf8), to: URL(fileURLWithPath: junit))
      print("junit: \(junit)")
    }
    print("time: \(Format.seconds(clock.seconds)) wall, \(matrix.jobs) jobs")
    if !report.failures.isEmpty { throw ExitCode.failure }
  }
}

struct Lint: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Lint every configuration of the regression matrix: verilator --lint-only -Wall, iverilog -g2012 -Wall, verible (lowRISC rules), slang -Weverything, yosys (no latches, no multipliers in the ternary core).",
    discussion: """
      Also lints the Icarus regression bench with each configuration it runs on. Any warning \
      fails the gate (exit status 1). Yosys synthesizes each module once (hierarchy kept), so \
      the largest cores take seconds, not minutes. --configs takes the same list as regress.
      """)

  @OptionGroup var matrix: MatrixOptions

  func run() throws {
    let targets = try matrix.targets()
    for tool in [ExternalTool.verilator, .iverilog, .yosys, .verible, .slang] { _ = try tool.locate() }
    print("hwgen lint: \(targets.count) configs")
    let clock = Stopwatch()
    let done = Counter()
    let results = LintGate.check(targets, jobs: matrix.jobs) { result in
      let line = "[\(done.increment())/\(targets.count)] \(result.target): \(result.problems.isEmpty ? "clean" : "\(result.problems.count) problems")\n"
      FileHandle.standardError.write(Data(line.utf8))
    }
    func verdict(_ messages: [String]) -> String { messages.isEmpty ? "clean" : "\(messages.count) warnings" }
    let rows = results.map { r -> [String] in
      [
        r.target.unit, r.target.spec, verdict(r.verilator), verdict(r.iverilog), verdict(r.verible), verdict(r.slang),
        r.synthesis.flatMap { $0.cells.map(String.init) } ?? "-", r.synthesis.map { String($0.latches) } ?? "-",
        r.synthesis.map { String($0.multipliers) } ?? "-", r.testbench.map(verdict) ?? "n/a",
      ]
    }
    print(Format.table(["unit", "config", "verilator -Wall", "iverilog", "verible", "slang", "yosys cells", "latches", "multipliers", "icarus bench"], rows))
    let failing = results.filter { !$0.problems.isEmpty }
    for result in failing {
      for problem in result.problems { print("\(result.target): \(problem)") }
    }
    print("lint: \(results.count) configs, \(results.count - failing.count) clean, \(failing.count) with warnings")
    print("time: \(Format.seconds(clock.seconds)) wall, \(matrix.jobs) jobs")
    if !failing.isEmpty { throw ExitCode.failure }
  }
}

/// A thread-safe count for progress lines.
final class Counter: @unchecked Sendable {
  private let lock = NSLock()
  private var value = 0

  func increment() -> Int {
    lock.lock()
    defer { lock.unlock() }
    value += 1
    return value
  }
}
