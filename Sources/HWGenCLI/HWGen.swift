import ArgumentParser

/// `hwgen`: generate, simulate and measure MatMul-free LM accelerators.
public struct HWGen: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "hwgen",
    abstract: "Generate SystemVerilog for MatMul-free LM accelerators and check it against a bit-exact golden model.",
    subcommands: [Emit.self, Core.self, Bench.self])

  public init() {}
}
