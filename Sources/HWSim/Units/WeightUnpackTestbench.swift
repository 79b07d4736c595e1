import HWDSL
import HWGenerators
import HWSpec
import HWSupport
import HWVerilator

/// One matrix for the unpacker: its memory beats of base-3 bytes and the core beats they
/// must become. Any bytes past the matrix's last weight are padding the unpacker drops.
public struct WeightUnpackJob: Sendable {
  public let memoryBeats: [[UInt8]]
  /// Core beats as the core takes them: lane r's non-zero plane at bits `128r ..< 128r+64`,
  /// its negative plane above, 32-bit words least significant first.
  public let coreBeats: [[UInt32]]

  /// `coreBeats` core beats read from `bytes` (a valid code each, as many as the memory
  /// beats they fill; the bytes after the matrix's weights are padding).
  public init(config: WeightUnpackConfig, coreBeats count: Int, bytes: (Int) -> UInt8) {
    let memory = (count * config.outTrits + config.inTrits - 1) / config.inTrits
    memoryBeats = (0..<memory).map { k in (0..<config.inBytes).map { bytes(k * config.inBytes + $0) } }
    var trits: [(nonZero: Bool, negative: Bool)] = []
    trits.reserveCapacity(memory * config.inTrits)
    for beat in memoryBeats {
      for byte in beat {
        let planes = TritPacking.planes(byte)
        for i in 0..<TritPacking.tritsPerByte {
          trits.append((planes.nonZero >> UInt8(i) & 1 == 1, planes.negative >> UInt8(i) & 1 == 1))
        }
      }
    }
    coreBeats = (0..<count).map { n in
      var words = [UInt32](repeating: 0, count: 2 * config.outTrits / 32)
      for t in 0..<config.outTrits {
        let (nonZero, negative) = trits[n * config.outTrits + t]
        let lane = t / 64, column = t % 64
        for (bit, set) in [(128 * lane + column, nonZero), (128 * lane + 64 + column, negative)] where set {
          words[bit / 32] |= 1 << UInt32(bit % 32)
        }
      }
      return words
    }
  }
}

/// `weight_unpack` alone, generated, verilated (or cached) and out of reset.
public struct WeightUnpackSimulation {
  public let bench: WeightUnpackTestbench

  public init(config: WeightUnpackConfig, cache: VerilatorBuildCache = VerilatorBuildCache()) throws {
    let design = try WeightUnpackGenerator.generate(config)
    let sources = try WeightUnpackGenerator.sources(config)
    let library = try cache.library(for: VerilatorBuildSpec(design: design, sources: sources, options: VerilatorOptions()))
    bench = try WeightUnpackTestbench(config: config, model: try VerilatedModel(library: library))
    try bench.reset()
  }
}

/// Drives the Verilated `weight_unpack` as the accelerator does: memory beats in (the last
/// of a matrix flagged), core beats out, `flush_i` with each matrix's last core beat taken,
/// and `hold_i` now and then. Returns every core beat taken, matrix by matrix.
public final class WeightUnpackTestbench {
  public let config: WeightUnpackConfig
  let model: VerilatedModel
  let rstN, hold, inValid, inReady, inData, inLast, outValid, outReady, outData, flush: PortHandle

  public init(config: WeightUnpackConfig, model: VerilatedModel) throws {
    self.config = config
    self.model = model
    rstN = try model.port("rst_ni")
    hold = try model.port("hold_i")
    inValid = try model.port("in_valid_i")
    inReady = try model.port("in_ready_o")
    inData = try model.port("in_data_i")
    inLast = try model.port("in_last_i")
    outValid = try model.port("out_valid_o")
    outReady = try model.port("out_ready_i")
    outData = try model.port("out_data_o")
    flush = try model.port("flush_i")
  }

  public func reset() throws {
    try model.applyReset(rstN, idle: [inValid, outReady, hold, flush])
  }

  /// Streams `jobs` back to back; `inputValid`, `outputReady` and `holding` are the chances
  /// that the source offers a beat, the sink takes one, and a checkpoint holds the input.
  public func run(
    _ jobs: [WeightUnpackJob], inputValid: Double = 1, outputReady: Double = 1, holding: Double = 0, seed: UInt64 = 1
  ) throws -> (beats: [[[UInt32]]], cycles: Int) {
    // Every memory beat as the port's 32-bit words, with its matrix's last-beat flag.
    let beats = jobs.flatMap { job in
      job.memoryBeats.enumerated().map { i, bytes in
        (words: stride(from: 0, to: bytes.count, by: 4).map { b in
          (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[b + $1]) << UInt32(8 * $1) }
        }, last: i == job.memoryBeats.count - 1)
      }
    }
    var rng = SeededRandom(seed: seed)
    var taken: [[[UInt32]]] = []
    var current: [[UInt32]] = []
    var next = 0
    var present = false
    var cycles = 0
    let cycleLimit = 100 + 20 * (beats.count + jobs.reduce(0) { $0 + $1.coreBeats.count })
    while taken.count < jobs.count {
      let job = jobs[taken.count]
      if !present && next < beats.count { present = rng.chance(inputValid) }
      if present {
        model.set(inData, words: beats[next].words)
        model.set(inLast, beats[next].last ? 1 : 0)
      }
      // The core takes its matrix's beats and no more; the last one flushes the padding.
      let sinkReady = rng.chance(outputReady)
      model.set(inValid, present ? 1 : 0)
      model.set(hold, rng.chance(holding) ? 1 : 0)
      model.set(outReady, sinkReady ? 1 : 0)
      model.set(flush, 0)
      try model.eval()
      let fire = present && model.get(inReady) == 1
      if sinkReady && model.get(outValid) == 1 {
        current.append(model.getWords(outData))
        if current.count == job.coreBeats.count {
          model.set(flush, 1)
          try model.eval()
          taken.append(current)
          current = []
        }
      }
      try model.step(1)
      cycles += 1
      if fire {
        next += 1
        present = false
      }
      if cycles > cycleLimit {
        throw TestbenchError("weight_unpack: no progress after \(cycles) cycles (matrix \(taken.count), \(current.count) core beats)")
      }
    }
    model.set(inValid, 0)
    model.set(outReady, 0)
    model.set(flush, 0)
    try model.eval()
    return (taken, cycles)
  }
}
