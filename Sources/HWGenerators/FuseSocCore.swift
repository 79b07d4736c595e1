import HWDSL
import HWSpec

/// The FuseSoC CAPI2 core `hwgen emit` writes next to `hwgen.f` when the
/// bundle has the accelerator top: one fileset from the file list (the
/// package first), targets `lint` (Verilator), `synth` (Yosys) and one
/// vendor target per device profile with a part (Vivado with an XDC, Quartus
/// with an SDC, each constraining `clk_i` to the profile's default clock).
/// There are no ROM or hex files: the generators' ROMs are case tables
/// inside the modules. The bytes depend only on the configuration and the
/// profiles, so the emitted directory stays deterministic.
public struct FuseSocCore: Sendable {
  /// VLNV `hwgen:accel:<top>:<version>`.
  public static let vendor = "hwgen"
  public static let library = "accel"
  /// The version of the core's interface (its ports and instruction word);
  /// the configuration is in the description.
  public static let version = "0.1.0"

  /// The Edalize tool a profile's family is set up with.
  public enum VendorTool: String, Sendable {
    case vivado, quartus

    init?(family: String) {
      if family == "ultrascale+" {
        self = .vivado
      } else if FuseSocCore.quartusFamilies[family] != nil {
        self = .quartus
      } else {
        return nil
      }
    }

    /// The constraint file's extension and CAPI2 file type.
    var constraints: (fileExtension: String, fileType: String) {
      switch self {
      case .vivado: return ("xdc", "xdc")
      case .quartus: return ("sdc", "SDC")
      }
    }
  }

  /// One vendor target: a board's part, its tool and its constraint file.
  public struct VendorTarget: Sendable {
    public let profile: DeviceProfile
    public let part: String
    public let tool: VendorTool
    /// `vivado_u280`, `quartus_d5005`.
    public var name: String { "\(tool.rawValue)_\(profile.name)" }
    public let constraintFile: String
  }

  public let top: String
  public let clock: String
  public let sources: [String]
  public let description: String
  public let header: [String]
  public let vendorTargets: [VendorTarget]

  public var vlnv: String { "\(Self.vendor):\(Self.library):\(top):\(Self.version)" }
  public var fileName: String { "\(top).core" }

  /// `sources` in file-list order (packages first); `header` is the comment
  /// every emitted file starts with.
  public init(design: Design, sources: [String], description: String, header: [String], profiles: [DeviceProfile]) {
    top = design.top.name
    clock = design.top.clock.map { design.top.signal($0).name } ?? "clk_i"
    self.sources = sources
    self.description = description
    self.header = header
    vendorTargets = profiles.compactMap { profile in
      guard let part = profile.part, let tool = VendorTool(family: profile.family) else { return nil }
      let file = "\(design.top.name)_\(profile.name).\(tool.constraints.fileExtension)"
      return VendorTarget(profile: profile, part: part, tool: tool, constraintFile: file)
    }
  }

  /// The core and its constraint files.
  public var files: [(name: String, contents: String)] {
    [(name: fileName, contents: coreText)] + vendorTargets.map { (name: $0.constraintFile, contents: constraints($0)) }
  }

  /// The clock period in nanoseconds, three decimals (`3.333` for 300 MHz).
  static func periodNs(mhz: Double) -> String {
    let ps = Int((1_000_000 / mhz).rounded())
    let fraction = String(ps % 1000)
    return "\(ps / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
  }

  func constraints(_ target: VendorTarget) -> String {
    let profile = target.profile
    let mhz = Self.mhzText(profile.defaultClockMHz)
    var lines = header.map { "# \($0)" }
    lines.append("# \(profile.board), \(target.part):")
    lines.append("# \(clock) at the default clock of the \(profile.name) profile, \(mhz) MHz.")
    lines.append("create_clock -name \(clock) -period \(Self.periodNs(mhz: profile.defaultClockMHz)) [get_ports \(clock)]")
    if target.tool == .quartus { lines.append("derive_clock_uncertainty") }
    return lines.joined(separator: "\n") + "\n"
  }

  static func mhzText(_ mhz: Double) -> String {
    mhz == mhz.rounded() ? String(Int(mhz)) : String(mhz)
  }
}

// MARK: - The .core text

extension FuseSocCore {
  var coreText: String {
    // FuseSoC reads the CAPI version from the first line; the header follows it.
    var lines = ["CAPI=2:"] + header.map { "# \($0)" }
    lines += ["name: \(vlnv)", "description: \(description)", ""]
    lines += filesets + [""] + targets
    return lines.joined(separator: "\n") + "\n"
  }

  var filesets: [String] {
    var lines = ["filesets:", "  rtl:", "    files:"]
    lines += sources.map { "      - \($0)" }
    lines.append("    file_type: systemVerilogSource")
    for target in vendorTargets {
      lines += [
        "  \(target.profile.name):", "    files:",
        "      - \(target.constraintFile): {file_type: \(target.tool.constraints.fileType)}",
      ]
    }
    return lines
  }

  var targets: [String] {
    var lines = [
      "targets:",
      "  default: &default",
      "    filesets: [rtl]",
      "    toplevel: \(top)",
      "",
      "  # The RTL gates' Verilator lint: verilator --lint-only -Wall.",
      "  lint:",
      "    <<: *default",
      "    default_tool: verilator",
      "    tools:",
      "      verilator:",
      "        mode: lint-only",
      "        verilator_options: [-Wall]",
      "",
      "  # Yosys synth_xilinx for UltraScale+, out of context (no I/O or clock buffers),",
      "  # like `hwgen synth`; writes an EDIF netlist.",
      "  synth:",
      "    <<: *default",
      "    default_tool: yosys",
      "    tools:",
      "      yosys:",
      "        arch: xilinx",
      "        output_format: edif",
      "        yosys_synth_options: [-family, xcup, -noiopad, -noclkbuf]",
      "",
      "  # No sim target yet: Verilator with the C++ harness in Sim/ running a memory image",
      "  # without Swift needs the loop that answers the AXI ports in C++ (issue 12).",
      "  # Until then the accelerator is simulated through `hwgen simulate`.",
    ]
    for target in vendorTargets { lines += [""] + vendorTargetLines(target) }
    return lines
  }

  func vendorTargetLines(_ target: VendorTarget) -> [String] {
    var lines = [
      "  # \(target.profile.board): \(target.part), \(clock) at \(Self.mhzText(target.profile.defaultClockMHz)) MHz.",
      "  \(target.name):",
      "    <<: *default",
      "    filesets: [rtl, \(target.profile.name)]",
      "    default_tool: \(target.tool.rawValue)",
      "    tools:",
      "      \(target.tool.rawValue):",
    ]
    switch target.tool {
    case .vivado: lines.append("        part: \(target.part)")
    case .quartus:
      lines.append("        family: \(Self.quartusFamilies[target.profile.family]!)")
      lines.append("        device: \(target.part)")
    }
    return lines
  }

  /// Quartus's FAMILY assignment for each profile family Quartus builds.
  static let quartusFamilies = ["stratix10": "Stratix 10"]
}
