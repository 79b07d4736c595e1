import HWDSL
import HWGenerators
import HWSim
import HWSpec
import HWTools
import Testing

/// Two configurations of the accelerator in one file set: modules whose text
/// depends on the configuration carry its tag, the rest are shared, and both
/// tops elaborate together from one filelist.
@Suite struct DesignSetTests {
  @Test func twoCoreSizesElaborateFromOneFilelist() throws {
    let small = try AcceleratorGenerator.generate(AcceleratorConfig(lanes: 8, weightFIFOKiB: 64))
    let large = try AcceleratorGenerator.generate(AcceleratorConfig(lanes: 16, weightFIFOKiB: 64))
    // Written side by side as they are, the two would define modules of the same name twice.
    let clashing = Set(small.modules.map(\.name)).intersection(large.modules.map(\.name)).filter { name in
      small.modules.first { $0.name == name } != large.modules.first { $0.name == name }
    }
    #expect(clashing.contains("mmfree_accel") && clashing.contains("ternary_core"))

    let set = try DesignSet([(tag: "l8", design: small), (tag: "l16", design: large)])
    #expect(set.tops.map(\.name) == ["mmfree_accel_l8", "mmfree_accel_l16"])
    let names = set.modules.map(\.name)
    #expect(Set(names).count == names.count)
    // The core takes its lane count as a parameter: one file, each datapath
    // passing its own `Lanes`; the datapaths themselves differ and carry the tag.
    #expect(names.contains("ternary_core") && !names.contains { $0.hasPrefix("ternary_core_") })
    #expect(names.contains("matvec_datapath_l8") && names.contains("matvec_datapath_l16"))
    // The sigmoid does not depend on the lane count: one file for both.
    #expect(names.contains("mlgru_sigmoid"))
    #expect(!names.contains { $0.hasPrefix("mlgru_sigmoid_") })
    // The weight FIFOs differ in width, but the FIFO takes its size as
    // parameters: one file, each top passing its own.
    #expect(names.contains("stream_fifo") && !names.contains { $0.hasPrefix("stream_fifo_") })
    #expect(set.fileList.hasSuffix("mmfree_accel_l16.sv\n"))
    // The package both import comes once, before any module.
    #expect(set.packages.map(\.name) == ["mmfree_pkg"] && set.fileList.hasPrefix("mmfree_pkg.sv\n"))

    let sources = set.files()
    for top in set.tops.map(\.name) {
      let files = RTLGates.Files(top: top, sources: sources)
      let lint = try RTLGates.verilatorLint(files)
      #expect(lint == [], "\(top): \(lint.prefix(10).joined(separator: "\n"))")
      let icarus = try RTLGates.iverilogCompile(files).filter { !$0.contains("sorry:") }
      #expect(icarus == [], "\(top): \(icarus.prefix(10).joined(separator: "\n"))")
    }
  }

  @Test func identicalDesignsShareEveryModule() throws {
    let a = try TernaryCoreGenerator.generate(TernaryCoreConfig(lanes: 4, laneWidth: 8))
    let b = try TernaryCoreGenerator.generate(TernaryCoreConfig(lanes: 4, laneWidth: 8))
    let set = try DesignSet([(tag: "a", design: a), (tag: "b", design: b)])
    #expect(set.modules.map(\.name) == ["ternary_lane", "ternary_core"])
    // Different lane counts, same lanes: the core takes `Lanes`, one module.
    let c = try TernaryCoreGenerator.generate(TernaryCoreConfig(lanes: 2, laneWidth: 8))
    let mixed = try DesignSet([(tag: "l4", design: a), (tag: "l2", design: c)])
    #expect(mixed.modules.map(\.name) == ["ternary_lane", "ternary_core"])
    // Different lanes: the lane and the core built on it carry the tag.
    let d = try TernaryCoreGenerator.generate(TernaryCoreConfig(lanes: 2, laneWidth: 4))
    let wide = try DesignSet([(tag: "w8", design: a), (tag: "w4", design: d)])
    #expect(wide.modules.map(\.name) == ["ternary_lane_w8", "ternary_core_w8", "ternary_lane_w4", "ternary_core_w4"])
  }
}
