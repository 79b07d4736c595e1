import Foundation
import HWDSL
import HWGenerators
import HWSpec
import HWVerilator

extension SimPort {
  /// The simulation ports of a finished module, in declaration order.
  public static func ports(of module: Module) -> [SimPort] {
    module.ports.map { SimPort($0.name, width: $0.type.width, $0.kind == .input ? .input : .output) }
  }
}

/// How to verilate and compile a design: the knobs the core benchmark turns.
public struct VerilatorOptions: Hashable, Sendable {
  public var verilatorFlags = VerilatorBuildSpec.defaultVerilatorFlags
  public var compilerFlags = VerilatorBuildSpec.defaultCompilerFlags
  public var threads = 1
  public var trace: VerilatorBuildSpec.TraceFormat? = nil

  public init() {}
}

extension VerilatorBuildSpec {
  /// Everything Verilator needs to build `bundle`'s design.
  public init(bundle: RTLBundle, options: VerilatorOptions = VerilatorOptions()) {
    self.init(
      topModule: bundle.topModule,
      sources: bundle.sources.map { SourceFile(fileName: $0.name, text: $0.contents) },
      ports: SimPort.ports(of: bundle.design.top),
      verilatorFlags: options.verilatorFlags,
      compilerFlags: options.compilerFlags,
      trace: options.trace,
      threads: options.threads)
  }
}

/// A ternary core configuration, generated, verilated (or taken from the
/// cache) and loaded, with its testbench, out of reset.
public struct TernaryCoreSimulation {
  public let bundle: RTLBundle
  public let library: BuiltLibrary
  public let model: VerilatedModel
  public let bench: TernaryCoreTestbench

  public init(
    config: TernaryCoreConfig, cache: VerilatorBuildCache = VerilatorBuildCache(),
    options: VerilatorOptions = VerilatorOptions(), traceFile: URL? = nil
  ) throws {
    bundle = try RTLBundle(config: config)
    library = try cache.library(for: VerilatorBuildSpec(bundle: bundle, options: options))
    model = try VerilatedModel(library: library, traceFile: traceFile)
    bench = try TernaryCoreTestbench(config: config, model: model)
    try bench.reset()
  }
}
