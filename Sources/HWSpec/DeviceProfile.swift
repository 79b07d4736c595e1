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
    /// Fraction of peak bandwidth a long sequential stream sustains.
    public let usableFraction: Double
    /// Smallest transfer the controller makes.
    public let burstBytes: Int
    /// Read latency, request to first data.
    public let latencyNs: Double
    public let capacityGB: Double

    public var peakGBps: Double { Double(channels) * channelPeakGBps }
    public var usableGBps: Double { peakGBps * usableFraction }
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

  public let name: String
  public let board: String
  public let fpga: String
  /// "stratix10", "ultrascale+": selects the synthesis script family.
  public let family: String
  public let memory: Memory
  public let defaultClockMHz: Double
  public let resources: Resources
  public let sources: [String]

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
