import HWGolden
import HWSpec

/// The off-chip memory (DDR4 or HBM) of a device profile, cycle by cycle at the
/// accelerator's clock, answering two kinds of reads:
///
/// - AXI4 read bursts on the accelerator's memory ports: its weight DMA
///   reads every MATVEC's matrix, each port its slice of every weight beat
///   (`AcceleratorConfig.memoryPorts`). `acceptBurst` takes an AR handshake;
///   each port returns its bursts in order, at most one R beat a cycle;
/// - the vector port: the accelerator's LOADV/EMBED requests for Q15.16
///   vectors (gammas, lower bounds, embedding rows), served first when both
///   want the memory, their data returned in order one beat a cycle.
///
/// Bandwidth: the profile's usable bandwidth (channels x peak x usable
/// fraction, the channels interleaved at burst granularity) in bytes per
/// cycle, shared by the ports and the vector loads; a vector request moves
/// whole bursts, a port's read moves its beats, the ports taking turns.
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
  /// Bytes of one AXI beat on a memory port.
  public let portBeatBytes: Int
  public let ports: Int
  /// Bursts a port may have accepted and not yet answered.
  public let maxOutstanding = 16
  let lanes: Int
  let elementLanes: Int
  /// Core lanes in one port's slice of a weight beat.
  let lanesPerPort: Int

  /// Counters: bytes moved per kind (whole bursts for vectors, beats for
  /// weights), cycles simulated, cycles the memory moved data.
  public private(set) var weightBytes = 0
  public private(set) var vectorBytes = 0
  public private(set) var cycles = 0
  public private(set) var busyCycles = 0
  /// Non-zero weights in the beats returned on the ports.
  public private(set) var nonZeroWeights = 0

  /// Each port's bytes from address 0.
  private var portBytes: [[UInt8]] = []

  /// A port's bursts: accepted and moving, then beats that have arrived.
  private struct Port {
    var moving: [(address: Int, beats: Int, moved: Int)] = []
    var movingHead = 0
    var arrived: [(cycle: Int, address: Int, last: Bool)] = []
    var arrivedHead = 0
    /// Bursts accepted and not wholly returned.
    var outstanding = 0
  }
  private var portState: [Port]
  private var nextPort = 0

  // Vector loads: bursts still to move, then whole requests waiting for
  // their latency, then the beats of the oldest being returned.
  private var vectorMoving: [(address: Int, elements: Int, bytes: Int)] = []
  private var vectorArriving: [(address: Int, elements: Int, cycle: Int)] = []
  private var returnedElements = 0
  private var credit = 0.0

  public init(profile: DeviceProfile, clockMHz: Double, config: AcceleratorConfig) {
    self.profile = profile
    self.clockMHz = clockMHz
    bytesPerCycle = profile.memory.usableGBps * 1e9 / (clockMHz * 1e6)
    latencyCycles = Int((profile.memory.latencyNs * clockMHz / 1000).rounded(.up))
    burstBytes = profile.memory.burstBytes
    portBeatBytes = config.memoryDataBytes
    ports = config.memoryPorts
    lanes = config.lanes
    lanesPerPort = config.lanes / config.memoryPorts
    elementLanes = config.elementLanes
    portState = Array(repeating: Port(), count: config.memoryPorts)
  }

  /// Core beats of a matrix: row groups of `lanes` rows, 64 columns a beat.
  public func beats(of m: PackedTernary) -> Int { (m.rows + lanes - 1) / lanes * m.wordsPerRow }

  /// Bytes a vector request of `elements` Q15.16 values moves (whole bursts).
  public func vectorRequestBytes(elements: Int) -> Int { max(1, (4 * elements + burstBytes - 1) / burstBytes) * burstBytes }

  /// The memory's contents: each port's bytes from address 0 (vectors in port 0).
  public func load(ports: [[UInt8]]) {
    precondition(ports.count == self.ports, "\(ports.count) port images for \(self.ports) ports")
    portBytes = ports
  }

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

  /// Writes `port`'s beat at `address` (for a matrix: its slice of a weight
  /// beat, a (non-zero, negative) word pair a lane) into `words`; false when
  /// the address is past the port's memory.
  public func readBeat(port: Int, address: Int, into words: UnsafeMutablePointer<UInt64>) -> Bool {
    guard address >= 0, address + portBeatBytes <= portBytes[port].count else { return false }
    portBytes[port].withUnsafeBytes { bytes in
      for w in 0..<portBeatBytes / 8 {
        words[w] = UInt64(littleEndian: bytes.load(fromByteOffset: address + 8 * w, as: UInt64.self))
      }
    }
    return true
  }

  /// The accelerator took `port`'s next beat (RVALID and RREADY), whose data
  /// `words` held.
  public func takeBeat(port: Int, words: UnsafePointer<UInt64>) {
    for r in 0..<lanesPerPort { nonZeroWeights += words[2 * r].nonzeroBitCount }
    let last = portState[port].arrived[portState[port].arrivedHead].last
    portState[port].arrivedHead += 1
    if last { portState[port].outstanding -= 1 }
    if portState[port].arrivedHead > 4096 {
      portState[port].arrived.removeFirst(portState[port].arrivedHead)
      portState[port].arrivedHead = 0
    }
  }

  /// A LOADV/EMBED request from the accelerator.
  public func requestVector(address: Int, elements: Int) {
    vectorMoving.append((address, elements, vectorRequestBytes(elements: elements)))
  }

  /// Outstanding vector requests (moving, arriving or being returned).
  public var vectorRequestsInFlight: Int { vectorMoving.count + vectorArriving.count }

  /// One clock cycle: move data with the bandwidth available, vector
  /// bursts first, then the ports' burst beats in turn; what moved arrives
  /// `latencyCycles` later.
  public func tick() {
    cycles += 1
    let quantum = max(burstBytes, portBeatBytes)
    credit = min(credit + bytesPerCycle, bytesPerCycle + Double(quantum))
    var moved = false
    while !vectorMoving.isEmpty && credit >= Double(burstBytes) {
      credit -= Double(burstBytes)
      vectorBytes += burstBytes
      vectorMoving[0].bytes -= burstBytes
      moved = true
      if vectorMoving[0].bytes <= 0 {
        let done = vectorMoving.removeFirst()
        vectorArriving.append((done.address, done.elements, cycles + latencyCycles))
      }
    }
    if vectorMoving.isEmpty {
      var idle = 0
      while credit >= Double(portBeatBytes) && idle < ports {
        let p = nextPort
        nextPort = (nextPort + 1) % ports
        guard portState[p].movingHead < portState[p].moving.count else {
          idle += 1
          continue
        }
        idle = 0
        credit -= Double(portBeatBytes)
        weightBytes += portBeatBytes
        moved = true
        var burst = portState[p].moving[portState[p].movingHead]
        let last = burst.moved + 1 == burst.beats
        portState[p].arrived.append((cycles + latencyCycles, burst.address + burst.moved * portBeatBytes, last))
        burst.moved += 1
        portState[p].moving[portState[p].movingHead] = burst
        if last {
          portState[p].movingHead += 1
          if portState[p].movingHead > 1024 {
            portState[p].moving.removeFirst(portState[p].movingHead)
            portState[p].movingHead = 0
          }
        }
      }
    }
    if moved { busyCycles += 1 }
  }

  /// Whether a beat of the oldest vector request has arrived.
  public var vectorBeatAvailable: Bool {
    guard let head = vectorArriving.first else { return false }
    return head.cycle <= cycles
  }

  /// Writes the oldest request's next beat (`elementLanes` words, zeros past
  /// its end) from port 0 into `words` without taking it.
  public func peekVectorBeat(into words: UnsafeMutablePointer<UInt32>) {
    let head = vectorArriving[0]
    portBytes[0].withUnsafeBytes { bytes in
      for j in 0..<elementLanes {
        let element = returnedElements + j
        let at = head.address + 4 * element
        words[j] = element < head.elements && at + 4 <= bytes.count
          ? UInt32(littleEndian: bytes.load(fromByteOffset: at, as: UInt32.self)) : 0
      }
    }
  }

  /// The accelerator took the beat `peekVectorBeat` showed.
  public func takeVectorBeat() {
    returnedElements += elementLanes
    if returnedElements >= vectorArriving[0].elements {
      vectorArriving.removeFirst()
      returnedElements = 0
    }
  }
}
