import Foundation
import HWGenerators
import HWSpec
import HWSupport
import Testing

@testable import HWSim
@testable import HWTools

/// The regression runner: the `make test` slice of the matrix on both
/// simulators, the workloads, the --configs syntax, the reports, the lint gate.
@Suite struct RegressTests {
  /// The slice of the matrix `make test` runs: six core configurations (four of
  /// them already built by the core tests, so cached) and an MLGRU, a norm and
  /// a rescale unit their own tests build, two seeds, both simulators (Icarus
  /// on the cores that fit it).
  @Test func quickSliceOnBothSimulatorsMatchesTheGoldenModel() throws {
    let cases = RegressCase.matrix(targets: RegressMatrix.quick, seeds: [1, 2], simulators: RegressSimulator.allCases)
    #expect(cases.count == RegressMatrix.quick.count * 2 * 2)
    let outcomes = RegressRunner().run(cases, jobs: 2)
    for outcome in outcomes where !outcome.passed {
      let c = outcome.regressCase
      if case .skipped = outcome.status, c.simulator == .iverilog, !c.target.runsUnderIcarus { continue }
      Issue.record("\(c.target) seed \(c.seed) \(c.simulator): \(outcome.status)\n  reproduce: \(c.command)")
    }
    let icarusless = RegressMatrix.quick.filter { !$0.runsUnderIcarus }.count
    #expect(outcomes.filter(\.passed).count == cases.count - 2 * icarusless)
    #expect(outcomes.filter { $0.passed && $0.regressCase.simulator == .iverilog }.count == 10)
    #expect(outcomes.allSatisfy { $0.skipped || $0.checked > 0 })
  }

  @Test func theWorkloadIsAFunctionOfConfigurationAndSeed() {
    let config = TernaryCoreConfig(lanes: 4, laneWidth: 8)
    let a = RegressWorkload(config: config, seed: 17), b = RegressWorkload(config: config, seed: 17)
    #expect(a.jobs.map(\.matrix) == b.jobs.map(\.matrix))
    #expect(a.jobs.map(\.activations) == b.jobs.map(\.activations))
    #expect(a.stalls == b.stalls)
    #expect(RegressWorkload(config: config, seed: 18).jobs.map(\.matrix) != a.jobs.map(\.matrix))
    // Across seeds: shapes that are not multiples of the core's, stalls on every stream, and no-stall runs.
    let many = (1...64).map { RegressWorkload(config: config, seed: $0) }
    let shapes = many.flatMap(\.jobs).map { ($0.matrix.rows, $0.matrix.cols) }
    #expect(shapes.contains { $0.0 % 4 != 0 && $0.1 % 8 != 0 })
    #expect(shapes.allSatisfy { $0.0 <= 3 * 4 + 2 && $0.1 <= 4 * 8 + 3 })
    #expect(many.contains { $0.stalls.weightValid < 1 } && many.contains { $0.stalls.resultReady < 1 })
    #expect(many.contains { $0.stalls.activationValid < 1 })
    let extremes = many.flatMap(\.jobs).filter { job in job.activations.allSatisfy { $0 == -128 } }
    #expect(!extremes.isEmpty, "some jobs drive -128 activations")
  }

  static let goodSpecs: [(String, [String])] = [
    ("4x8", ["4x8:popcount"]),
    ("4x8:adder-tree", ["4x8:adder-tree"]),
    ("4X8:popcount, 1x1", ["4x8:popcount", "1x1:popcount"]),
    ("1x1,1x1:popcount", ["1x1:popcount"]),
    ("quick", RegressMatrix.quick.map(\.spec)),
    ("mlgru:3x3x64,2x3:adder-tree", ["mlgru:3x3x64", "2x3:adder-tree"]),
    ("norm:3x8192, rescale:16x22", ["norm:3x8192", "rescale:16x22"]),
  ]

  @Test(arguments: goodSpecs)
  func configListsParse(text: String, specs: [String]) throws {
    #expect(try RegressTarget.parseList(text).map(\.spec) == specs)
  }

  static let badSpecs: [(String, String)] = [
    ("", "empty entry"),
    ("4x8,", "empty entry"),
    ("4x", "not LANESxWIDTH"),
    ("fast", "not LANESxWIDTH"),
    ("4x8:wallace", "unknown reduction 'wallace'"),
    ("0x8", "lanes must be between 1 and 256, got 0"),
    ("4x0", "lane width must be between 1 and 1024, got 0"),
    ("256x1024", "weights per cycle"),
    ("4x8:popcount:extra", "not LANESxWIDTH"),
    ("-1x8", "lanes must be between"),
    ("mlgru:3x3", "not mlgru:LANESxLAYERSxHIDDEN"),
    ("mlgru:0x3x64", "config 'mlgru:0x3x64': lanes must be between 1 and 256, got 0"),
    ("norm:3", "not norm:LANESxMAXLENGTH"),
    ("norm:65x64", "norm lanes must be between 1 and 64, got 65"),
    ("rescale:3x40", "rescale accumulator width must be between 2 and 32 bits, got 40"),
  ]

  @Test(arguments: badSpecs)
  func badConfigListsSayWhatIsWrong(text: String, message: String) {
    do {
      _ = try RegressTarget.parseList(text)
      Issue.record("'\(text)' parsed")
    } catch {
      #expect("\(error)".contains(message), "\(error)")
      #expect(!"\(error)".contains("\n"))
    }
  }

  @Test func theFullMatrixCoversEveryLaneCountBothDatapathsAndOddWidths() {
    let configs = RegressMatrix.full.compactMap { target -> TernaryCoreConfig? in
      guard case .ternaryCore(let config) = target else { return nil }
      return config
    }
    for unit in ["mlgru_unit", "norm_unit", "rescale_unit"] {
      #expect(RegressMatrix.full.contains { $0.unit == unit }, "\(unit) in the full matrix")
      #expect(RegressMatrix.quick.contains { $0.unit == unit }, "\(unit) in the make-test slice")
    }
    for lanes in [1, 2, 4, 8, 16, 32] {
      for reduction in TernaryCoreConfig.Reduction.allCases {
        #expect(configs.contains { $0.lanes == lanes && $0.reduction == reduction }, "\(lanes) lanes, \(reduction)")
      }
    }
    #expect(configs.contains { $0.laneWidth % 2 == 1 && $0.laneWidth > 1 && $0.reduction == .popcount })
    #expect(configs.contains { $0.laneWidth % 2 == 1 && $0.reduction == .adderTree })
    #expect(Set(RegressMatrix.full).count == RegressMatrix.full.count)
    #expect(RegressMatrix.full.filter(\.runsUnderIcarus).count >= 20)
  }

  @Test func reproduceCommandsParseBackToTheSameCase() throws {
    let target = RegressTarget.ternaryCore(TernaryCoreConfig(lanes: 4, laneWidth: 8))
    let c = RegressCase(target: target, seed: 17, simulator: .iverilog)
    #expect(c.command == "hwgen regress --configs 4x8:popcount --seeds 1 --seed-base 17 --simulator iverilog")
    for spec in RegressMatrix.full.map(\.spec) {
      #expect(try RegressTarget.parseList(spec).map(\.spec) == [spec])
    }
  }

  static func outcome(_ spec: String, _ seed: UInt64, _ simulator: RegressSimulator, _ status: RegressOutcome.Status) throws -> RegressOutcome {
    RegressOutcome(
      regressCase: RegressCase(target: try RegressTarget.parse(spec), seed: seed, simulator: simulator),
      status: status, cycles: 100 + Int(seed), checked: 10, seconds: Double.random(in: 0...9))
  }

  @Test func junitIsSortedEscapedAndFreeOfTimings() throws {
    let targets = try RegressTarget.parseList("4x8,1x1:adder-tree")
    let outcomes = [
      try Self.outcome("1x1:adder-tree", 2, .verilator, .passed),
      try Self.outcome("4x8", 3, .iverilog, .failed("seed 3: row 1: RTL 5, golden <6> & \"7\"\nsecond line")),
      try Self.outcome("4x8", 1, .verilator, .passed),
      try Self.outcome("1x1:adder-tree", 1, .iverilog, .skipped("too big")),
    ]
    let a = RegressReport(outcomes, targets: targets).junit
    let b = RegressReport(outcomes.reversed(), targets: targets).junit
    #expect(a == b, "order of completion must not matter")
    #expect(!a.contains("time="), "no timings")
    #expect(!a.contains("timestamp") && !a.contains("hostname"))
    #expect(a.contains("<testsuites name=\"hwgen regress\" tests=\"4\" failures=\"1\" errors=\"0\" skipped=\"1\">"))
    #expect(a.contains("golden &lt;6&gt; &amp; &quot;7&quot;&#10;second line"))
    #expect(a.contains("reproduce: hwgen regress --configs 4x8:popcount --seeds 1 --seed-base 3 --simulator iverilog"))
    let first4x8 = a.range(of: "4x8:popcount")!.lowerBound, first1x1 = a.range(of: "1x1:adder-tree")!.lowerBound
    #expect(first4x8 < first1x1, "targets in matrix order")
    let verilatorSeed1 = a.range(of: "name=\"seed 1 verilator\"")!.lowerBound
    let iverilogSeed3 = a.range(of: "name=\"seed 3 iverilog\"")!.lowerBound
    #expect(verilatorSeed1 < iverilogSeed3)
    // Well-formed: every opened element is closed.
    #expect(a.components(separatedBy: "<testsuite ").count - 1 == a.components(separatedBy: "</testsuite>").count - 1)
    let rows = RegressReport(outcomes, targets: targets).summaryRows
    #expect(rows.map { $0[1] + " " + $0[2] } == [
      "4x8:popcount verilator", "4x8:popcount iverilog", "1x1:adder-tree verilator", "1x1:adder-tree iverilog",
    ])
    #expect(rows[1][5] == "1")
  }

  @Test func lintGatePassesTheCoreAndCatchesLatchesAndMultipliers() throws {
    for target in try RegressTarget.parseList("3x5,2x3:adder-tree") {
      let result = LintGate.check(target)
      #expect(result.problems.isEmpty, "\(target): \(result.problems.joined(separator: "\n"))")
      #expect(result.synthesis?.multipliers == 0)
      #expect(result.testbench == [])
    }
    let bad = """
      module bad (input logic en_i, input logic [3:0] a_i, output logic [3:0] q_o, output logic [7:0] p_o);
        always_latch if (en_i) q_o = a_i;
        assign p_o = a_i * a_i;
      endmodule
      """
    let report = try LintGate.synthesize(RTLGates.Files(top: "bad", sources: [("bad.sv", bad)]))
    #expect(report.latches > 0)
    #expect(report.multipliers > 0)
  }
}
