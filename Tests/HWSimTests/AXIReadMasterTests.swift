import Foundation
import HWGenerators
import HWSim
import HWSpec
import HWSupport
import HWTools
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

  static func serialized<T>(_ body: () throws -> T) rethrows -> T {
    lock.lock()
    defer { lock.unlock() }
    return try body()
  }
}

/// The DDR4 width with the default bursts and depth, and the HBM width with
/// longer bursts and more of them outstanding.
let axiSimConfigs = [
  AXIReadMasterConfig(),
  AXIReadMasterConfig(dataWidth: 256, maxBurstBeats: 32, outstanding: 8),
]

@Suite struct AXIReadMasterTests {
  /// Random commands over a random image, with random latency, RVALID gaps,
  /// ARREADY backpressure, outstanding limits and a stalling consumer: every
  /// beat out is the image's, bit for bit, in order, `last` where a command
  /// ends; the C++ slave checked every burst (limit, 4 KiB, AR stability).
  @Test(arguments: axiSimConfigs, [1, 2, 3] as [UInt64])
  func randomCommandsReadTheImage(config: AXIReadMasterConfig, seed: UInt64) throws {
    let workload = AXIReadWorkload(config: config, seed: seed)
    let sim = try AXIModels.simulation(config, workload.slave)
    let run = try workload.run(on: sim)
    #expect(run.beats == workload.expected.count)
    #expect(sim.harness.stat("ar_handshakes") > UInt64(workload.commands.count), "\(workload): no command split")
  }

  /// A command that is not beat-aligned stops the model at the engine's assertion.
  @Test func misalignedCommandFailsTheAssertion() throws {
    let config = axiSimConfigs[0]
    let sim = try AXIModels.simulation(config, AXIReadHarness.Slave())
    sim.harness.command(address: AXIReadWorkload.base + 4, length: 64)
    #expect {
      _ = try sim.harness.run(cycles: 100)
    } throws: { error in
      "\(error)".contains("CmdAligned_A")
    }
  }

  /// SLVERR and DECERR injected on a range: the engine latches the response
  /// and the first failing beat's address, and stops issuing.
  @Test(arguments: [(2, AXIReadError.slaveError), (3, AXIReadError.decodeError)])
  func errorResponsesLatchTheAddress(response: Int, error: AXIReadError) throws {
    let config = axiSimConfigs[0]
    var slave = AXIReadHarness.Slave()
    slave.latency = 5
    let workload = AXIReadWorkload(config: config, seed: 9, commands: 6)
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

  /// A wrong RID, or an RLAST off the burst's end, on the 21st beat of the run:
  /// the engine latches the mismatch and that beat's address, and that beat
  /// and those after it never reach the data stream.
  @Test(arguments: [AXIReadError.idMismatch, .lastMismatch])
  func mismatchedBeatsLatchTheirAddress(error: AXIReadError) throws {
    let config = axiSimConfigs[0]
    var slave = AXIReadHarness.Slave()
    slave.latency = 3
    if error == .idMismatch { slave.badIDBeat = 21 } else { slave.badLastBeat = 21 }
    let sim = try AXIModels.simulation(config, slave)
    sim.harness.load(base: AXIReadWorkload.base, [UInt8](repeating: 7, count: 16384))
    sim.harness.command(address: AXIReadWorkload.base, length: 8192)
    #expect(try sim.harness.run(cycles: 10_000, until: "error_o") == .stopPort)
    let status = try sim.errorStatus()
    #expect(status.error == error)
    #expect(status.address == AXIReadWorkload.base + 20 * UInt64(config.bytesPerBeat))
    _ = try sim.harness.run(cycles: 1_000)
    #expect(sim.harness.stat("data_beats") == 20)
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
    let address = AXIReadWorkload.base + 0x840
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
    strict.load(base: AXIReadWorkload.base, [UInt8](repeating: 1, count: 8192))
    strict.command(address: AXIReadWorkload.base, length: 4096)
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
    sim.harness.load(base: AXIReadWorkload.base, [UInt8](repeating: 0x5A, count: bytes))
    sim.harness.command(address: AXIReadWorkload.base, length: UInt64(bytes))
    #expect(try sim.harness.run(cycles: 100_000) == .done)
    let beats = Double(sim.harness.stat("data_beats"))
    let span = Double(sim.harness.stat("last_data_cycle") - sim.harness.stat("first_data_cycle") + 1)
    let total = Double(sim.harness.stat("cycles"))
    print("axi_read_master \(config): \(Int(beats)) beats, \(String(format: "%.4f", beats / span)) beats/cycle sustained, "
      + "\(String(format: "%.4f", beats / total)) over all \(Int(total)) cycles, "
      + "\(sim.harness.stat("max_accepted")) bursts outstanding at most")
    #expect(beats == Double(bytes / config.bytesPerBeat))
    #expect(beats / span >= 0.99)
    #expect(sim.harness.stat("max_accepted") >= 2, "several reads outstanding")
  }

  /// The slave's bandwidth limit holds the engine to it: 2 beats in 5 cycles.
  @Test func followsTheSlavesBandwidth() throws {
    let config = axiSimConfigs[0]
    var slave = AXIReadHarness.Slave()
    slave.bandwidth = (beats: 2, cycles: 5)
    let sim = try AXIModels.simulation(config, slave)
    sim.harness.load(base: AXIReadWorkload.base, [UInt8](repeating: 3, count: 32 * 1024))
    sim.harness.command(address: AXIReadWorkload.base, length: 32 * 1024)
    #expect(try sim.harness.run(cycles: 100_000) == .done)
    let beats = Double(sim.harness.stat("data_beats"))
    let span = Double(sim.harness.stat("last_data_cycle") - sim.harness.stat("first_data_cycle") + 1)
    #expect(abs(beats / span - 0.4) < 0.01, "\(beats / span) beats/cycle")
  }

  /// How fast the harness runs the engine: a 4 MiB read, the slave and the
  /// stream sink in C++ every cycle (printed; asserted only to finish).
  @Test func harnessSpeed() throws {
    let config = axiSimConfigs[0]
    let sim = try AXIModels.simulation(config, AXIReadHarness.Slave())
    let bytes = 4 << 20
    sim.harness.load(base: 0, [UInt8](repeating: 9, count: bytes))
    sim.harness.command(address: 0, length: UInt64(bytes))
    let start = DispatchTime.now().uptimeNanoseconds
    #expect(try sim.harness.run(cycles: 200_000) == .done)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let cycles = Double(sim.harness.stat("cycles"))
    print("axi_read_master harness: \(Int(cycles)) cycles in \(String(format: "%.3f", seconds)) s, "
      + "\(String(format: "%.0f", cycles / seconds / 1000)) kcycles/s")
  }

  /// `hwgen regress --configs axi:...` runs the same seeded workload on Verilator (the
  /// engine has no Icarus bench: the slave model is C++ next to the Verilated model).
  @Test func regressRunsTheEngine() throws {
    let targets = try RegressTarget.parseList("axi:512x16x4")
    #expect(targets == [.axiRead(axiSimConfigs[0])])
    let cases = RegressCase.matrix(targets: targets, seeds: [5], simulators: [.verilator, .iverilog])
    let outcomes = AXIModels.serialized { RegressRunner().run(cases) }
    #expect(outcomes[0].passed, "\(outcomes[0].status)")
    #expect(outcomes[0].checked == AXIReadWorkload(config: axiSimConfigs[0], seed: 5).expected.count)
    #expect(outcomes[1].skipped)
  }

  @Test func aBadConfigurationIsOneLine() {
    #expect {
      _ = try RegressTarget.parseList("axi:384x16x4")
    } throws: { error in
      "\(error)" == "config 'axi:384x16x4': axi read master: data width must be 32, 64, 128, 256 or 512 bits, got 384"
    }
  }
}
