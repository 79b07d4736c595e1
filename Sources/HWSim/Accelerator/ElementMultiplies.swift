import HWDSL
import HWGenerators
import HWSpec

/// The multipliers one lane of each element-wise unit has, counted in the
/// generated IR (`Module.multipliers`) rather than kept by hand, so a generator
/// change moves the power estimate with it.
///
/// Each unit replicates its lane module in a generate loop of `lanes`
/// iterations; every lane multiplier fires once per beat that lane takes
/// (the norm unit's scalar path runs once per vector, not per beat, and is
/// left out).
public struct ElementMultiplies: Hashable, Sendable {
  /// Multiplies per lane per norm-unit beat (`norm_lane`: the square and the
  /// shared x * gamma / |z| * mantissa multiplier).
  public let normLane: Int
  /// Multiplies per lane per MLGRU beat (`mlgru_lane`).
  public let mlgruLane: Int
  /// Multiplies per rescaled result row (`rescale_lane`).
  public let rescaleLane: Int

  public init(normLane: Int, mlgruLane: Int, rescaleLane: Int) {
    self.normLane = normLane
    self.mlgruLane = mlgruLane
    self.rescaleLane = rescaleLane
  }

  /// The census of the units the accelerator `config` instantiates.
  public init(_ config: AcceleratorConfig) throws {
    self.init(
      normLane: try Self.laneMultipliers(NormUnitGenerator.generate(config.norm).top),
      mlgruLane: try Self.laneMultipliers(MLGRUUnitGenerator.generate(config.mlgru).top),
      rescaleLane: try Self.laneMultipliers(RescaleUnitGenerator.generate(config.norm).top))
  }

  public struct NoLaneArray: Error, CustomStringConvertible {
    public let description: String
  }

  /// The multipliers of the one module `unit` replicates per lane: the
  /// instance of its generate loop.
  public static func laneMultipliers(_ unit: Module) throws -> Int {
    let lanes = unit.generateLoops.flatMap(\.instances)
    guard lanes.count == 1, let lane = lanes.first else {
      throw NoLaneArray(description: "\(unit.name) replicates \(lanes.count) modules, expected its one lane module")
    }
    return lane.module.multipliers.total
  }
}
