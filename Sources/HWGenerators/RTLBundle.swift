import HWDSL
import HWSpec

/// One ternary core configuration as SystemVerilog: its checked design and
/// one `.sv` per module, children first. What the core's simulations, the
/// regression and the gates build from; `UnitsBundle` is what `hwgen emit`
/// writes.
public struct RTLBundle: Sendable {
  public let config: TernaryCoreConfig
  public let design: Design
  public let files: [(name: String, contents: String)]

  public init(config: TernaryCoreConfig) throws {
    self.config = config
    (design, files) = try TernaryCoreGenerator.files(config)
  }

  /// The SystemVerilog sources, in filelist order.
  public var sources: [(name: String, contents: String)] { files }

  public var topModule: String { design.top.name }
}
