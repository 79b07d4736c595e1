import ArgumentParser
import Foundation
import HWGenerators
import HWSpec
import HWSupport

struct Emit: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write every unit's SystemVerilog (ternary core, RMSNorm, rescale, MLGRU), a filelist and a manifest.")

  @OptionGroup var core: CoreOptions

  @Option(name: .long, help: "Output directory (created if missing; files are replaced atomically).")
  var out: String = "RTL"

  @Option(help: "How weights lie in memory: planes (2 bits a weight) or base3 (5 a byte, unpacked on chip).")
  var packing: WeightPacking = .planes

  @Option(help: "Independent sequences the accelerator runs side by side, sharing every weight beat (1-\(AcceleratorConfig.maxStreams)).")
  var streams: Int = 1

  func run() throws {
    let config = try core.config()
    let bundle = try UnitsBundle(core: config, weightPacking: packing, streams: streams)
    try FileOutput.writeAtomically(bundle.files, into: URL(fileURLWithPath: out))
    print("wrote \(bundle.files.count) files to \(out): \(bundle.files.map(\.name).joined(separator: ", "))")
  }
}

/// Options that choose a ternary core configuration.
struct CoreOptions: ParsableArguments {
  @Option(name: .long, help: "Output rows computed in parallel (\(TernaryCoreConfig.lanesRange.lowerBound)-\(TernaryCoreConfig.lanesRange.upperBound)).")
  var lanes: Int = TernaryCoreConfig.defaultLanes

  @Option(name: .customLong("lane-width"), help: "Ternary weights each lane consumes per cycle.")
  var laneWidth: Int = TernaryCoreConfig.defaultLaneWidth

  @Option(help: "Lane datapath: \(TernaryCoreConfig.Reduction.allCases.map(\.rawValue).joined(separator: " or ")).")
  var reduction: TernaryCoreConfig.Reduction = .popcount

  func config() throws -> TernaryCoreConfig {
    let config = TernaryCoreConfig(lanes: lanes, laneWidth: laneWidth, reduction: reduction)
    try config.validate()
    return config
  }

  func validate() throws {
    do { _ = try config() } catch let error as TernaryCoreConfig.Invalid {
      throw ValidationError(error.description)
    }
  }
}

extension TernaryCoreConfig.Reduction: ExpressibleByArgument {}
extension WeightPacking: ExpressibleByArgument {}
