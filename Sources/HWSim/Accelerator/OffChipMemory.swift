import HWGolden
import HWSpec

/// The off-chip memory (DDR4 or HBM) of a device profile, cycle by cycle at the
/// accelerator's clock, serving two read ports:
///
/// - the weight port: one continuous stream of ternary core beats, every
///   matrix of the token in program order, read ahead into the on-chip weight
///   FIFO as far as it has room (`AcceleratorConfig.weightFIFOBeats`);
/// - the vector port: Q15.16 vectors (gammas, lower bounds, embedding rows),
///   served first when both want the memory.
///
/// Bandwidth: the profile's usable bandwidth (channels x peak x usable
/// fraction, the channels interleaved at burst granularity) in bytes per
/// cycle; a request moves whole bursts. Latency: every burst's data arrives
/// `latencyCycles` after the memory moved it. The weights are served straight
/// from the `PackedTernary` planes the Swift side built: with 64-weight core
/// lanes a lane's beat is one (non-zero, negative) word pair, gathered when
/// the beat is delivered; nothing is copied at load or per token.
public final class OffChipMemory {
  public let profile: DeviceProfile
  public let clockMHz: Double
  public let bytesPerCycle: Double
  public let latencyCycles: Int
  public let burstBytes: Int
  public let beatBytes: Int
  public let fifoBeats: Int
  let lanes: Int

  /// Counters: bytes moved per port (whole bursts) and cycles simulated.
  public private(set) var weightBytes = 0
  public private(set) var vectorBytes = 0
  public private(set) var cycles = 0
  /// Cycles in which the memory moved data.
  public private(set) var busyCycles = 0

  // Weight stream: the matrices of the token in order.
  private var matrices: [PackedTernary] = []
  private var matrixBeats: [Int] = []
  private var streamBeats = 0
  /// Beats whose bytes the memory has moved (in flight or in the FIFO).
  private var fetchedBeats = 0
  private var fetchedBytesOfNext = 0
  /// Arrival cycle of each fetched beat not yet arrived, in order.
  private var arrivals: [Int] = []
  private var arrivalHead = 0
  /// Beats that have arrived and wait in the FIFO.
  public private(set) var fifoCount = 0
  /// Beats the consumer has taken.
  public private(set) var consumedBeats = 0
  // Vector requests: bytes still to move, and the cycle each completes.
  private var vectorPending: [(id: Int, bytes: Int)] = []
  private var vectorDone: [Int: Int] = [:]
  private var nextVectorID = 0
  private var credit = 0.0

  public init(profile: DeviceProfile, clockMHz: Double, config: AcceleratorConfig) {
    self.profile = profile
    self.clockMHz = clockMHz
    bytesPerCycle = profile.memory.usableGBps * 1e9 / (clockMHz * 1e6)
    latencyCycles = Int((profile.memory.latencyNs * clockMHz / 1000).rounded(.up))
    burstBytes = profile.memory.burstBytes
    beatBytes = config.weightBeatBytes
    fifoBeats = config.weightFIFOBeats
    lanes = config.lanes
  }

  /// Core beats of a matrix: row groups of `lanes` rows, 64 columns a beat.
  public func beats(of m: PackedTernary) -> Int { (m.rows + lanes - 1) / lanes * m.wordsPerRow }

  /// Starts a new token's weight stream (the previous one must be consumed).
  public func startStream(_ matrices: [PackedTernary]) {
    precondition(consumedBeats == streamBeats, "a weight stream is still in flight")
    self.matrices = matrices
    matrixBeats = matrices.map(beats(of:))
    streamBeats = matrixBeats.reduce(0, +)
    fetchedBeats = 0
    fetchedBytesOfNext = 0
    arrivals.removeAll(keepingCapacity: true)
    arrivalHead = 0
    fifoCount = 0
    consumedBeats = 0
  }

  /// Requests a vector of `bytes`; returns an id for `arrived(_:)`.
  public func requestVector(bytes: Int) -> Int {
    let id = nextVectorID
    nextVectorID += 1
    let rounded = max(1, (bytes + burstBytes - 1) / burstBytes) * burstBytes
    vectorPending.append((id, rounded))
    return id
  }

  /// Whether vector request `id` has fully arrived (and forgets it if so).
  public func arrived(_ id: Int) -> Bool {
    guard let done = vectorDone[id], done <= cycles else { return false }
    vectorDone[id] = nil
    return true
  }

  /// One clock cycle of the memory: move bursts with the bandwidth available,
  /// vectors first, then weights while the FIFO (counting beats in flight)
  /// has room; deliver what has arrived.
  public func tick() {
    cycles += 1
    credit = min(credit + bytesPerCycle, bytesPerCycle + Double(burstBytes))
    var moved = false
    while credit >= Double(burstBytes) {
      if !vectorPending.isEmpty {
        credit -= Double(burstBytes)
        vectorBytes += burstBytes
        vectorPending[0].bytes -= burstBytes
        moved = true
        if vectorPending[0].bytes <= 0 {
          vectorDone[vectorPending[0].id] = cycles + latencyCycles
          vectorPending.removeFirst()
        }
        continue
      }
      let inFlight = arrivals.count - arrivalHead
      guard fetchedBeats < streamBeats, fifoCount + inFlight < fifoBeats else { break }
      credit -= Double(burstBytes)
      weightBytes += burstBytes
      moved = true
      fetchedBytesOfNext += burstBytes
      if fetchedBytesOfNext >= beatBytes {
        fetchedBytesOfNext -= beatBytes
        fetchedBeats += 1
        arrivals.append(cycles + latencyCycles)
      }
    }
    if moved { busyCycles += 1 }
    while arrivalHead < arrivals.count && arrivals[arrivalHead] <= cycles {
      arrivalHead += 1
      fifoCount += 1
    }
    if arrivalHead > 4096 {
      arrivals.removeFirst(arrivalHead)
      arrivalHead = 0
    }
  }

  /// Runs the memory for `n` cycles (while the element-wise units work).
  public func advance(_ n: Int) {
    for _ in 0..<n { tick() }
  }

  public var weightBeatAvailable: Bool { fifoCount > 0 }

  /// Writes the next weight beat into `words` (lane r's non-zero word at
  /// 64-bit word 2r, its negative word at 2r + 1; rows past the matrix zero)
  /// and takes it from the FIFO. Returns whether it ends a row group.
  public func popWeightBeat(into words: UnsafeMutablePointer<UInt64>) -> Bool {
    precondition(fifoCount > 0, "no weight beat has arrived")
    var index = consumedBeats
    var k = 0
    while index >= matrixBeats[k] {
      index -= matrixBeats[k]
      k += 1
    }
    let m = matrices[k]
    let (group, chunk) = index.quotientAndRemainder(dividingBy: m.wordsPerRow)
    m.planes.withUnsafeBufferPointer { planes in
      for r in 0..<lanes {
        let row = group * lanes + r
        if row < m.rows {
          let base = 2 * (row * m.wordsPerRow + chunk)
          words[2 * r] = planes[base]
          words[2 * r + 1] = planes[base + 1]
        } else {
          words[2 * r] = 0
          words[2 * r + 1] = 0
        }
      }
    }
    fifoCount -= 1
    consumedBeats += 1
    return chunk == m.wordsPerRow - 1
  }
}
