import Foundation
import HWDSL
import HWGenerators
import HWSpec
import HWTools
import Testing

/// The configurations of `axi_read_master` the gates and tests cover: the
/// DDR4 width with the default bursts, the HBM width with long bursts and one
/// outstanding read, and the smallest engine.
let axiGateConfigs = [
  AXIReadMasterConfig(),
  AXIReadMasterConfig(dataWidth: 256, maxBurstBeats: 128, outstanding: 1, idWidth: 1),
  AXIReadMasterConfig(dataWidth: 512, addressWidth: 13, maxBurstBeats: 1, outstanding: 1, idWidth: 2, readID: 3,
                      lengthBits: 13, timeoutCycles: 2),
]

func axiGateFiles(_ config: AXIReadMasterConfig) throws -> RTLGates.Files {
  let (design, files) = try AXIReadMasterGenerator.files(config)
  return RTLGates.Files(top: design.top.name, sources: files)
}

/// verible and slang see these designs through `RegressMatrix.full` (RTLGateTests).
@Suite struct AXIReadMasterGateTests {
  @Test(arguments: axiGateConfigs)
  func verilatorLintIsClean(config: AXIReadMasterConfig) throws {
    let warnings = try RTLGates.verilatorLint(axiGateFiles(config))
    #expect(warnings.isEmpty, "\(config): \(warnings.joined(separator: "\n"))")
  }

  @Test(arguments: axiGateConfigs)
  func icarusCompilesCleanly(config: AXIReadMasterConfig) throws {
    let messages = try RTLGates.iverilogCompile(axiGateFiles(config))
    #expect(messages.isEmpty, "\(config): \(messages.joined(separator: "\n"))")
  }

  /// The smallest engine synthesizes (its buffer maps to flip-flops in Yosys' generic flow).
  @Test func yosysFindsNoLatchesAndNoMultipliers() throws {
    let report = try RTLGates.yosysSynthesize(axiGateFiles(axiGateConfigs[2]))
    #expect(report.latches == 0)
    #expect(report.multipliers == 0)
    #expect((report.cells ?? 0) > 0)
  }
}
