import Foundation
import HWSupport

/// The Yosys 0.23 script for one device family and how to read its cells as
/// resources. Chosen by the device profile's `family`.
///
/// - UltraScale+ (`synth_xilinx -family xcup`): LUT1-LUT6 cells are 6-input
///   LUT sites; RAMB36E2/RAMB18E2/URAM288 block RAMs; DSP48E2 slices.
/// - Stratix 10: Yosys 0.23 has no Stratix 10 flow. `synth_intel_alm -family
///   cyclone10gx` (the Arria 10 architecture, M20K blocks) aborts in its M20K
///   mapping ("Can't find object for defparam `INIT`"), so the flow is
///   `synth_intel_alm -family cyclonev`: the same kind of fracturable 6-input
///   ALM (two ALUTs an ALM) and variable-precision DSP (one 27 x 27 or two
///   18 x 18 a block), but 10 Kbit M10K block RAMs where Stratix 10 has 20 Kbit
///   M20K. ALMs are reported as ALUTs / 2 (perfect packing, a lower bound).
public struct SynthesisFlow: Sendable, Hashable {
  public enum Kind: String, Sendable, Codable {
    case xilinxUltraScalePlus = "ultrascale+"
    case intelALM = "intel-alm"
  }

  public let kind: Kind
  /// The Yosys command, without `-top`.
  public let command: String
  /// One line for reports: which script, and what the LUT count means.
  public let summary: String
  public let lutUnit: String
  public let blockRAMUnit: String

  public static let ultraScalePlus = SynthesisFlow(
    kind: .xilinxUltraScalePlus, command: "synth_xilinx -family xcup -noiopad -noclkbuf",
    summary: "Yosys synth_xilinx -family xcup (UltraScale+), hierarchy kept, out of context (no I/O or clock buffers)",
    lutUnit: "LUT6 sites (LUT1-LUT6 cells, unpacked: an upper bound)", blockRAMUnit: "RAMB36 equivalents")

  public static let intelALM = SynthesisFlow(
    kind: .intelALM, command: "synth_intel_alm -family cyclonev -noflatten -noiopad -noclkbuf",
    summary: "Yosys synth_intel_alm -family cyclonev: Yosys 0.23 has no Stratix 10 flow and its cyclone10gx M20K mapping fails; Cyclone V ALMs and DSPs are the same kind as Stratix 10's, its block RAM is 10 Kbit M10K",
    lutUnit: "ALUTs (6-input, two an ALM; ALMs = ALUTs / 2, a lower bound)", blockRAMUnit: "M10K blocks (Stratix 10 has M20K)")

  public struct Unsupported: Error, CustomStringConvertible {
    public let description: String
  }

  /// The flow for a device profile's family ("ultrascale+", "stratix10").
  public static func forFamily(_ family: String) throws -> SynthesisFlow {
    switch family {
    case "ultrascale+": return .ultraScalePlus
    case "stratix10": return .intelALM
    default: throw Unsupported(description: "no synthesis flow for device family '\(family)' (known: ultrascale+, stratix10)")
    }
  }

  /// The Yosys script for `top` over `files` (read in order). The first
  /// `stat` counts the RTL's memories (arrays, before any mapping); the
  /// second the synthesized cells of the whole hierarchy.
  public func script(top: String, files: [String]) -> String {
    let read = files.map { "read_verilog -sv \($0)" }.joined(separator: "; ")
    return """
      \(read); hierarchy -check -top \(top); tee -q -o memories.txt stat -top \(top); \
      \(command) -top \(top); tee -q -o cells.txt stat -top \(top)
      """
  }

  /// Resources from the cell counts of the synthesized design (`cells`) and
  /// the RTL memory bits before mapping (`memoryBits`).
  public func resources(cells: [String: Int], memoryBits: Int) -> SynthesisResources {
    func n(_ name: String) -> Int { cells[name] ?? 0 }
    switch kind {
    case .xilinxUltraScalePlus:
      let logic = ["LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6"].reduce(0) { $0 + n($1) }
      // LUT sites a distributed RAM or shift register primitive occupies.
      let memorySites: [(String, Int)] = [
        ("SRL16E", 1), ("SRLC32E", 1), ("RAM32X1S", 1), ("RAM64X1S", 1), ("RAM128X1S", 2), ("RAM256X1S", 4),
        ("RAM512X1S", 8), ("RAM32X1D", 2), ("RAM64X1D", 2), ("RAM128X1D", 4), ("RAM32M", 4), ("RAM64M", 4),
        ("RAM32M16", 8), ("RAM64M8", 8),
      ]
      let lutMemory = memorySites.reduce(0) { $0 + n($1.0) * $1.1 }
      let flipFlops = ["FDRE", "FDSE", "FDCE", "FDPE", "LDCE", "LDPE"].reduce(0) { $0 + n($1) }
      let ramb36 = n("RAMB36E2"), ramb18 = n("RAMB18E2"), uram = n("URAM288")
      return SynthesisResources(
        luts: logic + lutMemory, lutsAsMemory: lutMemory, flipFlops: flipFlops,
        blockRAMBlocks: Double(ramb36) + Double(ramb18) / 2, ultraRAMBlocks: uram,
        blockRAMBits: ramb36 * 36_864 + ramb18 * 18_432, ultraRAMBits: uram * 294_912, memoryBits: memoryBits,
        dsps: n("DSP48E2"), alms: nil)
    case .intelALM:
      let aluts = ["MISTRAL_ALUT2", "MISTRAL_ALUT3", "MISTRAL_ALUT4", "MISTRAL_ALUT5", "MISTRAL_ALUT6",
                   "MISTRAL_ALUT_ARITH", "MISTRAL_NOT", "MISTRAL_BUF"].reduce(0) { $0 + n($1) }
      // An MLAB is one LAB: 10 ALMs (20 ALUTs) used as 640 bits of RAM.
      let mlab = n("MISTRAL_MLAB") * 20
      let m10k = n("MISTRAL_M10K")
      // One variable-precision DSP block: one 27 x 27, two 18 x 18 or three 9 x 9.
      let dspThirds = 6 * n("MISTRAL_MUL27X27") + 3 * n("MISTRAL_MUL18X18") + 2 * n("MISTRAL_MUL9X9")
      let luts = aluts + mlab
      return SynthesisResources(
        luts: luts, lutsAsMemory: mlab, flipFlops: n("MISTRAL_FF"), blockRAMBlocks: Double(m10k), ultraRAMBlocks: 0,
        blockRAMBits: m10k * 10_240, ultraRAMBits: 0, memoryBits: memoryBits, dsps: (dspThirds + 5) / 6,
        alms: (luts + 1) / 2)
    }
  }
}

/// Synthesized resources of one module (with everything below it).
public struct SynthesisResources: Codable, Hashable, Sendable {
  /// LUT sites (UltraScale+) or ALUTs (Intel ALM), distributed RAM included.
  public var luts: Int
  public var lutsAsMemory: Int
  public var flipFlops: Int
  /// Block RAMs in the family's unit (RAMB36 equivalents, or M10K blocks).
  public var blockRAMBlocks: Double
  public var ultraRAMBlocks: Int
  /// Bits of the block RAMs (and UltraRAMs) the mapper used: whole blocks.
  public var blockRAMBits: Int
  public var ultraRAMBits: Int
  /// Bits of the RTL's memories before mapping.
  public var memoryBits: Int
  /// DSP48E2 slices, or variable-precision DSP blocks.
  public var dsps: Int
  /// ALMs on Intel (ALUTs / 2); nil on UltraScale+.
  public var alms: Int?

  public static let zero = SynthesisResources(
    luts: 0, lutsAsMemory: 0, flipFlops: 0, blockRAMBlocks: 0, ultraRAMBlocks: 0, blockRAMBits: 0, ultraRAMBits: 0,
    memoryBits: 0, dsps: 0, alms: nil)

  public static func + (a: SynthesisResources, b: SynthesisResources) -> SynthesisResources {
    SynthesisResources(
      luts: a.luts + b.luts, lutsAsMemory: a.lutsAsMemory + b.lutsAsMemory, flipFlops: a.flipFlops + b.flipFlops,
      blockRAMBlocks: a.blockRAMBlocks + b.blockRAMBlocks, ultraRAMBlocks: a.ultraRAMBlocks + b.ultraRAMBlocks,
      blockRAMBits: a.blockRAMBits + b.blockRAMBits, ultraRAMBits: a.ultraRAMBits + b.ultraRAMBits,
      memoryBits: a.memoryBits + b.memoryBits, dsps: a.dsps + b.dsps,
      alms: a.alms.map { $0 + (b.alms ?? 0) } ?? b.alms)
  }

  /// Memory bits that did not land in block RAM or UltraRAM (mapped to LUT
  /// RAM or flip-flops); 0 when every memory inferred as block RAM.
  public var memoryBitsOutsideBlockRAM: Int {
    blockRAMBits + ultraRAMBits >= memoryBits ? 0 : memoryBits - blockRAMBits - ultraRAMBits
  }
}
