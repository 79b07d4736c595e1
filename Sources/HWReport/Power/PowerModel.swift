import Foundation
import HWSpec

/// Synthesized resources the power model charges clock and idle power to.
/// Block RAM is counted in the family's own block (RAMB36 equivalents on
/// UltraScale+, a RAMB18 being half; M20K on Stratix 10).
public struct ResourceUsage: Codable, Hashable, Sendable {
  public var luts: Int
  public var flipFlops: Int
  public var blockRAMBlocks: Double
  public var dsps: Int

  public init(luts: Int, flipFlops: Int, blockRAMBlocks: Double, dsps: Int) {
    self.luts = luts
    self.flipFlops = flipFlops
    self.blockRAMBlocks = blockRAMBlocks
    self.dsps = dsps
  }
}

/// Where a watt goes: the breakdown `hwgen simulate` prints.
public enum PowerCategory: String, Codable, CaseIterable, Sendable {
  case staticPower = "static"
  case logic
  case onChipMemory = "on-chip memory"
  case multiply = "DSP/multiply"
  case offChipMemory = "off-chip memory"
}

/// The estimate for one run: watts by category and by component, energy per
/// token, and every coefficient used with its source. An ESTIMATE, not a
/// measurement (docs/power.md).
public struct PowerEstimate: Codable, Hashable, Sendable {
  public struct Component: Codable, Hashable, Sendable {
    public var name: String
    public var category: PowerCategory
    public var watts: Double
  }

  public struct Source: Codable, Hashable, Sendable {
    public var coefficient: String
    public var value: Double
    public var source: String
    public var assumption: Bool
  }

  public var device: String
  public var clockMHz: Double
  public var tokens: Int
  public var secondsPerToken: Double
  public var resources: ResourceUsage
  /// In the order of `PowerModel`'s breakdown; categories summed below.
  public var components: [Component]
  public var staticWatts: Double
  public var logicWatts: Double
  public var onChipMemoryWatts: Double
  public var multiplyWatts: Double
  public var offChipMemoryWatts: Double
  public var totalWatts: Double
  public var joulesPerToken: Double
  public var tokensPerJoule: Double
  public var method: String
  public var sources: [Source]
  /// The whole card (nil where the profile has no measured idle power; `boardUnavailable` says why).
  public var board: Board? = nil
  public var boardUnavailable: String? = nil

  /// Board level: the card's measured idle power (which already holds the FPGA's static power, the DRAM's
  /// background power, the shell, regulators and fans) plus this design's dynamic power from the chip estimate.
  public struct Board: Codable, Hashable, Sendable {
    public var idleWatts: Double
    public var idleSource: String
    public var dynamicWatts: Double
    public var totalWatts: Double
    public var joulesPerToken: Double
    public var tokensPerJoule: Double
    public var method: String
  }

  public func watts(_ category: PowerCategory) -> Double {
    switch category {
    case .staticPower: return staticWatts
    case .logic: return logicWatts
    case .onChipMemory: return onChipMemoryWatts
    case .multiply: return multiplyWatts
    case .offChipMemory: return offChipMemoryWatts
    }
  }

  /// Power that scales with the clock and the activity: everything but the
  /// device's static power and the off-chip memory's background power.
  public var dynamicWatts: Double {
    components.filter { $0.name != PowerModel.staticComponent && $0.name != PowerModel.backgroundComponent }
      .reduce(0) { $0 + $1.watts }
  }
}

/// watts = device static + clock and idle power of the synthesized resources
/// at the clock + per-action energy x counts / run time + off-chip energy per
/// bit x bits / run time + off-chip background power. Every coefficient comes
/// from the device profile's `power` section, with its source.
public enum PowerModel {
  public struct Unavailable: Error, CustomStringConvertible {
    public let description: String
  }

  public static let method =
    "ESTIMATE: device static power + clock and idle-toggle power of the synthesized LUTs, flip-flops, block RAMs and DSPs at the clock + energy per counted action (ternary add, accumulator update, block-RAM bit, multiply) + off-chip pJ/bit and background power; coefficients from the device profile (docs/power.md)"

  public static let boardMethod =
    "ESTIMATE: the card's measured idle power (shell loaded, accelerator idle: it holds the FPGA's static power, the DRAM's background power, the shell, regulators and fans) + this design's dynamic power from the chip estimate (clock, idle toggling, counted actions, off-chip transfers)"

  static let staticComponent = "device static"
  static let backgroundComponent = "off-chip background"

  public static func estimate(
    activity: ActivityCounts, resources: ResourceUsage, profile: DeviceProfile, clockMHz: Double
  ) throws -> PowerEstimate {
    guard let p = profile.power else {
      throw Unavailable(description: "device profile \(profile.name) has no power coefficients")
    }
    guard clockMHz > 0, clockMHz.isFinite else {
      throw Unavailable(description: "the clock must be positive, got \(clockMHz) MHz")
    }
    try activity.validate()
    let hz = clockMHz * 1e6
    let seconds = Double(activity.cycles) / hz
    let pj = 1e-12
    // Energy of a run's counted actions, spread over the run.
    func actions(_ count: Int, _ energyPJ: Double) -> Double { Double(count) * energyPJ * pj / seconds }
    let toggle = p.idleToggleRate.value
    let components: [PowerEstimate.Component] = [
      .init(name: staticComponent, category: .staticPower, watts: p.staticWatts.value),
      .init(name: "clock network", category: .logic,
            watts: hz * Double(resources.flipFlops) * p.clockPJPerFlipFlopCycle.value * pj),
      .init(name: "LUT and flip-flop idle toggling", category: .logic,
            watts: hz * toggle * (Double(resources.luts) * p.lutTogglePJ.value
              + Double(resources.flipFlops) * p.flipFlopTogglePJ.value) * pj),
      .init(name: "ternary adds", category: .logic, watts: actions(activity.ternaryAdds, p.ternaryAddPJ.value)),
      .init(name: "accumulator updates", category: .logic,
            watts: actions(activity.accumulatorUpdates, p.accumulatorUpdatePJ.value)),
      .init(name: "block RAM idle", category: .onChipMemory,
            watts: hz * resources.blockRAMBlocks * p.blockRAMIdlePJPerBlockCycle.value * pj),
      .init(name: "block RAM reads and writes", category: .onChipMemory,
            watts: actions(activity.onChipReadBits, p.onChipReadPJPerBit.value)
              + actions(activity.onChipWriteBits, p.onChipWritePJPerBit.value)),
      .init(name: "DSP idle toggling", category: .multiply,
            watts: hz * toggle * Double(resources.dsps) * p.dspTogglePJ.value * pj),
      .init(name: "multiplies", category: .multiply, watts: actions(activity.multiplies, p.multiplyPJ.value)),
      .init(name: "off-chip transfers", category: .offChipMemory,
            watts: actions(activity.offChipBytes * 8, p.offChipPJPerBit.value)),
      .init(name: backgroundComponent, category: .offChipMemory, watts: p.offChipBackgroundWatts.value),
    ]
    func sum(_ category: PowerCategory) -> Double {
      components.filter { $0.category == category }.reduce(0) { $0 + $1.watts }
    }
    let total = components.reduce(0) { $0 + $1.watts }
    let secondsPerToken = seconds / Double(activity.tokens)
    let joules = total * secondsPerToken
    var board: PowerEstimate.Board?
    var boardUnavailable: String?
    if let idle = profile.boardPower?.idleWatts {
      let dynamic = components.filter { $0.name != staticComponent && $0.name != backgroundComponent }
        .reduce(0) { $0 + $1.watts }
      let watts = idle.value + dynamic
      board = .init(
        idleWatts: idle.value, idleSource: idle.source, dynamicWatts: dynamic, totalWatts: watts,
        joulesPerToken: watts * secondsPerToken, tokensPerJoule: 1 / (watts * secondsPerToken), method: boardMethod)
    } else {
      boardUnavailable = profile.boardPower?.note ?? "device profile \(profile.name) has no board power section"
    }
    return PowerEstimate(
      device: profile.name, clockMHz: clockMHz, tokens: activity.tokens, secondsPerToken: secondsPerToken,
      resources: resources, components: components, staticWatts: sum(.staticPower), logicWatts: sum(.logic),
      onChipMemoryWatts: sum(.onChipMemory), multiplyWatts: sum(.multiply), offChipMemoryWatts: sum(.offChipMemory),
      totalWatts: total, joulesPerToken: joules, tokensPerJoule: 1 / joules, method: method,
      sources: p.all.map {
        .init(coefficient: $0.name, value: $0.coefficient.value, source: $0.coefficient.source,
              assumption: $0.coefficient.assumption)
      }, board: board, boardUnavailable: boardUnavailable)
  }
}
