import Foundation
import HWSpec
import HWSupport
import Testing

let fusesocInstalled = ExternalTool.fusesoc.availability.available

/// The FuseSoC core `hwgen emit` writes, driven through fusesoc and Edalize
/// as a user would: the lint and synth targets run for real on the smallest
/// accelerator (one lane), the vendor targets only to their setup stage
/// (Edalize writes the Vivado/Quartus project scripts without the vendor tool).
@Suite struct FuseSocTests {
  static let vlnv = "hwgen:accel:mmfree_accel:0.1.0"

  /// `hwgen emit --lanes 1` into DIR/rtl, the fusesoc library root.
  static func emitSmallest() throws -> (library: URL, rtl: URL) {
    let library = temporaryDirectory()
    let rtl = library.appendingPathComponent("rtl")
    let result = try HWGenProcess.run(["emit", "--lanes", "1", "--out", rtl.path])
    #expect(result.succeeded, "\(result.output)")
    return (library, rtl)
  }

  /// `fusesoc --cores-root LIBRARY run [--setup] --build-root LIBRARY/build --target TARGET`.
  static func fusesoc(_ target: String, in library: URL, setupOnly: Bool = false) throws -> (ProcessResult, URL) {
    let build = library.appendingPathComponent("build")
    let arguments =
      ["--cores-root", library.appendingPathComponent("rtl").path, "run"] + (setupOnly ? ["--setup"] : [])
      + ["--build-root", build.path, "--target", target, vlnv]
    let result = try ExternalTool.fusesoc.run(arguments, in: library)
    let work = build.appendingPathComponent("hwgen_accel_mmfree_accel_0.1.0")
    let tool = try FileManager.default.contentsOfDirectory(atPath: work.path).first { $0.hasPrefix("\(target)-") }
    return (result, work.appendingPathComponent(tool ?? target))
  }

  static func sources(_ rtl: URL) throws -> [String] {
    try String(contentsOf: rtl.appendingPathComponent("hwgen.f"), encoding: .utf8).split(separator: "\n").map(String.init)
  }

  static func text(_ dir: URL, containing marker: String) throws -> String {
    for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where name.hasSuffix(".tcl") {
      let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
      if text.contains(marker) { return text }
    }
    Issue.record("no .tcl in \(dir.path) contains \(marker)")
    return ""
  }

  @Test func emitWritesTheCoreAndOneConstraintFilePerBoard() throws {
    let (_, rtl) = try Self.emitSmallest()
    let core = try String(contentsOf: rtl.appendingPathComponent("mmfree_accel.core"), encoding: .utf8)
    #expect(core.hasPrefix("CAPI=2:\n"))
    #expect(core.contains("name: \(Self.vlnv)\n"))
    // The fileset is the file list, in its order (the package first).
    let listed = try Self.sources(rtl).map { "      - \($0)\n" }.joined()
    #expect(try Self.sources(rtl).first == "mmfree_pkg.sv")
    #expect(core.contains("    files:\n" + listed + "    file_type: systemVerilogSource\n"), "\(core)")
    for target in ["lint:", "synth:", "vivado_u280:", "vivado_u250:", "vivado_kv260:", "quartus_d5005:"] {
      #expect(core.contains("\n  \(target)\n"), "\(target) missing")
    }
    #expect(!core.contains("\n  sim:"), "a sim target needs the harness of issue 12")
    for profile in DeviceProfile.all {
      let ext = profile.family == "stratix10" ? "sdc" : "xdc"
      let constraints = try String(contentsOf: rtl.appendingPathComponent("mmfree_accel_\(profile.name).\(ext)"), encoding: .utf8)
      #expect(constraints.contains("create_clock -name clk_i -period \(Self.period(profile)) [get_ports clk_i]"))
    }
    let manifest = try String(contentsOf: rtl.appendingPathComponent("manifest.json"), encoding: .utf8)
    #expect(manifest.contains("{\"name\": \"mmfree_accel.core\", \"sha256\": "))
    // Deterministic bytes: a second emit writes the same core.
    let (_, again) = try Self.emitSmallest()
    #expect(try String(contentsOf: again.appendingPathComponent("mmfree_accel.core"), encoding: .utf8) == core)
    for line in core.split(separator: "\n") { #expect(line.count <= 100, "\(line)") }
  }

  /// The profile's default clock period in ns, as the constraint files write it.
  static func period(_ profile: DeviceProfile) -> String {
    String(format: "%.3f", 1000 / profile.defaultClockMHz)
  }

  @Test(.enabled(if: fusesocInstalled, "fusesoc not installed: pip install fusesoc"))
  func lintTargetRunsVerilatorWall() throws {
    let (library, _) = try Self.emitSmallest()
    let (result, work) = try Self.fusesoc("lint", in: library)
    #expect(result.succeeded, "\(result.output)")
    #expect(!result.output.contains("%Warning") && !result.output.contains("%Error"), "\(result.output)")
    // Lint only: Verilator wrote no C++ model (its warnings are fatal without -Wno-fatal).
    #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("Vmmfree_accel.mk").path))
    let config = try String(contentsOf: work.appendingPathComponent("config.mk"), encoding: .utf8)
    #expect(config.contains("VERILATOR_OPTIONS := -Wall\n"), "\(config)")
    let options = try String(contentsOf: work.appendingPathComponent("hwgen_accel_mmfree_accel_0.1.0.vc"), encoding: .utf8)
    #expect(options.contains("--top-module mmfree_accel\n"), "\(options)")
  }

  @Test(.enabled(if: fusesocInstalled, "fusesoc not installed: pip install fusesoc"))
  func synthTargetSynthesizesTheTopWithYosys() throws {
    let (library, _) = try Self.emitSmallest()
    let (result, work) = try Self.fusesoc("synth", in: library)
    #expect(result.succeeded, "\(result.output)")
    #expect(FileManager.default.fileExists(atPath: work.appendingPathComponent("hwgen_accel_mmfree_accel_0.1.0.edif").path))
    let log = try String(contentsOf: work.appendingPathComponent("yosys.log"), encoding: .utf8)
    let hierarchy = log.components(separatedBy: "=== design hierarchy ===").last ?? ""
    #expect(hierarchy.contains("   mmfree_accel "), "\(hierarchy.prefix(400))")
    #expect(hierarchy.contains("RAMB36E2"), "the memories should map to block RAM")
    #expect(!hierarchy.contains("LDCE") && !hierarchy.contains("LDPE"), "latches in \(hierarchy.prefix(2000))")
    #expect(!log.contains("ERROR"))
  }

  @Test(.enabled(if: fusesocInstalled, "fusesoc not installed: pip install fusesoc"), arguments: ["u280", "u250", "kv260"])
  func vivadoSetupWritesThePartFilesTopAndClock(board: String) throws {
    let profile = try DeviceProfile.named(board)
    let (library, rtl) = try Self.emitSmallest()
    let (result, work) = try Self.fusesoc("vivado_\(board)", in: library, setupOnly: true)
    #expect(result.succeeded, "\(result.output)")
    let project = try Self.text(work, containing: "create_project")
    #expect(project.contains("set_property part \(try #require(profile.part)) [current_project]"), "\(project)")
    let reads = project.split(separator: "\n").filter { $0.hasPrefix("read_verilog -sv") }
    let files = try Self.sources(rtl)
    #expect(reads.map { $0.split(separator: "/").last.map { String($0.dropLast()) } } == files, "\(project)")
    #expect(project.contains("set_property top mmfree_accel [current_fileset]"))
    let xdc = "mmfree_accel_\(board).xdc"
    #expect(project.contains("read_xdc {src/hwgen_accel_mmfree_accel_0.1.0/\(xdc)}"), "\(project)")
    let constraints = try String(
      contentsOf: work.appendingPathComponent("src/hwgen_accel_mmfree_accel_0.1.0/\(xdc)"), encoding: .utf8)
    #expect(constraints.contains("create_clock -name clk_i -period \(Self.period(profile)) [get_ports clk_i]"))
  }

  @Test(.enabled(if: fusesocInstalled, "fusesoc not installed: pip install fusesoc"))
  func quartusSetupWritesTheDeviceFilesTopAndClock() throws {
    let profile = try DeviceProfile.named("d5005")
    let (library, rtl) = try Self.emitSmallest()
    let (result, work) = try Self.fusesoc("quartus_d5005", in: library, setupOnly: true)
    #expect(result.succeeded, "\(result.output)")
    let project = try Self.text(work, containing: "project_new")
    #expect(project.contains("set_global_assignment -name FAMILY \"Stratix 10\"\n"))
    #expect(project.contains("set_global_assignment -name DEVICE \(try #require(profile.part))\n"), "\(project)")
    #expect(project.contains("set_global_assignment -name TOP_LEVEL_ENTITY mmfree_accel\n"))
    let files = project.split(separator: "\n").filter { $0.contains("-name SYSTEMVERILOG_FILE ") }
    #expect(files.map { $0.split(separator: "/").last.map(String.init) } == (try Self.sources(rtl)), "\(project)")
    let sdc = "src/hwgen_accel_mmfree_accel_0.1.0/mmfree_accel_d5005.sdc"
    #expect(project.contains("set_global_assignment -name SDC_FILE \(sdc)\n"), "\(project)")
    let constraints = try String(contentsOf: work.appendingPathComponent(sdc), encoding: .utf8)
    #expect(constraints.contains("create_clock -name clk_i -period \(Self.period(profile)) [get_ports clk_i]"))
    #expect(constraints.contains("derive_clock_uncertainty"))
  }
}
