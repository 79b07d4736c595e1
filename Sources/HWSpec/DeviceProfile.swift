import Foundation

/// A real board the accelerator could run on: its off-chip memory, default
/// clock and resource capacities, each number with the public source it came
/// from. Profiles are data (`Sources/HWSpec/Profiles/*.json`); adding a board
/// needs no code.
public struct DeviceProfile: Codable, Hashable, Sendable {
  public struct Memory: Codable, Hashable, Sendable {
    /// "DDR4-2400", "HBM2".
    public let type: String
    public let channels: Int
    public let channelPeakGBps: Double
    /// Fraction of peak bandwidth a long sequential stream sustains: what the memory model
    /// measures for this memory's `dram` timing (a test holds the two together).
    public let usableFraction: Double
    /// Smallest transfer the controller makes.
    public let burstBytes: Int
    /// Read latency of a closed row on an idle channel, AR handshake to the last beat of
    /// the first burst.
    public let latencyNs: Double
    public let capacityGB: Double

    public var peakGBps: Double { Double(channels) * channelPeakGBps }
    public var usableGBps: Double { peakGBps * usableFraction }
    /// Each channel's organisation and timing, for the memory model.
    public var dram: DRAMTiming? { DRAMTiming.forMemory(type: type) }
  }

  /// Capacities in the vendor's own units; absent where the family has none.
  public struct Resources: Codable, Hashable, Sendable {
    public let luts: Int?
    public let alms: Int?
    public let registers: Int?
    public let m20kBlocks: Int?
    public let blockRAMBits: Int?
    public let ultraRAMBits: Int?
    public let dspSlices: Int?
    public let dspBlocks: Int?
  }

  /// One number of the power model with the public source it came from.
  /// `assumption` marks an engineering assumption (the source line says what
  /// it rests on) rather than a value taken from a document.
  public struct Coefficient: Codable, Hashable, Sendable {
    public let value: Double
    public let source: String
    public let assumption: Bool

    public init(_ value: Double, source: String, assumption: Bool = false) {
      self.value = value
      self.source = source
      self.assumption = assumption
    }

    enum CodingKeys: String, CodingKey { case value, source, assumption }

    public init(from decoder: Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      value = try c.decode(Double.self, forKey: .value)
      source = try c.decode(String.self, forKey: .source)
      assumption = try c.decodeIfPresent(Bool.self, forKey: .assumption) ?? false
    }
  }

  /// The power model's coefficients for this board (see docs/power.md).
  /// Energies in picojoules, powers in watts.
  public struct Power: Codable, Hashable, Sendable {
    /// Device static (leakage) power of the FPGA at a typical junction temperature.
    public let staticWatts: Coefficient
    /// Fraction of cycles a LUT, flip-flop or DSP output toggles when nothing is
    /// counted for it (the vendor estimators' default toggle rate).
    public let idleToggleRate: Coefficient
    /// One LUT output transition with its share of routing.
    public let lutTogglePJ: Coefficient
    /// One flip-flop output transition with its share of routing.
    public let flipFlopTogglePJ: Coefficient
    /// Clock network energy per flip-flop per cycle (the clock toggles every cycle).
    public let clockPJPerFlipFlopCycle: Coefficient
    /// A clocked block RAM that is not accessed, per block per cycle.
    public let blockRAMIdlePJPerBlockCycle: Coefficient
    /// One DSP block operation (a multiply) when toggling at the idle rate.
    public let dspTogglePJ: Coefficient
    /// One ternary add (an activation added or subtracted for a non-zero weight).
    public let ternaryAddPJ: Coefficient
    /// One accumulator register update.
    public let accumulatorUpdatePJ: Coefficient
    /// On-chip block RAM read and write, per bit.
    public let onChipReadPJPerBit: Coefficient
    public let onChipWritePJPerBit: Coefficient
    /// One element-wise multiply (a DSP operation).
    public let multiplyPJ: Coefficient
    /// Off-chip memory (DRAM device and interface), per bit moved.
    public let offChipPJPerBit: Coefficient
    /// Off-chip memory background power (standby and refresh) while powered.
    public let offChipBackgroundWatts: Coefficient

    /// Every coefficient with its JSON name, in a fixed order.
    public var all: [(name: String, coefficient: Coefficient)] {
      [
        ("staticWatts", staticWatts), ("idleToggleRate", idleToggleRate), ("lutTogglePJ", lutTogglePJ),
        ("flipFlopTogglePJ", flipFlopTogglePJ), ("clockPJPerFlipFlopCycle", clockPJPerFlipFlopCycle),
        ("blockRAMIdlePJPerBlockCycle", blockRAMIdlePJPerBlockCycle), ("dspTogglePJ", dspTogglePJ),
        ("ternaryAddPJ", ternaryAddPJ), ("accumulatorUpdatePJ", accumulatorUpdatePJ),
        ("onChipReadPJPerBit", onChipReadPJPerBit), ("onChipWritePJPerBit", onChipWritePJPerBit),
        ("multiplyPJ", multiplyPJ), ("offChipPJPerBit", offChipPJPerBit),
        ("offChipBackgroundWatts", offChipBackgroundWatts),
      ]
    }
  }

  /// The whole card's power, next to the chip-level model: the card's idle power where a measurement is
  /// published (docs/power.md), and published measurements of the card running a MatMul-free LM.
  public struct BoardPower: Codable, Hashable, Sendable {
    /// The card idle with its shell (the platform's static logic) loaded and the accelerator not running, as
    /// measured at the card; nil where no measurement is published.
    public let idleWatts: Coefficient?
    /// What the idle figure covers, or why there is none.
    public let note: String
    /// Published whole-card measurements under load, for comparison only (the model uses none of them).
    public let published: [Measurement]

    public struct Measurement: Codable, Hashable, Sendable {
      public let model: String
      public let watts: Double
      public let joulesPerToken: Double?
      public let source: String
    }
  }

  public let name: String
  public let board: String
  public let fpga: String
  /// "stratix10", "ultrascale+": selects the synthesis script family.
  public let family: String
  /// The vendor tool's name for the FPGA (Vivado part, Quartus device), what
  /// the FuseSoC core's vendor target is set up for; nil for a profile that
  /// has none yet (it then gets no vendor target).
  public let part: String?
  public let memory: Memory
  public let defaultClockMHz: Double
  public let resources: Resources
  public let sources: [String]
  /// The power model's coefficients; nil for a profile that has none yet.
  public let power: Power?
  /// The card's power; nil for a profile that has none yet.
  public let boardPower: BoardPower?

  public struct Unknown: Error, CustomStringConvertible {
    public let description: String
  }

  /// Every bundled profile, sorted by name.
  public static let all: [DeviceProfile] = {
    guard let directory = Bundle.module.url(forResource: "Profiles", withExtension: nil),
      let files = try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
    else { return [] }
    return files.filter { $0.pathExtension == "json" }
      .compactMap { try? JSONDecoder().decode(DeviceProfile.self, from: Data(contentsOf: $0)) }
      .sorted { $0.name < $1.name }
  }()

  public static func named(_ name: String) throws -> DeviceProfile {
    if let found = all.first(where: { $0.name == name.lowercased() }) { return found }
    throw Unknown(description: "unknown device '\(name)'; known devices: \(all.map(\.name).joined(separator: ", "))")
  }
}
