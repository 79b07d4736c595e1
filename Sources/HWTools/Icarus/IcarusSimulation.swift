import Foundation
import HWGenerators
import HWSim
import HWSpec
import HWSupport

/// What the Icarus bench reported for one run.
public struct IcarusRun: Sendable {
  /// One vector per job, padded rows dropped (as `TernaryCoreRun.outputs`).
  public var outputs: [[Int64]]
  public var cycles: Int
  /// The bench's own verdict: every result beat equal to the expected one.
  public var selfCheckPassed: Bool
  /// The bench's last line (`hwgen-tb: PASS ...`).
  public var summary: String
}

public struct IcarusError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// Runs the ternary core under Icarus Verilog (`iverilog -g2012`, then `vvp`)
/// with an `IcarusTestbench`, in a private temporary directory that is removed
/// afterwards (also on Ctrl-C, through `Interrupts`).
public enum IcarusSimulation {
  /// Icarus is an interpreter: configurations up to this many weights per
  /// cycle run under it; larger ones are Verilator's.
  public static let maxWeightsPerCycle = 512

  public static func supports(_ config: TernaryCoreConfig) -> Bool { config.weightsPerCycle <= maxWeightsPerCycle }

  /// Compiles the design with the bench and runs it.
  ///
  /// - Parameter keep: copy the working directory (sources, memory files,
  ///   logs) here, for a failure to be inspected by hand.
  public static func run(
    bundle: RTLBundle, jobs: [TernaryCoreJob], pattern: IcarusTestbench.Pattern, keep: URL? = nil
  ) throws -> IcarusRun {
    try run(config: bundle.config, sources: bundle.sources, jobs: jobs, pattern: pattern, keep: keep)
  }

  /// Runs the bench against `sources`, a ternary core of `config`'s ports
  /// (the generated RTL, or a deliberately broken copy in a test).
  public static func run(
    config: TernaryCoreConfig, sources: [(name: String, contents: String)], jobs: [TernaryCoreJob],
    pattern: IcarusTestbench.Pattern, keep: URL? = nil
  ) throws -> IcarusRun {
    let bench = try IcarusTestbench(config: config, jobs: jobs, pattern: pattern)
    return try inWorkDirectory("hwgen-icarus", keep: keep) { dir in
      try run(in: dir, bench: bench, config: config, sources: sources, jobs: jobs)
    }
  }

  /// Runs `body` in a fresh private temporary directory named after `prefix`, removed
  /// afterwards (also on Ctrl-C, through `Interrupts`); `keep` gets a copy of it first.
  static func inWorkDirectory<T>(_ prefix: String, keep: URL?, _ body: (URL) throws -> T) throws -> T {
    let fm = FileManager.default
    let dir = fm.temporaryDirectory.appendingPathComponent("\(prefix)-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
    let tracked = Interrupts.removeOnInterrupt(dir)
    defer {
      if let keep {
        try? fm.removeItem(at: keep)
        try? fm.copyItem(at: dir, to: keep)
      }
      try? fm.removeItem(at: dir)
      tracked.release()
    }
    try fm.createDirectory(at: dir, withIntermediateDirectories: true)
    return try body(dir)
  }

  static func run(
    in dir: URL, bench: IcarusTestbench, config: TernaryCoreConfig, sources: [(name: String, contents: String)],
    jobs: [TernaryCoreJob]
  ) throws -> IcarusRun {
    let files = bench.files + sources
    for file in files {
      try Data(file.contents.utf8).write(to: dir.appendingPathComponent(file.name))
    }
    let names = [IcarusTestbench.fileName] + sources.map(\.name)
    let compiled = try ExternalTool.iverilog.run(["-g2012", "-o", "sim.vvp", "-s", IcarusTestbench.topModule] + bench.iverilogParameters + names, in: dir)
    try? Data(compiled.output.utf8).write(to: dir.appendingPathComponent("iverilog.log"))
    guard compiled.succeeded else {
      throw IcarusError("iverilog -g2012 failed: \(excerpt(compiled.output))")
    }
    let ran = try ExternalTool.vvp.run(["-n", "sim.vvp"], in: dir)
    try? Data(ran.output.utf8).write(to: dir.appendingPathComponent("vvp.log"))
    try checkAssertions(ran.output)
    let lines = ran.output.split(separator: "\n").map(String.init)
    guard let summary = lines.last(where: { $0.hasPrefix(IcarusTestbench.marker) }) else {
      throw IcarusError("vvp ended (status \(ran.status)) without the bench's summary line: \(excerpt(ran.output))")
    }
    let mismatchLines = lines.filter { $0.hasPrefix("mismatch:") }
    let passed = summary.hasPrefix("\(IcarusTestbench.marker) PASS") && ran.succeeded
    guard let received = try? String(contentsOf: dir.appendingPathComponent("received.hex"), encoding: .utf8) else {
      throw IcarusError("\(summary.dropFirst(IcarusTestbench.marker.count + 1))\(mismatchLines.first.map { "; " + $0 } ?? "")")
    }
    let outputs = try IcarusTestbench.decodeReceived(received, config: config, rowsPerJob: jobs.map(\.matrix.rows))
    return IcarusRun(
      outputs: outputs, cycles: cycles(in: summary) ?? 0, selfCheckPassed: passed,
      summary: ([summary] + mismatchLines.prefix(1)).joined(separator: "; "))
  }

  /// The `N cycles` count of the summary line.
  static func cycles(in summary: String) -> Int? {
    let words = summary.split(separator: " ")
    guard let index = words.firstIndex(where: { $0.hasPrefix("cycles") }), index > 0 else { return nil }
    return Int(words[index - 1])
  }

  /// Throws on the first assertion that failed in a vvp run: `$error` prints
  /// `ERROR: file:line: Name_A: message` and the time on the next line, but does not
  /// change vvp's exit status.
  static func checkAssertions(_ output: String) throws {
    let lines = output.split(separator: "\n").map(String.init)
    guard let at = lines.firstIndex(where: { $0.hasPrefix("ERROR:") }) else { return }
    let time = lines.indices.contains(at + 1) ? "; " + lines[at + 1].trimmingCharacters(in: .whitespaces) : ""
    let count = lines.filter { $0.hasPrefix("ERROR:") }.count
    throw IcarusError("an assertion failed under Icarus: \(lines[at].dropFirst(7))\(time) (\(count) failures)")
  }

  static func excerpt(_ output: String) -> String {
    let lines = output.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    return lines.prefix(4).joined(separator: " | ")
  }
}
