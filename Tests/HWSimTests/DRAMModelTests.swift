import Foundation
import HWGolden
import HWSim
import HWSpec
import HWVerilator
import Testing

/// The off-chip memory's DRAM channels (`Sim/verilator/offchip_memory.h`) driven alone:
/// a long sequential stream sustains the profile's usable fraction (the number the
/// roofline uses), HBM matches a published measurement, an idle read takes the profile's
/// latency, and reads that change rows in one bank run at the row cycle, not the bus rate.
@Suite("DRAM channel model: sustained bandwidth, refresh, latency, row misses")
struct DRAMModelTests {
  /// 64-byte ports (4 lanes each), as many a channel as it takes to ask for more than the
  /// channel's peak at the profile's clock.
  static func memory(_ profile: DeviceProfile) throws -> (OffChipMemory, MemoryModel) {
    let (sim, _) = try AcceleratorModels.simulation(.tiny, seed: 1)
    let portGBps = 64 * profile.defaultClockMHz / 1000
    let portsPerChannel = Int((profile.memory.channelPeakGBps / portGBps).rounded(.up))
    let spec = OffChipMemory(
      profile: profile, clockMHz: profile.defaultClockMHz,
      config: AcceleratorConfig(lanes: 4 * portsPerChannel * profile.memory.channels))
    let model = try sim.memoryModel(spec, images: Array(repeating: [], count: spec.ports))
    return (spec, model)
  }

  /// Streams 16-beat bursts on every port for `cycles` cycles, each port from `address(port,
  /// burst)`, taking every beat offered; returns the beats taken.
  static func stream(
    _ spec: OffChipMemory, _ memory: MemoryModel, cycles: Int, address: (Int, Int) -> Int
  ) -> Int {
    var bursts = [Int](repeating: 0, count: spec.ports)
    var taken = 0
    let words = [UInt32](repeating: 0, count: spec.portBeatBytes / 4)
    for _ in 0..<cycles {
      for p in 0..<spec.ports {
        if memory.acceptsBurst(port: p) {
          memory.acceptBurst(port: p, address: address(p, bursts[p]), beats: 16)
          bursts[p] += 1
        }
        if memory.beatAvailable(port: p) {
          words.withUnsafeBufferPointer { memory.takeBeat(port: p, words: $0.baseAddress!) }
          taken += 1
        }
      }
      memory.tick()
    }
    return taken
  }

  @Test(
    "a sequential stream on every channel sustains the profile's usable fraction",
    arguments: DeviceProfile.all.map(\.name))
  func sequentialEfficiency(name: String) throws {
    let profile = try DeviceProfile.named(name)
    let dram = try #require(profile.memory.dram, "\(profile.name): no DRAM timing for \(profile.memory.type)")
    #expect(abs(dram.peakGBps / profile.memory.channelPeakGBps - 1) < 0.005, "\(profile.name): peak \(dram.peakGBps)")
    let (spec, memory) = try Self.memory(profile)
    let cycles = 200_000
    let beats = Self.stream(spec, memory, cycles: cycles) { _, burst in burst * 16 * spec.portBeatBytes }
    let seconds = Double(cycles) / (profile.defaultClockMHz * 1e6)
    let gbps = Double(beats * spec.portBeatBytes) / seconds / 1e9
    let fraction = gbps / profile.memory.peakGBps
    #expect(
      abs(fraction - profile.memory.usableFraction) < 0.01,
      "\(profile.name): \(gbps) GB/s is \(fraction) of peak, the profile says \(profile.memory.usableFraction)")
    // tREFI passed this often in the run (each channel), give or take the last one.
    let refreshes = Double(memory.refreshes) / Double(profile.memory.channels)
    let expected = seconds * 1e9 / (Double(dram.refi) * 1000 / dram.clockMHz)
    #expect(abs(refreshes - expected) <= 1, "\(refreshes) refreshes a channel, \(expected) tREFI")
    if profile.name == "u280" {
      // Wang et al., "Shuhai: Benchmarking High Bandwidth Memory on FPGAs" (FCCM 2020,
      // arXiv 2005.04324) measured up to 425 GB/s over the U280's 32 pseudo-channels.
      #expect(abs(gbps / 425 - 1) < 0.02, "u280: \(gbps) GB/s against the measured 425")
    }
  }

  @Test("an idle read of a closed row takes the profile's latency")
  func idleLatency() throws {
    let profile = try DeviceProfile.named("d5005")
    let (spec, memory) = try Self.memory(profile)
    for _ in 0..<10 { memory.tick() }
    // The AR handshake at the end of this cycle; cycles after it until RVALID.
    memory.acceptBurst(port: 0, address: 0, beats: 1)
    memory.tick()
    var waited = 0
    while !memory.beatAvailable(port: 0) && waited < 1000 {
      memory.tick()
      waited += 1
    }
    #expect(waited == spec.latencyCycles, "first beat after \(waited) cycles, latency \(spec.latencyCycles)")
  }

  @Test("bursts that each open a new row in one bank run at the row cycle, not the bus rate")
  func rowMisses() throws {
    let profile = try DeviceProfile.named("d5005")
    let dram = try #require(profile.memory.dram)
    let (spec, memory) = try Self.memory(profile)
    // Consecutive bursts one whole bank set apart: same bank group and bank, the next row.
    let rowSet = dram.rowBytes * dram.bankGroups * dram.banksPerGroup
    let cycles = 50_000
    var taken = 0
    let words = [UInt32](repeating: 0, count: spec.portBeatBytes / 4)
    var next = 0
    for _ in 0..<cycles {
      if memory.acceptsBurst(port: 0) {
        memory.acceptBurst(port: 0, address: next * rowSet, beats: 1)
        next += 1
      }
      if memory.beatAvailable(port: 0) {
        words.withUnsafeBufferPointer { memory.takeBeat(port: 0, words: $0.baseAddress!) }
        taken += 1
      }
      memory.tick()
    }
    // Each burst waits for tRAS + tRP (the row cycle) in its bank.
    let rowCycleNs = Double(dram.ras + dram.rp) * 1000 / dram.clockMHz
    let allowed = Double(cycles) / (profile.defaultClockMHz / 1000) / rowCycleNs
    #expect(Double(taken) <= allowed + 1 && Double(taken) > 0.9 * allowed, "\(taken) bursts, the row cycle allows \(allowed)")
    #expect(memory.activates >= taken)
  }
}
