import Foundation
import HWGenerators
import HWSim
import HWSpec
import HWSupport
import HWVerilator
import Testing

/// Builds each configuration's library once per test process (serialized);
/// every test loads its own model and harness.
enum AXIModels {
  private static let lock = NSLock()

  static func simulation(_ config: AXIReadMasterConfig, _ slave: AXIReadHarness.Slave) throws -> AXIReadMasterSimulation {
    lock.lock()
    defer { lock.unlock() }
    return try AXIReadMasterSimulation(config: config, slave: slave)
  }
}

/// The DDR4 width with the default bursts and depth, and the HBM width with
/// longer bursts and more of them outstanding.
let axiSimConfigs = [
  AXIReadMasterConfig(),
  AXIReadMasterConfig(dataWidth: 256, maxBurstBeats: 32, outstanding: 8),
]

/// A memory image and commands over it, from one seed.
struct AXIWorkload {
  static let base: UInt64 = 0x0001_0000
  let image: [UInt8]
  let commands: [(address: UInt64, length: UInt64)]

  init(config: AXIReadMasterConfig, seed: UInt64, commands count: Int = 12, imageBytes: Int = 48 * 1024) {
    var random = SeededRandom(seed: seed)
    image = (0..<imageBytes).map { _ in UInt8.random(in: 0...255, using: &random) }
    let beat = config.bytesPerBeat
    let imageBeats = imageBytes / beat
    commands = (0..<count).map { _ in
      let beats = Int.random(in: 1...min(120, imageBeats), using: &random)
      let start = Int.random(in: 0...(imageBeats - beats), using: &random)
      return (Self.base + UInt64(start * beat), UInt64(beats * beat))
    }
  }

  /// The beats the commands read, in order, with `last` on each command's final beat.
  func expected(beatBytes: Int) -> [(data: [UInt8], last: Bool)] {
    commands.flatMap { command -> [(data: [UInt8], last: Bool)] in
      let start = Int(command.address - Self.base)
      let beats = Int(command.length) / beatBytes
      return (0..<beats).map { k in
        (Array(image[(start + k * beatBytes)..<(start + (k + 1) * beatBytes)]), k == beats - 1)
      }
    }
  }

  func queue(on harness: AXIReadHarness) {
    harness.load(base: Self.base, image)
    for command in commands { harness.command(address: command.address, length: command.length) }
  }
}

@Suite struct AXIReadMasterTests {
  /// Random commands over a random image, with random latency, RVALID gaps,
  /// ARREADY backpressure, outstanding limits and a stalling consumer: every
  /// beat out is the image's, bit for bit, in order, `last` where a command
  /// ends; the C++ slave checked every burst (limit, 4 KiB, AR stability).
  @Test(arguments: axiSimConfigs, [1, 2, 3] as [UInt64])
  func randomCommandsReadTheImage(config: AXIReadMasterConfig, seed: UInt64) throws {
    var random = SeededRandom(seed: seed &* 7919)
    var slave = AXIReadHarness.Slave()
    slave.seed = seed
    slave.latency = Int.random(in: 1...40, using: &random)
    slave.maxOutstanding = Int.random(in: 1...8, using: &random)
    slave.rGapPercent = Int.random(in: 0...40, using: &random)
    slave.arStallPercent = Int.random(in: 0...50, using: &random)
    slave.dataStallPercent = Int.random(in: 0...50, using: &random)
    let sim = try AXIModels.simulation(config, slave)
    let workload = AXIWorkload(config: config, seed: seed)
    workload.queue(on: sim.harness)
    let context = "seed \(seed), \(config), slave latency \(slave.latency), \(slave.maxOutstanding) outstanding"
    let stop = try sim.harness.run(cycles: 400_000)
    #expect(stop == .done, "\(context): \(stop)")
    let got = sim.harness.beats()
    let expected = workload.expected(beatBytes: config.bytesPerBeat)
    #expect(got.count == expected.count, "\(context): \(got.count) beats, expected \(expected.count)")
    if let k = (0..<min(got.count, expected.count)).first(where: { got[$0].data != expected[$0].data || got[$0].last != expected[$0].last }) {
      Issue.record("\(context): beat \(k) differs from the image (last \(got[k].last), expected \(expected[k].last))")
    }
    #expect(try sim.errorStatus().error == AXIReadError.none, "\(context)")
  }

  /// SLVERR and DECERR injected on a range: the engine latches the response
  /// and the first failing beat's address, and stops issuing.
  @Test(arguments: [(2, AXIReadError.slaveError), (3, AXIReadError.decodeError)])
  func errorResponsesLatchTheAddress(response: Int, error: AXIReadError) throws {
    let config = axiSimConfigs[0]
    var slave = AXIReadHarness.Slave()
    slave.latency = 5
    let workload = AXIWorkload(config: config, seed: 9, commands: 6)
    let failing = workload.commands[2].address + UInt64(config.bytesPerBeat)
    slave.errorRange = failing..<(failing + 4 * UInt64(config.bytesPerBeat))
    slave.errorResponse = response
    let sim = try AXIModels.simulation(config, slave)
    workload.queue(on: sim.harness)
    #expect(try sim.harness.run(cycles: 100_000, until: "error_o") == .stopPort)
    let status = try sim.errorStatus()
    #expect(status.error == error)
    // The first beat read in the range: commands run in order, a command's beats in address order.
    let firstRead = workload.commands.prefix(3).lazy.compactMap { c -> UInt64? in
      let end = c.address + c.length
      guard end > failing, c.address < slave.errorRange!.upperBound else { return nil }
      return max(c.address, failing)
    }.first
    #expect(status.address == firstRead, "error at 0x\(String(status.address, radix: 16))")
    let issued = sim.harness.stat("ar_handshakes")
    #expect(try sim.harness.run(cycles: 5_000) == .cycles, "the commands after the error never finish")
    #expect(sim.harness.stat("ar_handshakes") <= issued + 1, "bursts issued after the error")
    #expect(sim.harness.stat("commands_done") < UInt64(workload.commands.count))
  }

  /// A slave that never raises ARREADY, and one that accepts but never
  /// answers: both end in the timeout error naming the address waited for.
  @Test(arguments: [true, false])
  func silentSlaveTimesOut(neverAcceptsAddress: Bool) throws {
    let config = axiSimConfigs[0]
    var slave = AXIReadHarness.Slave()
    slave.neverAnswers = neverAcceptsAddress
    slave.latency = neverAcceptsAddress ? 10 : 1 << 40
    let sim = try AXIModels.simulation(config, slave)
    let address = AXIWorkload.base + 0x840
    sim.harness.command(address: address, length: 4096)
    #expect(try sim.harness.run(cycles: 3 * config.timeoutCycles, until: "error_o") == .stopPort)
    let status = try sim.errorStatus()
    #expect(status.error == .timeout)
    #expect(status.address == address, "timeout at 0x\(String(status.address, radix: 16))")
    let cycles = Int(sim.harness.stat("cycles"))
    #expect(cycles >= config.timeoutCycles && cycles < config.timeoutCycles + 64, "timed out after \(cycles) cycles")
  }

  /// The slave's own checks can fail: a slave that allows 8-beat bursts stops
  /// the run at the engine's first 16-beat burst.
  @Test func slaveRejectsBurstsOverItsLimit() throws {
    let config = axiSimConfigs[0]
    let sim = try AXIModels.simulation(config, AXIReadHarness.Slave())
    var slave = AXIReadHarness.Slave()
    slave.maxBurstBeats = 8
    let strict = try AXIReadHarness(model: sim.model, slave: slave)
    strict.load(base: AXIWorkload.base, [UInt8](repeating: 1, count: 8192))
    strict.command(address: AXIWorkload.base, length: 4096)
    let stop = try strict.run(cycles: 1_000)
    #expect(stop == .violation("burst at 0x10000 of 16 beats is longer than the burst limit"), "\(stop)")
  }

  /// Sustained beats per cycle with no backpressure and a 20-cycle latency:
  /// one 64 KiB read streams at the bus rate once the first beat arrives.
  @Test(arguments: axiSimConfigs)
  func sustainsOneBeatPerCycle(config: AXIReadMasterConfig) throws {
    var slave = AXIReadHarness.Slave()
    slave.latency = 20
    slave.maxOutstanding = config.outstanding
    let sim = try AXIModels.simulation(config, slave)
    let bytes = 64 * 1024
    sim.harness.load(base: AXIWorkload.base, [UInt8](repeating: 0x5A, count: bytes))
    sim.harness.command(address: AXIWorkload.base, length: UInt64(bytes))
    #expect(try sim.harness.run(cycles: 100_000) == .done)
    let beats = Double(sim.harness.stat("data_beats"))
    let span = Double(sim.harness.stat("last_data_cycle") - sim.harness.stat("first_data_cycle") + 1)
    let total = Double(sim.harness.stat("cycles"))
    print("axi_read_master \(config): \(Int(beats)) beats, \(String(format: "%.4f", beats / span)) beats/cycle sustained, "
      + "\(String(format: "%.4f", beats / total)) over all \(Int(total)) cycles, "
      + "\(sim.harness.stat("max_accepted")) bursts outstanding at most")
    #expect(beats == Double(bytes / config.bytesPerBeat))
    #expect(beats / span >= 0.99)
  }
}
