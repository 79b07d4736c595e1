import Foundation
import HWDSL
import HWGenerators
import HWSpec
import HWSupport
import HWVerilator

/// One output vector for the rescale unit: accumulators and the vector's scale.
public struct RescaleJob: Sendable {
  public let accumulators: [Int64]
  public let scale: Scale

  public init(accumulators: [Int64], scale: Scale) {
    precondition(!accumulators.isEmpty)
    self.accumulators = accumulators
    self.scale = scale
  }

  /// The golden result: `Scale.apply` of every accumulator.
  public var expected: [Int32] { accumulators.map { scale.apply($0) } }
}

/// A rescale configuration, generated, verilated (or cached) and loaded, out of reset.
public struct RescaleUnitSimulation {
  public let design: Design
  public let library: BuiltLibrary
  public let model: VerilatedModel
  public let bench: RescaleUnitTestbench

  public init(config: NormUnitConfig, cache: VerilatorBuildCache = VerilatorBuildCache(), options: VerilatorOptions = VerilatorOptions()) throws {
    design = try RescaleUnitGenerator.generate(config)
    let sources = try RescaleUnitGenerator.sources(config)
    library = try cache.library(for: VerilatorBuildSpec(design: design, sources: sources, options: options))
    model = try VerilatedModel(library: library)
    bench = try RescaleUnitTestbench(config: config, model: model)
    try bench.reset()
  }
}

/// Drives the Verilated `rescale_unit`: accumulator beats with their scale in,
/// Q15.16 beats out, both valid/ready. Checks `y_last_o` against the input's
/// framing and returns one vector per job (padding dropped).
public final class RescaleUnitTestbench {
  public let config: NormUnitConfig
  let model: VerilatedModel
  let rstN, accValid, accReady, accData, accLast, scaleMantissa, scaleExponent, yValid, yReady, yData, yLast: PortHandle

  public init(config: NormUnitConfig, model: VerilatedModel) throws {
    self.config = config
    self.model = model
    rstN = try model.port("rst_ni")
    accValid = try model.port("acc_valid_i")
    accReady = try model.port("acc_ready_o")
    accData = try model.port("acc_data_i")
    accLast = try model.port("acc_last_i")
    scaleMantissa = try model.port("scale_mantissa_i")
    scaleExponent = try model.port("scale_exponent_i")
    yValid = try model.port("y_valid_o")
    yReady = try model.port("y_ready_i")
    yData = try model.port("y_data_o")
    yLast = try model.port("y_last_o")
  }

  public func reset() throws {
    try model.applyReset(rstN, idle: [accValid, yReady])
  }

  /// Packs `values` (each `width` bits, two's complement) lane 0 lowest.
  static func pack(_ values: [Int64], width: Int, lanes: Int) -> [UInt32] {
    var words = [UInt32](repeating: 0, count: (lanes * width + 31) / 32)
    for (i, v) in values.enumerated() {
      let bits = UInt64(bitPattern: v) & ((1 << UInt64(width)) - 1)
      for b in 0..<width where (bits >> UInt64(b)) & 1 == 1 {
        let position = i * width + b
        words[position / 32] |= 1 << UInt32(position % 32)
      }
    }
    return words
  }

  /// Streams `jobs` back to back; `inputValid` and `outputReady` are the
  /// probabilities that the source presents a beat and the sink takes one.
  public func run(
    _ jobs: [RescaleJob], inputValid: Double = 1, outputReady: Double = 1, seed: UInt64 = 1, abortAfterCycles: Int? = nil
  ) throws -> (outputs: [[Int32]], cycles: Int) {
    let lanes = config.lanes
    var beats: [(words: [UInt32], job: Int, last: Bool)] = []
    for (j, job) in jobs.enumerated() {
      let count = config.beats(length: job.accumulators.count)
      for b in 0..<count {
        let slice = Array(job.accumulators[(b * lanes)..<min(job.accumulators.count, (b + 1) * lanes)])
        beats.append((Self.pack(slice, width: config.accumulatorWidth, lanes: lanes), j, b == count - 1))
      }
    }
    var rng = SeededRandom(seed: seed)
    var outputs: [[Int32]] = []
    var current: [Int32] = []
    var index = 0
    var present = false
    var cycles = 0
    let stopAt = abortAfterCycles ?? Int.max
    let cycleLimit = 100 + beats.count * 20
    while outputs.count < jobs.count && cycles < stopAt {
      if !present && index < beats.count { present = rng.chance(inputValid) }
      if present {
        let beat = beats[index]
        model.set(accData, words: beat.words)
        model.set(accLast, beat.last ? 1 : 0)
        model.set(scaleMantissa, UInt64(jobs[beat.job].scale.mantissa))
        model.set(scaleExponent, UInt64(bitPattern: Int64(jobs[beat.job].scale.exponent)))
      }
      let sinkReady = rng.chance(outputReady)
      model.set(accValid, present ? 1 : 0)
      model.set(yReady, sinkReady ? 1 : 0)
      try model.eval()
      let fire = present && model.get(accReady) == 1
      if sinkReady && model.get(yValid) == 1 {
        let j = outputs.count
        guard j < jobs.count else { throw NormBenchError("cycle \(cycles): a result beat after the last vector") }
        let n = jobs[j].accumulators.count
        let words = model.getWords(yData)
        let take = min(lanes, n - current.count)
        current += (0..<take).map { Int32(bitPattern: words[$0]) }
        let last = model.get(yLast) == 1
        if last != (current.count == n) {
          throw NormBenchError("cycle \(cycles): vector \(j) has y_last \(last) after \(current.count) of \(n) elements")
        }
        if last {
          outputs.append(current)
          current = []
        }
      }
      try model.step(1)
      cycles += 1
      if fire {
        index += 1
        present = false
      }
      if cycles > cycleLimit {
        throw NormBenchError("no progress: \(outputs.count) of \(jobs.count) vectors after \(cycles) cycles")
      }
    }
    model.set(accValid, 0)
    model.set(yReady, 0)
    try model.eval()
    return (outputs, cycles)
  }
}
