import HWGolden
import HWSpec

/// The off-chip memory (DDR4 or HBM) of a device profile, cycle by cycle at the
/// accelerator's clock, answering two kinds of reads:
///
/// - AXI4 read bursts on the accelerator's memory ports: its weight DMA
///   reads every MATVEC's matrix, each port its slice of every weight beat
///   (`AcceleratorConfig.memoryPorts`). `acceptBurst` takes an AR handshake;
///   each port returns its bursts in order, at most one R beat a cycle;
/// - the same on the vector port (port `ports`): LOADV's and EMBED's reads of
///   Q15.16 vectors (gammas, lower bounds, embedding rows) from port 0's
///   memory, served first when both want the memory.
///
/// Bandwidth: the profile's usable bandwidth (channels x peak x usable
/// fraction, the channels interleaved at burst granularity) in bytes per
/// cycle, shared by the ports, the vector port first, the weight ports
/// taking turns, a beat at a time.
/// Latency: data arrives `latencyCycles` after the memory moved it. A port
/// keeps at most `maxOutstanding` bursts accepted and not yet answered
/// (ARREADY is low at the limit). Every read is answered from the ports'
/// bytes (`AcceleratorMemoryImage`); an address past a port's image answers
/// DECERR.
public final class OffChipMemory {
  public let profile: DeviceProfile
  public let clockMHz: Double
  public let bytesPerCycle: Double
  public let latencyCycles: Int
  public let burstBytes: Int
  /// Weight ports; the vector port is port `ports`.
  public let ports: Int
  public var vectorPort: Int { ports }
  /// Bytes of one AXI beat on a weight port and on the vector port.
  public let portBeatBytes: Int
  public let vectorBeatBytes: Int
  /// Bursts a port may have accepted and not yet answered.
  public let maxOutstanding = 16
  let lanes: Int
  let elementLanes: Int
  /// Core lanes in one port's slice of a weight beat.
  let lanesPerPort: Int

  /// Counters: bytes moved (whole AXI beats) for the weight ports and for the
  /// vector port, cycles simulated, cycles the memory moved data.
  public private(set) var weightBytes = 0
  public private(set) var vectorBytes = 0
  public private(set) var cycles = 0
  public private(set) var busyCycles = 0
  /// Non-zero weights in the beats returned on the weight ports.
  public private(set) var nonZeroWeights = 0

  /// Each weight port's bytes from address 0; the vector port reads port 0's.
  private var portBytes: [[UInt8]] = []

  /// A port's bursts: accepted and moving, then beats that have arrived.
  private struct Port {
    var moving: [(address: Int, beats: Int, moved: Int)] = []
    var movingHead = 0
    var arrived: [(cycle: Int, address: Int, last: Bool)] = []
    var arrivedHead = 0
    /// Bursts accepted and not wholly returned.
    var outstanding = 0
    var idle: Bool { movingHead == moving.count }
  }
  private var portState: [Port]
  private var nextPort = 0
  private var credit = 0.0

  public init(profile: DeviceProfile, clockMHz: Double, config: AcceleratorConfig) {
    self.profile = profile
    self.clockMHz = clockMHz
    bytesPerCycle = profile.memory.usableGBps * 1e9 / (clockMHz * 1e6)
    latencyCycles = Int((profile.memory.latencyNs * clockMHz / 1000).rounded(.up))
    burstBytes = profile.memory.burstBytes
    portBeatBytes = config.memoryDataBytes
    vectorBeatBytes = config.vectorDataBits / 8
    ports = config.memoryPorts
    lanes = config.lanes
    lanesPerPort = config.lanes / config.memoryPorts
    elementLanes = config.elementLanes
    portState = Array(repeating: Port(), count: config.memoryPorts + 1)
  }

  /// Core beats of a matrix: row groups of `lanes` rows, 64 columns a beat.
  public func beats(of m: PackedTernary) -> Int { (m.rows + lanes - 1) / lanes * m.wordsPerRow }

  /// Bytes the accelerator reads for a vector of `elements` Q15.16 values:
  /// whole element beats.
  public func vectorRequestBytes(elements: Int) -> Int { (elements + elementLanes - 1) / elementLanes * elementLanes * 4 }

  /// The memory's contents: each weight port's bytes from address 0 (vectors in port 0).
  public func load(ports: [[UInt8]]) {
    precondition(ports.count == self.ports, "\(ports.count) port images for \(self.ports) ports")
    portBytes = ports
  }

  /// Bytes of one beat on `port`.
  public func beatBytes(port: Int) -> Int { port == vectorPort ? vectorBeatBytes : portBeatBytes }

  /// Whether `port` takes a burst this cycle (ARREADY).
  public func acceptsBurst(port: Int) -> Bool { portState[port].outstanding < maxOutstanding }

  /// An AR handshake on `port`: `beats` beats from `address`.
  public func acceptBurst(port: Int, address: Int, beats: Int) {
    portState[port].moving.append((address, beats, 0))
    portState[port].outstanding += 1
  }

  /// Whether a beat can be answered on `port` (its R channel's RVALID).
  public func beatAvailable(port: Int) -> Bool {
    let p = portState[port]
    return p.arrivedHead < p.arrived.count && p.arrived[p.arrivedHead].cycle <= cycles
  }

  /// The address and RLAST of `port`'s next beat.
  public func nextBeat(port: Int) -> (address: Int, last: Bool) {
    let p = portState[port]
    let beat = p.arrived[p.arrivedHead]
    return (beat.address, beat.last)
  }

  /// Writes `port`'s beat at `address` into `words` (a weight port's beat of
  /// a matrix: its slice of a weight beat, a (non-zero, negative) word pair a
  /// lane; the vector port's: Q15.16 elements of port 0); false when the
  /// address is past the memory.
  public func readBeat(port: Int, address: Int, into words: UnsafeMutableRawPointer) -> Bool {
    let bytes = beatBytes(port: port)
    let image = port == vectorPort ? 0 : port
    guard address >= 0, address + bytes <= portBytes[image].count else { return false }
    portBytes[image].withUnsafeBytes { words.copyMemory(from: $0.baseAddress! + address, byteCount: bytes) }
    return true
  }

  /// The accelerator took `port`'s next beat (RVALID and RREADY), whose data
  /// `words` held.
  public func takeBeat(port: Int, words: UnsafeRawPointer) {
    if port != vectorPort {
      for r in 0..<lanesPerPort {
        nonZeroWeights += UInt64(littleEndian: words.loadUnaligned(fromByteOffset: 16 * r, as: UInt64.self)).nonzeroBitCount
      }
    }
    let last = portState[port].arrived[portState[port].arrivedHead].last
    portState[port].arrivedHead += 1
    if last { portState[port].outstanding -= 1 }
    if portState[port].arrivedHead > 4096 {
      portState[port].arrived.removeFirst(portState[port].arrivedHead)
      portState[port].arrivedHead = 0
    }
  }

  /// One clock cycle: move data with the bandwidth available, the vector
  /// port's bursts first, then the weight ports' in turn; what moved arrives
  /// `latencyCycles` later.
  public func tick() {
    cycles += 1
    credit = min(credit + bytesPerCycle, bytesPerCycle + Double(max(burstBytes, portBeatBytes, vectorBeatBytes)))
    var moved = false
    while !portState[vectorPort].idle && credit >= Double(vectorBeatBytes) {
      credit -= Double(vectorBeatBytes)
      vectorBytes += vectorBeatBytes
      moveBeat(vectorPort)
      moved = true
    }
    if portState[vectorPort].idle {
      var idle = 0
      while credit >= Double(portBeatBytes) && idle < ports {
        let p = nextPort
        nextPort = (nextPort + 1) % ports
        guard !portState[p].idle else {
          idle += 1
          continue
        }
        idle = 0
        credit -= Double(portBeatBytes)
        weightBytes += portBeatBytes
        moveBeat(p)
        moved = true
      }
    }
    if moved { busyCycles += 1 }
  }

  /// Moves the next beat of `port`'s oldest moving burst; it arrives after the latency.
  private func moveBeat(_ port: Int) {
    var burst = portState[port].moving[portState[port].movingHead]
    let last = burst.moved + 1 == burst.beats
    portState[port].arrived.append((cycles + latencyCycles, burst.address + burst.moved * beatBytes(port: port), last))
    burst.moved += 1
    portState[port].moving[portState[port].movingHead] = burst
    if last {
      portState[port].movingHead += 1
      if portState[port].movingHead > 1024 {
        portState[port].moving.removeFirst(portState[port].movingHead)
        portState[port].movingHead = 0
      }
    }
  }
}
