import Foundation
import HWGenerators
import HWSim
import HWSpec
import HWSupport
import HWTools
import Testing

/// A fresh cache directory, removed afterwards.
func withTemporaryCache<T>(_ body: (URL) throws -> T) throws -> T {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hwgen-synth-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  return try body(dir)
}

/// The bundle's jobs whose top is one of `tops` (the list itself comes from the bundle).
func jobs(lanes: Int, tops: Set<String>) throws -> [SynthesisJob] {
  let bundle = try UnitsBundle(core: AcceleratorConfig(lanes: lanes).core)
  let all = ResourceReport.jobs(bundle)
  #expect(all.map(\.files.top) == bundle.units.map(\.design.top.name))
  return all.filter { tops.contains($0.files.top) }
}

@Suite struct SynthesisTests {
  @Test func moreLanesRaiseResourcesAndTheCacheReturnsTheSameResult() throws {
    try withTemporaryCache { cache in
      let runner = SynthesisRunner(flow: .ultraScalePlus, cacheRoot: cache)
      let tops: Set<String> = ["ternary_core", "rescale_unit"]
      let two = try runner.run(try jobs(lanes: 2, tops: tops))
      let four = try runner.run(try jobs(lanes: 4, tops: tops))
      #expect(two.count == 2 && four.count == 2)
      for (a, b) in zip(two, four) {
        #expect(a.top == b.top)
        #expect(!a.fromCache && !b.fromCache)
        #expect(b.resources.luts > a.resources.luts, "\(a.top): \(a.resources.luts) -> \(b.resources.luts) LUTs")
        #expect(b.resources.flipFlops > a.resources.flipFlops, "\(a.top): \(a.resources.flipFlops) -> \(b.resources.flipFlops) FFs")
      }
      // The core has no multiplier; the rescale unit one a lane.
      #expect(two[0].resources.dsps == 0)
      #expect(four[1].resources.dsps > two[1].resources.dsps)
      let again = try runner.run(try jobs(lanes: 2, tops: tops))
      #expect(again.allSatisfy { $0.fromCache })
      #expect(again.map(\.resources) == two.map(\.resources))
      #expect(again.map(\.key) == two.map(\.key))
    }
  }

  @Test func theStratix10FlowMapsToALMsAndDSPBlocks() throws {
    try withTemporaryCache { cache in
      let runner = SynthesisRunner(flow: try SynthesisFlow.forFamily("stratix10"), cacheRoot: cache)
      let result = try #require(try runner.run(try jobs(lanes: 2, tops: ["rescale_unit"])).first)
      #expect(result.resources.luts > 0)
      #expect(result.resources.alms == (result.resources.luts + 1) / 2)
      #expect(result.resources.dsps >= 1)
      #expect(result.cells.contains { $0.type.hasPrefix("MISTRAL_") })
    }
  }

  @Test func unknownFamiliesAreRefused() {
    #expect(throws: SynthesisFlow.Unsupported.self) { try SynthesisFlow.forFamily("ecp5") }
  }

  @Test func keysChangeWithTheSources() throws {
    let runner = SynthesisRunner(flow: .ultraScalePlus)
    let a = try jobs(lanes: 2, tops: ["ternary_core"])[0]
    let b = try jobs(lanes: 3, tops: ["ternary_core"])[0]
    #expect(runner.key(for: a, yosys: "Yosys 0.23") == runner.key(for: a, yosys: "Yosys 0.23"))
    #expect(runner.key(for: a, yosys: "Yosys 0.23") != runner.key(for: b, yosys: "Yosys 0.23"))
    #expect(runner.key(for: a, yosys: "Yosys 0.23") != runner.key(for: a, yosys: "Yosys 0.24"))
    #expect(
      runner.key(for: a, yosys: "Yosys 0.23") != SynthesisRunner(flow: .intelALM).key(for: a, yosys: "Yosys 0.23"))
  }

  @Test func resourcesCountTheFamilysCells() {
    let xilinx = SynthesisFlow.ultraScalePlus.resources(
      cells: ["LUT6": 10, "LUT2": 5, "SRL16E": 3, "RAM64M": 1, "FDRE": 7, "FDCE": 1, "RAMB36E2": 2, "RAMB18E2": 1,
              "URAM288": 1, "DSP48E2": 4, "CARRY8": 9, "MUXF7": 2],
      memoryBits: 100_000)
    #expect(xilinx.luts == 15 + 3 + 4)
    #expect(xilinx.lutsAsMemory == 7)
    #expect(xilinx.flipFlops == 8)
    #expect(xilinx.blockRAMBlocks == 2.5)
    #expect(xilinx.blockRAMBits == 2 * 36_864 + 18_432)
    #expect(xilinx.ultraRAMBits == 294_912)
    #expect(xilinx.dsps == 4)
    #expect(xilinx.memoryBitsOutsideBlockRAM == 0)
    let intel = SynthesisFlow.intelALM.resources(
      cells: ["MISTRAL_ALUT6": 3, "MISTRAL_ALUT_ARITH": 4, "MISTRAL_FF": 9, "MISTRAL_M10K": 2, "MISTRAL_MUL27X27": 1,
              "MISTRAL_MUL18X18": 3],
      memoryBits: 30_000)
    #expect(intel.luts == 7 && intel.alms == 4)
    #expect(intel.flipFlops == 9)
    #expect(intel.blockRAMBits == 20_480)
    #expect(intel.dsps == 3)  // one 27 x 27 and three 18 x 18 (two a block)
    #expect(intel.memoryBitsOutsideBlockRAM == 30_000 - 20_480)
  }
}
