import ArgumentParser
import HWSupport

/// `hwgen`: generate, simulate and measure MatMul-free LM accelerators.
public struct HWGen: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "hwgen",
    abstract: "Generate SystemVerilog for MatMul-free LM accelerators and check it against a bit-exact golden model.",
    subcommands: [
      Emit.self, Core.self, Bench.self, Regress.self, Lint.self, Simulate.self, Synth.self, Timing.self, Import.self,
      Image.self, Sweep.self,
    ])

  public init() {}

  /// Ctrl-C (and SIGTERM, SIGHUP) remove temporary files and end child tools
  /// before the process exits; see `Interrupts`. For the executable only.
  public static func installInterruptHandlers() { Interrupts.install() }
}
