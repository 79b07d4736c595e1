import HWGolden
import HWSpec
import HWVerilator

/// The off-chip memory (DDR4 or HBM) of a device profile at the accelerator's clock, as the
/// C++ harness models it (`Sim/verilator/offchip_memory.h`, driven through `MemoryModel`),
/// answering two kinds of reads:
///
/// - AXI4 read bursts on the accelerator's memory ports: its weight DMA
///   reads every MATVEC's matrix, each port its slice of every weight beat
///   (`AcceleratorConfig.memoryPorts`). Each port returns its bursts in order,
///   at most one R beat a cycle;
/// - the same on the vector port (port `ports`): LOADV's and EMBED's reads of
///   Q15.16 vectors (gammas, lower bounds, embedding rows) from the port its
///   address names (`AcceleratorConfig.vectorPortShift`), served first on that
///   port's channel.
///
/// Channels: weight port p on the profile's channel p % channels, each a DRAM
/// channel with the profile's JEDEC timing (`DRAMTiming`: banks, rows, tRCD,
/// tRP, tCCD, tFAW, refresh; docs/memory-model.md). Latency: the profile's
/// closed-row read latency, of which the DRAM's ACT-to-data time is modelled
/// and the rest (controller, PHY, interconnect) is a fixed pipeline.
/// A port keeps at most `maxOutstanding` bursts accepted and not yet
/// answered (ARREADY is low at the limit). Every read is answered from the
/// ports' bytes (`AcceleratorMemoryImage`); an address past a port's image
/// answers DECERR.
public struct OffChipMemory: Sendable {
  public let profile: DeviceProfile
  public let clockMHz: Double
  public let dram: DRAMTiming
  /// The profile's usable bandwidth in bytes per accelerator cycle (the roofline's).
  public let bytesPerCycle: Double
  /// The closed-row read latency in accelerator cycles, and its part outside the DRAM.
  public let latencyCycles: Int
  public let frontLatencyNs: Double
  /// Weight ports; the vector port is port `ports`.
  public let ports: Int
  public var vectorPort: Int { ports }
  /// Bytes of one AXI beat on a weight port and on the vector port.
  public let portBeatBytes: Int
  public let vectorBeatBytes: Int
  /// The vector port's address names the port it reads in these bits and up.
  public let vectorPortShift: Int
  /// Bursts a port may have accepted and not yet answered.
  public let maxOutstanding = 16
  let lanes: Int
  let elementLanes: Int

  public init(profile: DeviceProfile, clockMHz: Double, config: AcceleratorConfig) {
    self.profile = profile
    self.clockMHz = clockMHz
    // Every shipped profile has a preset (a test checks); DDR4-2400 stands in otherwise.
    dram = profile.memory.dram ?? .ddr4_2400
    bytesPerCycle = profile.memory.usableGBps * 1e9 / (clockMHz * 1e6)
    latencyCycles = Int((profile.memory.latencyNs * clockMHz / 1000).rounded(.up))
    frontLatencyNs = max(0, profile.memory.latencyNs - dram.closedRowReadNs)
    portBeatBytes = config.memoryDataBytes
    vectorBeatBytes = config.vectorDataBits / 8
    ports = config.memoryPorts
    vectorPortShift = config.vectorPortShift
    lanes = config.lanes
    elementLanes = config.elementLanes
  }

  /// Core beats of a matrix: row groups of `lanes` rows, 64 columns a beat.
  public func beats(of m: PackedTernary) -> Int { (m.rows + lanes - 1) / lanes * m.wordsPerRow }

  /// Bytes the accelerator reads for a vector of `elements` Q15.16 values:
  /// whole element beats.
  public func vectorRequestBytes(elements: Int) -> Int { (elements + elementLanes - 1) / elementLanes * elementLanes * 4 }

  /// Bytes of one beat on `port`.
  public func beatBytes(port: Int) -> Int { port == vectorPort ? vectorBeatBytes : portBeatBytes }

  /// The cycle-by-cycle model, from `library`'s C++, holding `images` (each weight port's
  /// bytes from address 0; vectors in port 0's).
  public func model(images: [[UInt8]], library: VerilatedModel) throws -> MemoryModel {
    precondition(images.count == ports, "\(images.count) port images for \(ports) ports")
    let shape = MemoryModel.Shape(
      ports: ports, portBeatBytes: portBeatBytes, vectorBeatBytes: vectorBeatBytes, maxOutstanding: maxOutstanding,
      lanesPerPort: lanes / ports,
      options: dram.memoryOptions.merging([
        "channels": Double(profile.memory.channels), "clock_mhz": clockMHz, "front_latency_ns": frontLatencyNs,
        "vector_port_shift": Double(vectorPortShift),
      ]) { $1 })
    let memory = try MemoryModel(shape: shape, library: library)
    for (p, bytes) in images.enumerated() { memory.load(port: p, bytes) }
    return memory
  }
}
