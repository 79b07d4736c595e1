import HWSpec
import HWSupport
import HWVerilator

/// One seed's run of `axi_read_master`: a random memory image, random
/// commands over it (up to 120 beats each, so most cross a 4 KiB boundary and
/// split into several bursts), and a slave with random latency, outstanding
/// limit, RVALID gaps, ARREADY backpressure and a stalling consumer.
public struct AXIReadWorkload: Sendable {
  public static let base: UInt64 = 0x0001_0000
  public let config: AXIReadMasterConfig
  public let seed: UInt64
  public let image: [UInt8]
  public let commands: [(address: UInt64, length: UInt64)]
  public let slave: AXIReadHarness.Slave

  public init(config: AXIReadMasterConfig, seed: UInt64, commands count: Int = 12, imageBytes: Int = 48 * 1024) {
    self.config = config
    self.seed = seed
    var random = SeededRandom(seed: seed)
    image = (0..<imageBytes).map { _ in UInt8.random(in: 0...255, using: &random) }
    let beat = config.bytesPerBeat
    let imageBeats = imageBytes / beat
    commands = (0..<count).map { _ in
      let beats = Int.random(in: 1...min(120, imageBeats), using: &random)
      let start = Int.random(in: 0...(imageBeats - beats), using: &random)
      return (Self.base + UInt64(start * beat), UInt64(beats * beat))
    }
    var slave = AXIReadHarness.Slave()
    slave.seed = seed
    slave.latency = Int.random(in: 1...40, using: &random)
    slave.maxOutstanding = Int.random(in: 1...8, using: &random)
    slave.rGapPercent = Int.random(in: 0...40, using: &random)
    slave.arStallPercent = Int.random(in: 0...50, using: &random)
    slave.dataStallPercent = Int.random(in: 0...50, using: &random)
    self.slave = slave
  }

  /// The beats the commands read, in order, with `last` on each command's final beat.
  public var expected: [(data: [UInt8], last: Bool)] {
    let width = config.bytesPerBeat
    return commands.flatMap { command -> [(data: [UInt8], last: Bool)] in
      let start = Int(command.address - Self.base)
      let beats = Int(command.length) / width
      return (0..<beats).map { k in (Array(image[(start + k * width)..<(start + (k + 1) * width)]), k == beats - 1) }
    }
  }

  /// Loads the image and queues the commands.
  public func queue(on harness: AXIReadHarness) {
    harness.load(base: Self.base, image)
    for command in commands { harness.command(address: command.address, length: command.length) }
  }

  public var description: String {
    "seed \(seed), \(config), slave latency \(slave.latency), \(slave.maxOutstanding) outstanding, "
      + "\(slave.rGapPercent)% RVALID gaps, \(slave.arStallPercent)% ARREADY stalls, \(slave.dataStallPercent)% rd stalls"
  }

  public struct Mismatch: Error, CustomStringConvertible {
    public let description: String
  }

  /// Runs the workload on `sim` (fresh out of reset) and checks every beat
  /// against the image; returns the cycles and beats, or throws the first
  /// difference, naming the seed.
  public func run(on sim: AXIReadMasterSimulation, cycles: Int = 400_000) throws -> (cycles: Int, beats: Int) {
    queue(on: sim.harness)
    let stop = try sim.harness.run(cycles: cycles)
    let ran = Int(sim.harness.stat("cycles"))
    guard stop == .done else {
      throw Mismatch(description: "\(description): the run ended with \(stop) after \(ran) cycles")
    }
    let got = sim.harness.beats()
    let want = expected
    let differs = { (k: Int) in got[k].data != want[k].data || got[k].last != want[k].last }
    if let k = (0..<min(got.count, want.count)).first(where: differs) {
      throw Mismatch(
        description: "\(description): beat \(k) differs from the image (last \(got[k].last), expected \(want[k].last))")
    }
    guard got.count == want.count else {
      throw Mismatch(description: "\(description): \(got.count) beats, expected \(want.count)")
    }
    let status = try sim.errorStatus()
    guard status.error == AXIReadError.none else {
      let error = status.error.map(String.init(describing:)) ?? "an unknown code"
      throw Mismatch(description: "\(description): error_o reports \(error) at 0x\(String(status.address, radix: 16))")
    }
    return (ran, got.count)
  }
}
