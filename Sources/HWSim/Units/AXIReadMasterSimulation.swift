import Foundation
import HWDSL
import HWGenerators
import HWSpec
import HWVerilator

/// The Verilated `axi_read_master` of one configuration, out of reset, with
/// the C++ AXI4 memory slave and harness (`AXIReadHarness`) on its ports.
public struct AXIReadMasterSimulation {
  public let config: AXIReadMasterConfig
  public let library: BuiltLibrary
  public let model: VerilatedModel
  public let harness: AXIReadHarness

  /// Builds (or finds cached) the model, resets it and attaches a harness with
  /// `slave`, whose burst limit is the configuration's.
  public init(
    config: AXIReadMasterConfig, slave: AXIReadHarness.Slave, cache: VerilatorBuildCache = VerilatorBuildCache(),
    options: VerilatorOptions = VerilatorOptions()
  ) throws {
    self.config = config
    let (design, sources) = try AXIReadMasterGenerator.files(config)
    library = try cache.library(for: VerilatorBuildSpec(design: design, sources: sources, options: options))
    let model = try VerilatedModel(library: library)
    let idle = try ["cmd_valid_i", "axi_arready_i", "axi_rvalid_i", "rd_ready_i"].map { try model.port($0) }
    try model.applyReset(try model.port("rst_ni"), idle: idle)
    self.model = model
    var slave = slave
    slave.maxBurstBeats = config.maxBurstBeats
    harness = try AXIReadHarness(model: model, slave: slave)
  }

  /// The engine's error status and address, as `error_o` and `error_addr_o` read now.
  public func errorStatus() throws -> (error: AXIReadError?, address: UInt64) {
    let code = model.get(try model.port("error_o"))
    return (AXIReadError(rawValue: Int(code)), model.get(try model.port("error_addr_o")))
  }
}
