import Foundation
import HWSupport
import HWVerilator

/// One design to synthesize: a top module and its sources.
public struct SynthesisJob: Sendable {
  /// A name for reports ("ternary core").
  public let name: String
  public let files: RTLGates.Files

  public init(name: String, files: RTLGates.Files) {
    self.name = name
    self.files = files
  }

  /// The SHA-256 key of this job under one flow: `fields` (what names the flow: tool versions,
  /// scripts), then the top and every source as Yosys reads it (`synthesizedText`), each
  /// length-prefixed so no two jobs serialize alike.
  public func key(_ fields: KeyValuePairs<String, String>) -> String {
    var text = ""
    func field(_ name: String, _ value: String) { text += "\(name) \(value.utf8.count)\n\(value)\n" }
    for (name, value) in fields { field(name, value) }
    field("top", files.top)
    for file in files.sources {
      field("file", file.name)
      field("text", Self.synthesizedText(file.contents))
    }
    return SHA256.hex(text)
  }

  /// What Yosys reads of `source`: the text without its `` `ifndef SYNTHESIS `` blocks (Yosys
  /// defines `SYNTHESIS`). Synthesis and timing keys hash this, so a change to simulation-only
  /// code (the assertions) keeps a design's keys and its recorded results. A block that holds
  /// another conditional directive, or has no `` `endif ``, stays in: its key then follows
  /// every change of it, which is never wrong, only slower.
  public static func synthesizedText(_ source: String) -> String {
    let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
    func directive(_ line: Substring) -> Substring { line.drop { $0 == " " || $0 == "\t" } }
    var kept: [Substring] = []
    var i = 0
    while i < lines.count {
      guard directive(lines[i]) == "`ifndef SYNTHESIS" else {
        kept.append(lines[i])
        i += 1
        continue
      }
      var end = i + 1
      while end < lines.count, !["`if", "`else", "`elsif", "`endif"].contains(where: directive(lines[end]).hasPrefix) {
        end += 1
      }
      if end < lines.count, directive(lines[end]).hasPrefix("`endif") {
        i = end + 1
      } else {
        kept.append(lines[i])
        i += 1
      }
    }
    return kept.joined(separator: "\n")
  }
}

/// What Yosys made of one job.
public struct SynthesisResult: Codable, Sendable {
  public let name: String
  public let top: String
  public let resources: SynthesisResources
  /// Cell counts of the synthesized design, sorted by cell type.
  public let cells: [Cell]
  /// Cache key: SHA-256 of the sources as Yosys reads them (`SynthesisJob.synthesizedText`), the
  /// script and the Yosys version.
  public let key: String
  /// Wall time of the Yosys run (0 when the result came from the cache).
  public let seconds: Double
  public let fromCache: Bool
  /// Set when the result is a committed record (`RecordedSynthesis`): the
  /// record's file and the Yosys version that produced it.
  public var recordedIn: String? = nil

  public struct Cell: Codable, Sendable, Hashable {
    public let type: String
    public let count: Int
  }
}

/// Runs Yosys on synthesis jobs, caching results by content. An entry lives
/// at `<hwgen cache>/synthesis/<key>.json` (the cache root of
/// `VerilatorBuildCache`), written through a temporary file and a rename, so
/// a killed run never leaves half an entry.
public struct SynthesisRunner: Sendable {
  public let flow: SynthesisFlow
  public let cacheRoot: URL
  /// Committed results consulted after the cache (`RTL/synthesis.json`).
  public let recorded: RecordedSynthesis?

  public init(flow: SynthesisFlow, cacheRoot: URL = VerilatorBuildCache.defaultRoot, recorded: RecordedSynthesis? = nil) {
    self.flow = flow
    self.cacheRoot = cacheRoot
    self.recorded = recorded
  }

  var directory: URL { cacheRoot.appendingPathComponent("synthesis", isDirectory: true) }

  /// `yosys -V`, part of every cache key.
  public static func yosysVersion() throws -> String {
    let result = try ExternalTool.yosys.run(["-V"])
    guard result.succeeded else { throw ToolError("yosys -V failed: \(result.output)") }
    return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// The cache key of `job` under this flow and Yosys version.
  public func key(for job: SynthesisJob, yosys: String) -> String {
    job.key(["yosys": yosys, "script": flow.script(top: job.files.top, files: job.files.sources.map(\.name))])
  }

  /// Synthesizes every job on up to `jobs` threads (Yosys is single-threaded);
  /// results in `jobs` order. Cached results are used as they are.
  public func run(_ list: [SynthesisJob], jobs: Int = 2, progress: @Sendable (SynthesisResult) -> Void = { _ in })
    throws -> [SynthesisResult]
  {
    let yosys = try Self.yosysVersion()
    let results = WorkSlots<Result<SynthesisResult, Error>>.map(
      list.count, jobs: jobs, done: { _, result in if case .success(let done) = result { progress(done) } }
    ) { index in Result { try synthesize(list[index], yosys: yosys) } }
    return try results.map { try $0.get() }
  }

  /// One job: from the cache, from the committed record when it holds
  /// exactly these sources and script, or synthesized now and stored.
  public func synthesize(_ job: SynthesisJob, yosys: String) throws -> SynthesisResult {
    let key = key(for: job, yosys: yosys)
    let entry = directory.appendingPathComponent("\(key).json")
    if let data = try? Data(contentsOf: entry), let cached = try? JSONDecoder().decode(SynthesisResult.self, from: data),
      cached.key == key
    {
      return SynthesisResult(
        name: job.name, top: cached.top, resources: cached.resources, cells: cached.cells, key: key, seconds: 0,
        fromCache: true)
    }
    if let recorded, let entry = recorded.entry(for: job, runner: self) {
      var result = SynthesisResult(
        name: job.name, top: entry.result.top, resources: entry.result.resources, cells: entry.result.cells,
        key: entry.result.key, seconds: 0, fromCache: true)
      result.recordedIn = "\(recorded.displayName), \(entry.yosys)"
      return result
    }
    let start = DispatchTime.now().uptimeNanoseconds
    let (cells, memoryBits) = try RTLGates.withDirectory(job.files) { dir, names -> ([String: Int], Int) in
      let result = try ExternalTool.yosys.run(["-q", "-p", flow.script(top: job.files.top, files: names)], in: dir)
      guard result.succeeded else {
        let errors = result.output.split(separator: "\n").filter { $0.contains("ERROR") }
        throw ToolError("yosys failed on \(job.files.top): \((errors.isEmpty ? result.output.split(separator: "\n").suffix(3) : errors.prefix(3)).joined(separator: " | "))")
      }
      let memories = (try? String(contentsOf: dir.appendingPathComponent("memories.txt"), encoding: .utf8)) ?? ""
      let cells = (try? String(contentsOf: dir.appendingPathComponent("cells.txt"), encoding: .utf8)) ?? ""
      return (Self.cellCounts(cells), Self.memoryBits(memories))
    }
    guard !cells.isEmpty else { throw ToolError("yosys reported no cells for \(job.files.top)") }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let result = SynthesisResult(
      name: job.name, top: job.files.top, resources: flow.resources(cells: cells, memoryBits: memoryBits),
      cells: cells.keys.sorted().map { SynthesisResult.Cell(type: $0, count: cells[$0]!) }, key: key,
      seconds: seconds, fromCache: false)
    // A cache that cannot be written costs a rerun next time, not this result.
    if (try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)) != nil {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      if let data = try? encoder.encode(result) { try? FileOutput.writeAtomically(data, to: entry) }
    }
    return result
  }

  /// The `stat -top` section of the whole hierarchy (the last "design
  /// hierarchy" block, or the only module's block): cell type -> count.
  static func cellCounts(_ stat: String) -> [String: Int] {
    let lines = stat.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let start = lines.lastIndex { $0.contains("=== design hierarchy ===") } ?? lines.lastIndex { $0.hasPrefix("===") } ?? 0
    var counts: [String: Int] = [:]
    var inCells = false
    for line in lines[start...] {
      if line.contains("Number of cells:") {
        inCells = true
        continue
      }
      guard inCells else { continue }
      let parts = line.split(separator: " ", omittingEmptySubsequences: true)
      guard parts.count == 2, let n = Int(parts[1]) else {
        if !line.trimmingCharacters(in: .whitespaces).isEmpty { inCells = false }
        continue
      }
      counts[String(parts[0]), default: 0] += n
    }
    return counts
  }

  /// "Number of memory bits" of the whole hierarchy.
  static func memoryBits(_ stat: String) -> Int {
    let lines = stat.split(separator: "\n").map(String.init)
    let start = lines.lastIndex { $0.contains("=== design hierarchy ===") } ?? 0
    return lines[start...].compactMap { line -> Int? in
      guard line.contains("Number of memory bits:") else { return nil }
      return Int(line.split(separator: ":").last!.trimmingCharacters(in: .whitespaces))
    }.last ?? 0
  }
}
