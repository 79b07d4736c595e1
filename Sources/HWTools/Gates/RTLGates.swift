import Foundation
import HWSupport

/// The quality gates every emitted design must pass: Verilator lint with
/// `-Wall`, Icarus Verilog compilation, Yosys synthesis with no latches, and
/// the style linters verible (lowRISC rules, `lint/verible.rules`) and slang
/// (`-Weverything`, waivers in `lint/slang.waivers`).
/// Each writes the files into a fresh temporary directory and runs the tool
/// there, so gates can run concurrently and leave nothing behind.
public enum RTLGates {
  public struct Files: Sendable {
    public let top: String
    public let sources: [(name: String, contents: String)]
    public init(top: String, sources: [(name: String, contents: String)]) {
      self.top = top
      self.sources = sources
    }
  }

  /// Cell counts after Yosys synthesis, with the coarse-grain multiplier
  /// count taken before any multiplier could be mapped to other cells.
  public struct SynthesisReport: Sendable {
    public let multipliers: Int
    public let latches: Int
    /// Cells after the generic flow (nil when only elaborated).
    public let cells: Int?
    public let log: String
  }

  /// Verilator's warnings under `--lint-only -Wall` (empty when clean).
  public static func verilatorLint(_ files: Files) throws -> [String] {
    try withDirectory(files) { dir, names in
      let result = try ExternalTool.verilator.run(["--lint-only", "-Wall", "--top-module", files.top] + names, in: dir)
      let warnings = result.output.split(separator: "\n").filter { $0.hasPrefix("%Warning") || $0.hasPrefix("%Error") }.map(String.init)
      if !result.succeeded && warnings.isEmpty { return [result.output] }
      return warnings
    }
  }

  /// Icarus Verilog's complaints under `-g2012` (empty when it compiles cleanly).
  public static func iverilogCompile(_ files: Files) throws -> [String] {
    try withDirectory(files) { dir, names in
      let result = try ExternalTool.iverilog.run(["-g2012", "-Wall", "-s", files.top, "-o", "design.vvp"] + names, in: dir)
      let lines = result.output.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
      return result.succeeded ? lines : (lines.isEmpty ? ["iverilog exited with \(result.status)"] : lines)
    }
  }

  /// The repository's lint configuration: `lint/verible.rules`, `lint/slang.py`, `lint/slang.waivers`.
  static func lintFile(_ name: String) throws -> URL {
    guard let url = ProjectFiles.locate("lint/\(name)") else {
      throw ToolError("lint/\(name) not found (run from the checkout or set HWGEN_HOME)")
    }
    return url
  }

  /// `verible-verilog-lint` findings under the lowRISC rule set of
  /// `lint/verible.rules` (empty when clean), one line each.
  public static func veribleLint(_ files: Files) throws -> [String] {
    let rules = try lintFile("verible.rules")
    return try withDirectory(files) { dir, names in
      let result = try ExternalTool.verible.run(["--rules_config=\(rules.path)"] + names, in: dir)
      let lines = result.output.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
      return result.succeeded ? lines : (lines.isEmpty ? ["verible-verilog-lint exited with \(result.status)"] : lines)
    }
  }

  /// A slang diagnostic the repository accepts, with its reason.
  public struct SlangWaiver: Sendable {
    public let diagnostic: String
    /// Text the message must contain; nil for any message.
    public let match: String?
    public let reason: String

    public func covers(_ message: String) -> Bool {
      message.contains("[-W\(diagnostic)]") && (match.map { message.contains($0) } ?? true)
    }
  }

  /// `lint/slang.waivers`: `diagnostic match reason` a line (`*` matches any message), `#` comments.
  public static func slangWaivers() throws -> [SlangWaiver] {
    let text = try String(contentsOf: try lintFile("slang.waivers"), encoding: .utf8)
    return text.split(separator: "\n").compactMap { line -> SlangWaiver? in
      let fields = line.split(separator: " ", maxSplits: 2).map(String.init)
      guard !line.hasPrefix("#"), fields.count == 3 else { return nil }
      return SlangWaiver(diagnostic: fields[0], match: fields[1] == "*" ? nil : fields[1], reason: fields[2])
    }
  }

  /// slang's warnings and errors under `-Weverything` (elaboration and
  /// analysis) that no waiver covers (empty when clean), one line each.
  public static func slangLint(_ files: Files) throws -> [String] {
    let driver = try lintFile("slang.py")
    let waivers = try slangWaivers()
    return try withDirectory(files) { dir, names in
      let result = try ExternalTool.slang.run([driver.path, "-Weverything", "--top", files.top] + names, in: dir)
      let found = result.output.split(separator: "\n").map(String.init)
        .filter { $0.contains(": warning: ") || $0.contains(": error: ") || $0.hasPrefix("error: ") || $0.hasPrefix("warning: ") }
      let open = found.filter { message in !waivers.contains { $0.covers(message) } }
      if !result.succeeded && open.isEmpty { return [result.output] }
      return open
    }
  }

  /// Synthesizes with Yosys' generic `synth` and counts multipliers and latches.
  public static func yosysSynthesize(_ files: Files) throws -> SynthesisReport {
    try withDirectory(files) { dir, names in
      let read = names.map { "read_verilog -sv \($0)" }.joined(separator: "; ")
      let script = """
        \(read); hierarchy -check -top \(files.top); proc; flatten; opt -purge; \
        tee -o coarse.txt stat; synth -top \(files.top); tee -o fine.txt stat
        """
      let result = try ExternalTool.yosys.run(["-q", "-p", script], in: dir)
      guard result.succeeded else {
        throw ToolError("yosys failed on \(files.top): \(result.output.split(separator: "\n").prefix(5).joined(separator: " | "))")
      }
      let coarse = (try? String(contentsOf: dir.appendingPathComponent("coarse.txt"), encoding: .utf8)) ?? ""
      let fine = (try? String(contentsOf: dir.appendingPathComponent("fine.txt"), encoding: .utf8)) ?? ""
      return SynthesisReport(
        multipliers: count(["$mul", "$macc"], in: coarse),
        latches: count(["$dlatch", "$adlatch", "$dlatchsr", "$_DLATCH_"], in: coarse + fine),
        cells: totalCells(fine),
        log: result.output)
    }
  }

  /// Sums the `stat` rows whose cell type starts with any of `prefixes`.
  static func count(_ prefixes: [String], in stat: String) -> Int {
    stat.split(separator: "\n").reduce(0) { total, line in
      let parts = line.split(separator: " ", omittingEmptySubsequences: true)
      guard parts.count == 2, prefixes.contains(where: { parts[0].hasPrefix($0) }), let n = Int(parts[1]) else { return total }
      return total + n
    }
  }

  static func totalCells(_ stat: String) -> Int {
    // The last "Number of cells" is the top module's (or the design total).
    let values = stat.split(separator: "\n").compactMap { line -> Int? in
      guard line.contains("Number of cells:") else { return nil }
      return Int(line.split(separator: ":").last!.trimmingCharacters(in: .whitespaces))
    }
    return values.last ?? 0
  }

  static func withDirectory<T>(_ files: Files, _ body: (URL, [String]) throws -> T) throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hwgen-gate-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let tracked = Interrupts.removeOnInterrupt(dir)
    defer {
      try? FileManager.default.removeItem(at: dir)
      tracked.release()
    }
    for file in files.sources {
      try Data(file.contents.utf8).write(to: dir.appendingPathComponent(file.name))
    }
    return try body(dir, files.sources.map(\.name))
  }
}
