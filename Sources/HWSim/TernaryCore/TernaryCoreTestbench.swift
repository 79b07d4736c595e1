import HWGolden
import HWSpec
import HWSupport
import HWVerilator

/// One mat-vec for the core: a ternary matrix and the int8 vector it multiplies.
public struct TernaryCoreJob: Sendable {
  public let matrix: TernaryMatrix
  public let activations: [Int8]
  public init(matrix: TernaryMatrix, activations: [Int8]) {
    precondition(activations.count == matrix.cols, "activation length must equal matrix columns")
    self.matrix = matrix
    self.activations = activations
  }
}

/// How often each stream is idle: the probability that the weight or the
/// activation source presents a beat in a cycle where it may, and that the
/// result sink accepts one. 1.0 everywhere streams at full rate.
public struct StreamStalls: Hashable, Sendable, CustomStringConvertible {
  public var weightValid: Double
  public var activationValid: Double
  public var resultReady: Double

  public init(weightValid: Double = 1, activationValid: Double = 1, resultReady: Double = 1) {
    self.weightValid = weightValid
    self.activationValid = activationValid
    self.resultReady = resultReady
  }

  public static let none = StreamStalls()
  public static let heavy = StreamStalls(weightValid: 0.6, activationValid: 0.7, resultReady: 0.5)

  public var description: String {
    self == .none ? "no stalls" : "stalls (w valid \(weightValid), a valid \(activationValid), res ready \(resultReady))"
  }
}

/// The three streams of a list of jobs, packed once, ready to drive.
public struct TernaryCoreStreams: Sendable {
  public let weightBeats: [UInt32]
  /// The activation beats, repeated once per row group.
  public let activationBeats: [UInt32]
  public let lastFlags: [Bool]
  public let groupsPerJob: [Int]
  public let rowsPerJob: [Int]
  /// Ternary weights in the jobs, padding excluded.
  public let weights: Int

  public init(_ jobs: [TernaryCoreJob], layout: TernaryCoreLayout) {
    var weightBeats: [UInt32] = []
    var activationBeats: [UInt32] = []
    var lastFlags: [Bool] = []
    var groupsPerJob: [Int] = []
    for job in jobs {
      let groups = layout.rowGroups(rows: job.matrix.rows)
      let chunks = layout.beatsPerGroup(cols: job.matrix.cols)
      weightBeats += layout.weightBeats(job.matrix)
      let acts = layout.activationBeats(job.activations)
      for _ in 0..<groups {
        activationBeats += acts
        lastFlags += (0..<chunks).map { $0 == chunks - 1 }
      }
      groupsPerJob.append(groups)
    }
    self.weightBeats = weightBeats
    self.activationBeats = activationBeats
    self.lastFlags = lastFlags
    self.groupsPerJob = groupsPerJob
    rowsPerJob = jobs.map(\.matrix.rows)
    weights = jobs.reduce(0) { $0 + $1.matrix.rows * $1.matrix.cols }
  }
}

/// What the core produced for a run, and how long it took in clock cycles.
public struct TernaryCoreRun: Sendable {
  /// One output vector per job (rows of padding dropped).
  public var outputs: [[Int64]]
  public var cycles: Int
  public var beats: Int

  public init(outputs: [[Int64]], cycles: Int, beats: Int) {
    self.outputs = outputs
    self.cycles = cycles
    self.beats = beats
  }
}

public struct TestbenchError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// Drives the Verilated ternary core through its three valid/ready streams.
///
/// Sources obey the valid/ready rule (a presented beat stays until taken);
/// the bench checks the core's side of it: a weight and an activation beat
/// are only ever taken together, and results arrive in order.
public final class TernaryCoreTestbench {
  public let config: TernaryCoreConfig
  public let layout: TernaryCoreLayout
  let model: VerilatedModel
  let rstN, wValid, wReady, wData, wLast, aValid, aReady, aData, resValid, resReady, resData: PortHandle

  public init(config: TernaryCoreConfig, model: VerilatedModel) throws {
    self.config = config
    self.layout = TernaryCoreLayout(config)
    self.model = model
    rstN = try model.port("rst_ni")
    wValid = try model.port("w_valid_i")
    wReady = try model.port("w_ready_o")
    wData = try model.port("w_data_i")
    wLast = try model.port("w_last_i")
    aValid = try model.port("a_valid_i")
    aReady = try model.port("a_ready_o")
    aData = try model.port("a_data_i")
    resValid = try model.port("res_valid_o")
    resReady = try model.port("res_ready_i")
    resData = try model.port("res_data_o")
  }

  /// Holds reset for two cycles with every stream idle, then releases it.
  public func reset() throws {
    try model.applyReset(rstN, idle: [wValid, aValid, resReady])
  }

  /// Streams `jobs` back to back and collects every result.
  ///
  /// - Parameter abortAfterBeats: stop after this many beats have been taken
  ///   (to test reset in the middle of a vector); the run then reports what
  ///   had arrived.
  public func run(
    _ jobs: [TernaryCoreJob], stalls: StreamStalls = .none, seed: UInt64 = 1, abortAfterBeats: Int? = nil
  ) throws -> TernaryCoreRun {
    try run(TernaryCoreStreams(jobs, layout: layout), stalls: stalls, seed: seed, abortAfterBeats: abortAfterBeats)
  }

  /// Streams prepared beats; only this part is simulation, so benchmarks time it alone.
  public func run(
    _ streams: TernaryCoreStreams, stalls: StreamStalls = .none, seed: UInt64 = 1, abortAfterBeats: Int? = nil
  ) throws -> TernaryCoreRun {
    let wWords = layout.weightWordsPerBeat
    let aWords = layout.activationWordsPerBeat
    let weightBeats = streams.weightBeats
    let activationBeats = streams.activationBeats
    let lastFlags = streams.lastFlags
    let groupsPerJob = streams.groupsPerJob
    let totalBeats = lastFlags.count
    let totalResults = groupsPerJob.reduce(0, +)
    var rng = SeededRandom(seed: seed)

    var results: [[Int64]] = []
    results.reserveCapacity(totalResults)
    var resultWords = [UInt32](repeating: 0, count: layout.resultWordsPerBeat)
    var wIndex = 0, aIndex = 0
    var wPresent = false, aPresent = false
    var wShown = -1, aShown = -1
    var cycles = 0
    let stopAt = abortAfterBeats ?? Int.max
    // Generous: a correct core needs about one cycle per beat plus drain.
    let cycleLimit = 64 + totalBeats * 40 + totalResults * 40

    try weightBeats.withUnsafeBufferPointer { wBuf in
      try activationBeats.withUnsafeBufferPointer { aBuf in
        while results.count < totalResults && min(wIndex, aIndex) < stopAt {
          if !wPresent && wIndex < totalBeats { wPresent = rng.chance(stalls.weightValid) }
          if !aPresent && aIndex < totalBeats { aPresent = rng.chance(stalls.activationValid) }
          if wPresent && wShown != wIndex {
            model.set(wData, words: wBuf.baseAddress! + wIndex * wWords)
            model.set(wLast, lastFlags[wIndex] ? 1 : 0)
            wShown = wIndex
          }
          if aPresent && aShown != aIndex {
            model.set(aData, words: aBuf.baseAddress! + aIndex * aWords)
            aShown = aIndex
          }
          let sinkReady = rng.chance(stalls.resultReady)
          model.set(wValid, wPresent ? 1 : 0)
          model.set(aValid, aPresent ? 1 : 0)
          model.set(resReady, sinkReady ? 1 : 0)
          try model.eval()
          let wFire = wPresent && model.get(wReady) == 1
          let aFire = aPresent && model.get(aReady) == 1
          if wFire != aFire {
            throw TestbenchError("cycle \(cycles): core took a \(wFire ? "weight" : "activation") beat without its partner")
          }
          if sinkReady && model.get(resValid) == 1 {
            resultWords.withUnsafeMutableBufferPointer { model.get(resData, into: $0.baseAddress!) }
            results.append(resultWords.withUnsafeBufferPointer { layout.decodeResult($0) })
          }
          try model.step(1)
          cycles += 1
          if wFire {
            wIndex += 1
            wPresent = false
          }
          if aFire {
            aIndex += 1
            aPresent = false
          }
          if cycles > cycleLimit {
            throw TestbenchError("no progress: \(results.count) of \(totalResults) results after \(cycles) cycles (\(wIndex) of \(totalBeats) beats taken)")
          }
        }
      }
    }
    model.set(wValid, 0)
    model.set(aValid, 0)
    try model.eval()

    // Regroup lane results into one vector per job, dropping padded rows.
    var outputs: [[Int64]] = []
    var next = 0
    for (rows, groups) in zip(streams.rowsPerJob, groupsPerJob) {
      var vector: [Int64] = []
      for _ in 0..<groups where next < results.count {
        vector += results[next]
        next += 1
      }
      outputs.append(Array(vector.prefix(rows)))
    }
    return TernaryCoreRun(outputs: outputs, cycles: cycles, beats: min(wIndex, aIndex))
  }
}

/// Compares a run with the golden model, element by element.
public enum TernaryCoreCheck {
  public struct Mismatch: Error, CustomStringConvertible {
    public let description: String
  }

  /// Returns the golden outputs, or throws the first differing element.
  @discardableResult
  public static func compare(_ run: TernaryCoreRun, _ jobs: [TernaryCoreJob], config: TernaryCoreConfig, seed: UInt64) throws -> [[Int64]] {
    try compare(run, jobs, config: config, seed: seed, outputs: run.outputs)
  }

  @discardableResult
  public static func compare(
    _ run: TernaryCoreRun, _ jobs: [TernaryCoreJob], config: TernaryCoreConfig, seed: UInt64, outputs: [[Int64]]
  ) throws -> [[Int64]] {
    guard outputs.count == jobs.count else {
      throw Mismatch(description: "seed \(seed), \(config): \(outputs.count) output vectors for \(jobs.count) jobs")
    }
    var expected: [[Int64]] = []
    for (j, job) in jobs.enumerated() {
      let golden = try TernaryMatVec.multiply(job.matrix, job.activations, accumulatorWidth: config.accumulatorWidth)
      expected.append(golden)
      let got = outputs[j]
      guard got.count == golden.count else {
        throw Mismatch(description: "seed \(seed), \(config): job \(j) returned \(got.count) of \(golden.count) rows")
      }
      if let row = golden.indices.first(where: { golden[$0] != got[$0] }) {
        throw Mismatch(description:
          "seed \(seed), \(config): job \(j) (\(job.matrix.rows)x\(job.matrix.cols)) row \(row): RTL \(got[row]), golden \(golden[row])")
      }
    }
    return expected
  }
}
