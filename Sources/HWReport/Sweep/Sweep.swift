import Foundation
import HWSpec

/// One design point of `hwgen sweep`: a device and an accelerator configuration.
public struct SweepPoint: Codable, Hashable, Sendable, Comparable {
  public var device: String
  public var lanes: Int
  public var packing: WeightPacking
  public var fifoKiB: Int
  /// Sequences run side by side (`AcceleratorConfig.streams`).
  public var streams: Int

  public init(device: String, lanes: Int, packing: WeightPacking, fifoKiB: Int, streams: Int = 1) {
    self.device = device
    self.lanes = lanes
    self.packing = packing
    self.fifoKiB = fifoKiB
    self.streams = streams
  }

  enum CodingKeys: String, CodingKey { case device, lanes, packing, fifoKiB, streams }

  /// Points stored before streams existed had one.
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      device: try c.decode(String.self, forKey: .device), lanes: try c.decode(Int.self, forKey: .lanes),
      packing: try c.decode(WeightPacking.self, forKey: .packing), fifoKiB: try c.decode(Int.self, forKey: .fifoKiB),
      streams: try c.decodeIfPresent(Int.self, forKey: .streams) ?? 1)
  }

  /// The point's name in file names, job lists and tables: `u280-32-base3-256`, with
  /// several streams `u250-32-base3-1024-s4`.
  public var id: String { "\(device)-\(lanes)-\(packing)-\(fifoKiB)" + (streams == 1 ? "" : "-s\(streams)") }

  /// Parses `id`.
  public init?(id: String) {
    let parts = id.split(separator: "-").map(String.init)
    guard (4...5).contains(parts.count), let lanes = Int(parts[1]), let packing = WeightPacking(rawValue: parts[2]),
      let fifo = Int(parts[3])
    else { return nil }
    var streams = 1
    if parts.count == 5 {
      guard parts[4].hasPrefix("s"), let n = Int(parts[4].dropFirst()), n > 1 else { return nil }
      streams = n
    }
    self.init(device: parts[0], lanes: lanes, packing: packing, fifoKiB: fifo, streams: streams)
  }

  public static func < (a: SweepPoint, b: SweepPoint) -> Bool {
    (a.device, a.lanes, a.packing.rawValue, a.fifoKiB, a.streams) < (b.device, b.lanes, b.packing.rawValue, b.fifoKiB, b.streams)
  }

  /// Every combination, in a fixed order (device, lanes, packing, FIFO, streams).
  public static func grid(
    devices: [String], lanes: [Int], packings: [WeightPacking], fifoKiB: [Int], streams: [Int] = [1]
  ) -> [SweepPoint] {
    devices.flatMap { d in
      lanes.flatMap { l in
        packings.flatMap { p in
          fifoKiB.flatMap { f in streams.map { SweepPoint(device: d, lanes: l, packing: p, fifoKiB: f, streams: $0) } }
        }
      }
    }
  }

  /// The point's accelerator.
  public var config: AcceleratorConfig {
    AcceleratorConfig(lanes: lanes, weightFIFOKiB: fifoKiB, weightPacking: packing, streams: streams)
  }
}

/// What one point measured: the simulation's cycles and bytes (checked bit for bit against
/// the golden model), Yosys's resources and the power model's estimate. No wall times, so the
/// same point gives the same bytes.
public struct SweepResult: Codable, Hashable, Sendable {
  public var point: SweepPoint
  public var model: String
  public var seed: UInt64
  public var tokens: Int
  public var clockMHz: Double
  public var layersSimulated: Int
  public var layers: Int
  /// The largest relative error of `--layers` extrapolation in the validation runs (nil: every layer simulated).
  public var extrapolationBound: Double?
  public var elementsCompared: Int
  public var cyclesPerToken: Double
  public var tokensPerSecond: Double
  public var bytesPerToken: Double
  public var rooflineTokensPerSecond: Double
  /// LUTs (UltraScale+) or ALMs (the Intel stand-in flow), as `flow` counts them.
  public var flow: String
  public var logic: Int
  public var flipFlops: Int
  public var blockRAMBlocks: Double
  public var dsps: Int
  /// The largest share of any of the device's resources the design needs (LUTs or ALMs,
  /// registers, block RAM, UltraRAM, DSPs).
  public var largestShare: Double
  public var fits: Bool { largestShare <= 1 }
  public var watts: Double
  public var joulesPerToken: Double

  public init(
    point: SweepPoint, model: String, seed: UInt64, tokens: Int, clockMHz: Double, layersSimulated: Int, layers: Int, extrapolationBound: Double?,
    elementsCompared: Int, cyclesPerToken: Double, tokensPerSecond: Double, bytesPerToken: Double,
    rooflineTokensPerSecond: Double, flow: String, logic: Int, flipFlops: Int, blockRAMBlocks: Double, dsps: Int,
    largestShare: Double, watts: Double, joulesPerToken: Double
  ) {
    self.point = point
    self.model = model
    self.seed = seed
    self.tokens = tokens
    self.clockMHz = clockMHz
    self.layersSimulated = layersSimulated
    self.layers = layers
    self.extrapolationBound = extrapolationBound
    self.elementsCompared = elementsCompared
    self.cyclesPerToken = cyclesPerToken
    self.tokensPerSecond = tokensPerSecond
    self.bytesPerToken = bytesPerToken
    self.rooflineTokensPerSecond = rooflineTokensPerSecond
    self.flow = flow
    self.logic = logic
    self.flipFlops = flipFlops
    self.blockRAMBlocks = blockRAMBlocks
    self.dsps = dsps
    self.largestShare = largestShare
    self.watts = watts
    self.joulesPerToken = joulesPerToken
  }

  public var rooflineFraction: Double { tokensPerSecond / rooflineTokensPerSecond }

  public func json() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try encoder.encode(self) + Data("\n".utf8)
  }
}

/// A sweep's results together: the Pareto fronts, the table, CSV, JSON and plots.
public struct SweepSummary: Sendable {
  public let results: [SweepResult]

  public init(_ results: [SweepResult]) { self.results = results.sorted { $0.point < $1.point } }

  /// Indices (into `candidates`) of the points no other fitting point beats on both axes: at
  /// least as good on each, better on one. `better(a, b)` per axis says a beats b.
  public static func front(
    _ candidates: [SweepResult], _ axes: [(SweepResult, SweepResult) -> (better: Bool, asGood: Bool)]
  ) -> Set<Int> {
    var front = Set<Int>()
    for (i, a) in candidates.enumerated() where a.fits {
      let dominated = candidates.enumerated().contains { j, b in
        guard j != i, b.fits else { return false }
        let comparisons = axes.map { $0(b, a) }
        return comparisons.allSatisfy(\.asGood) && comparisons.contains(where: \.better)
      }
      if !dominated { front.insert(i) }
    }
    return front
  }

  /// More tokens/s for fewer LUTs.
  public static func throughputFront(_ results: [SweepResult]) -> Set<Int> {
    front(results, [
      { a, b in (a.tokensPerSecond > b.tokensPerSecond, a.tokensPerSecond >= b.tokensPerSecond) },
      { a, b in (a.logic < b.logic, a.logic <= b.logic) },
    ])
  }

  /// Fewer joules a token at more tokens/s.
  public static func energyFront(_ results: [SweepResult]) -> Set<Int> {
    front(results, [
      { a, b in (a.tokensPerSecond > b.tokensPerSecond, a.tokensPerSecond >= b.tokensPerSecond) },
      { a, b in (a.joulesPerToken < b.joulesPerToken, a.joulesPerToken <= b.joulesPerToken) },
    ])
  }

  public static let csvHeader = [
    "device", "lanes", "packing", "fifo_kib", "streams", "model", "clock_mhz", "layers_simulated", "layers", "extrapolation_bound",
    "cycles_per_token", "tokens_per_second", "bytes_per_token", "roofline_tokens_per_second", "roofline_fraction",
    "flow", "logic", "flip_flops", "block_ram_blocks", "dsps", "largest_share", "fits", "watts", "joules_per_token",
    "pareto_throughput", "pareto_energy",
  ]

  /// One device's results (in point order) and the indices of its two fronts.
  public struct DeviceResults: Sendable {
    public let device: String
    public let results: [SweepResult]
    public let throughputFront: Set<Int>
    public let energyFront: Set<Int>
  }

  /// The results by device, devices in name order: the fronts are per device.
  public var byDevice: [DeviceResults] {
    devices.map { device in
      let rows = results.filter { $0.point.device == device }
      return DeviceResults(
        device: device, results: rows, throughputFront: Self.throughputFront(rows), energyFront: Self.energyFront(rows))
    }
  }

  /// One row a point; the Pareto columns are per device.
  public var csv: String {
    var lines = [Self.csvHeader.joined(separator: ",")]
    for group in byDevice {
      let throughput = group.throughputFront, energy = group.energyFront
      for (i, r) in group.results.enumerated() {
        let fields: [String] = [
          r.point.device, "\(r.point.lanes)", r.point.packing.rawValue, "\(r.point.fifoKiB)", "\(r.point.streams)", r.model,
          Self.number(r.clockMHz), "\(r.layersSimulated)", "\(r.layers)", r.extrapolationBound.map(Self.number) ?? "",
          Self.number(r.cyclesPerToken), Self.number(r.tokensPerSecond), Self.number(r.bytesPerToken),
          Self.number(r.rooflineTokensPerSecond), Self.number(r.rooflineFraction), "\"\(r.flow)\"", "\(r.logic)",
          "\(r.flipFlops)", Self.number(r.blockRAMBlocks), "\(r.dsps)", Self.number(r.largestShare), "\(r.fits)",
          Self.number(r.watts), Self.number(r.joulesPerToken), "\(throughput.contains(i))", "\(energy.contains(i))",
        ]
        lines.append(fields.joined(separator: ","))
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  public var devices: [String] { Array(Set(results.map(\.point.device))).sorted() }

  public func json() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try encoder.encode(results) + Data("\n".utf8)
  }

  /// A number as the CSV and the plots print it: at most six significant digits, no exponent.
  static func number(_ v: Double) -> String {
    var s = String(format: "%.6g", v)
    if s.contains("e") { s = String(format: "%.1f", v) }
    return s
  }
}
