import HWGolden
import HWSpec

/// The off-chip memory (DDR4 or HBM) of a device profile, cycle by cycle at the
/// accelerator's clock, serving two read ports:
///
/// - the weight port: one continuous stream of ternary core beats, every
///   matrix of the token in program order (the MATVECs' descriptor list),
///   token after token, read ahead as far as the on-chip weight FIFO has room
///   (its level comes from the RTL each cycle);
/// - the vector port: the accelerator's LOADV/EMBED requests for Q15.16
///   vectors (gammas, lower bounds, embedding rows), served first when both
///   want the memory, their data returned in order one beat a cycle.
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
  /// Weight beats the accelerator holds on chip (FIFO memory and output register).
  public let fifoCapacity: Int
  let lanes: Int
  let elementLanes: Int

  /// Counters: bytes moved per port (whole bursts), cycles simulated, cycles the memory moved data.
  public private(set) var weightBytes = 0
  public private(set) var vectorBytes = 0
  public private(set) var cycles = 0
  public private(set) var busyCycles = 0
  /// Non-zero weights in the beats handed to the accelerator.
  public private(set) var nonZeroWeights = 0

  // Weight stream: the token's matrices in order, `repetitions` times.
  private var matrices: [PackedTernary] = []
  private var matrixBeats: [Int] = []
  private var matrixNonZeros: [[Int]] = []
  private var tokenBeats = 0
  private var streamBeats = 0
  private var fetchedBeats = 0
  private var fetchedBytesOfNext = 0
  private var arrivals: [Int] = []
  private var arrivalHead = 0
  /// Beats that have arrived and wait for the accelerator to take them.
  public private(set) var arrivedBeats = 0
  public private(set) var consumedBeats = 0
  /// The next beat to hand over: matrix and beat within it.
  private var cursor = (matrix: 0, beat: 0)

  // Vector loads: bursts still to move, then whole requests waiting for
  // their latency, then the beats of the oldest being returned.
  private var image: [(address: Int, data: [Int32])] = []
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
    beatBytes = config.weightBeatBytes
    fifoCapacity = config.weightFIFOBeats + 1
    lanes = config.lanes
    elementLanes = config.elementLanes
  }

  /// Core beats of a matrix: row groups of `lanes` rows, 64 columns a beat.
  public func beats(of m: PackedTernary) -> Int { (m.rows + lanes - 1) / lanes * m.wordsPerRow }

  /// Bytes a vector request of `elements` Q15.16 values moves (whole bursts).
  public func vectorRequestBytes(elements: Int) -> Int { max(1, (4 * elements + burstBytes - 1) / burstBytes) * burstBytes }

  /// The vectors at their off-chip addresses (each `data` is the array the
  /// Swift side already holds; nothing is copied).
  public func load(vectors: [(address: Int, data: [Int32])]) {
    image = vectors.sorted { $0.address < $1.address }
  }

  /// Streams `matrices` (one token's, in MATVEC order) `repetitions` times.
  public func startStream(_ matrices: [PackedTernary], repetitions: Int) {
    precondition(consumedBeats == streamBeats, "a weight stream is still in flight")
    self.matrices = matrices
    matrixBeats = matrices.map(beats(of:))
    // Non-zero weights per beat, for the activity count.
    matrixNonZeros = matrices.map { m in
      let groups = (m.rows + lanes - 1) / lanes
      return (0..<groups * m.wordsPerRow).map { index in
        let (group, chunk) = index.quotientAndRemainder(dividingBy: m.wordsPerRow)
        var n = 0
        for r in 0..<lanes where group * lanes + r < m.rows {
          n += m.planes[2 * ((group * lanes + r) * m.wordsPerRow + chunk)].nonzeroBitCount
        }
        return n
      }
    }
    tokenBeats = matrixBeats.reduce(0, +)
    streamBeats = tokenBeats * repetitions
    fetchedBeats = 0
    fetchedBytesOfNext = 0
    arrivals.removeAll(keepingCapacity: true)
    arrivalHead = 0
    arrivedBeats = 0
    consumedBeats = 0
    cursor = (0, 0)
  }

  /// A LOADV/EMBED request from the accelerator.
  public func requestVector(address: Int, elements: Int) {
    vectorMoving.append((address, elements, vectorRequestBytes(elements: elements)))
  }

  /// Outstanding vector requests (moving, arriving or being returned).
  public var vectorRequestsInFlight: Int { vectorMoving.count + vectorArriving.count }

  /// One clock cycle: move bursts with the bandwidth available, vectors
  /// first, then weights while the on-chip FIFO (holding `fifoLevel` beats,
  /// counting beats in flight) has room; deliver what has arrived.
  public func tick(fifoLevel: Int) {
    cycles += 1
    credit = min(credit + bytesPerCycle, bytesPerCycle + Double(burstBytes))
    var moved = false
    while credit >= Double(burstBytes) {
      if !vectorMoving.isEmpty {
        credit -= Double(burstBytes)
        vectorBytes += burstBytes
        vectorMoving[0].bytes -= burstBytes
        moved = true
        if vectorMoving[0].bytes <= 0 {
          let done = vectorMoving.removeFirst()
          vectorArriving.append((done.address, done.elements, cycles + latencyCycles))
        }
        continue
      }
      let inFlight = arrivals.count - arrivalHead
      guard fetchedBeats < streamBeats, fifoLevel + arrivedBeats + inFlight < fifoCapacity else { break }
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
      arrivedBeats += 1
    }
    if arrivalHead > 4096 {
      arrivals.removeFirst(arrivalHead)
      arrivalHead = 0
    }
  }

  public var weightBeatAvailable: Bool { arrivedBeats > 0 }

  /// Writes the next weight beat into `words` (lane r's non-zero word at
  /// 64-bit word 2r, its negative word at 2r + 1; rows past the matrix zero)
  /// without taking it.
  public func peekWeightBeat(into words: UnsafeMutablePointer<UInt64>) {
    precondition(arrivedBeats > 0, "no weight beat has arrived")
    let m = matrices[cursor.matrix]
    let index = cursor.beat
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
  }

  /// The accelerator took the beat `peekWeightBeat` showed.
  public func takeWeightBeat() {
    precondition(arrivedBeats > 0)
    nonZeroWeights += matrixNonZeros[cursor.matrix][cursor.beat]
    arrivedBeats -= 1
    consumedBeats += 1
    cursor.beat += 1
    if cursor.beat == matrixBeats[cursor.matrix] {
      // The next matrix, or the next token's first.
      cursor = ((cursor.matrix + 1) % matrices.count, 0)
    }
  }

  /// Whether a beat of the oldest vector request has arrived.
  public var vectorBeatAvailable: Bool {
    guard let head = vectorArriving.first else { return false }
    return head.cycle <= cycles
  }

  /// Writes the oldest request's next beat (`elementLanes` words, zeros past
  /// its end) into `words` without taking it.
  public func peekVectorBeat(into words: UnsafeMutablePointer<UInt32>) {
    let head = vectorArriving[0]
    let (base, data) = segment(containing: head.address)
    let start = (head.address - base) / 4 + returnedElements
    for j in 0..<elementLanes {
      words[j] = returnedElements + j < head.elements ? UInt32(bitPattern: data[start + j]) : 0
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

  private func segment(containing address: Int) -> (Int, [Int32]) {
    var lo = 0, hi = image.count - 1
    while lo < hi {
      let mid = (lo + hi + 1) / 2
      if image[mid].address <= address { lo = mid } else { hi = mid - 1 }
    }
    precondition(!image.isEmpty && image[lo].address <= address, "no vector at address \(address)")
    return (image[lo].address, image[lo].data)
  }
}
