import Foundation
import HWDSL
import HWGenerators
import HWSpec
import HWSupport
import HWVerilator

// MARK: Workload

/// What the RMSNorm unit does with a vector (`mode_i`).
public enum NormMode: Int, Hashable, Sendable, CustomStringConvertible {
  /// `Norms.rmsNorm`: Q15.16 outputs on `y_data_o`.
  case norm = 0
  /// `Norms.quantize`: int8 outputs on `q_data_o` and the output scale.
  case quantize = 1
  public var description: String { self == .norm ? "norm" : "quantize" }
}

/// One vector for the norm unit: x, gamma and the per-vector scalars.
public struct NormJob: Sendable {
  public let mode: NormMode
  public let x: [Int32]
  public let gamma: [Int32]
  /// The weights' beta (quantize mode; ignored by norm mode).
  public let beta: Scale
  public let constants: Norms.LengthConstants

  public init(mode: NormMode, x: [Int32], gamma: [Int32], beta: Scale = Scale(integer: 1)) {
    precondition(!x.isEmpty && x.count == gamma.count, "x and gamma must have the same, non-zero length")
    self.mode = mode
    self.x = x
    self.gamma = gamma
    self.beta = beta
    constants = Norms.LengthConstants(length: x.count)
  }

  public var length: Int { x.count }

  /// The golden result: `Norms.rmsNorm` or `Norms.quantize`.
  public var expected: NormResult {
    switch mode {
    case .norm:
      return NormResult(values: Norms.rmsNorm(x, gamma: gamma, constants), scale: .zero)
    case .quantize:
      let q = Norms.quantize(x, gamma: gamma, beta: beta, constants)
      return NormResult(values: q.activations.map(Int32.init), scale: q.outputScale)
    }
  }
}

/// A vector's result: Q15.16 values (norm) or int8 values widened (quantize),
/// and the output scale (quantize; zero in norm mode).
public struct NormResult: Hashable, Sendable {
  public var values: [Int32]
  public var scale: Scale
  public init(values: [Int32], scale: Scale) {
    self.values = values
    self.scale = scale
  }
}

/// Probabilities that the x and gamma sources present a beat in a cycle where
/// they may, and that the result sink accepts one. 1.0 everywhere is full rate.
public struct NormStalls: Hashable, Sendable, CustomStringConvertible {
  public var xValid: Double
  public var gammaValid: Double
  public var yReady: Double

  public init(xValid: Double = 1, gammaValid: Double = 1, yReady: Double = 1) {
    self.xValid = xValid
    self.gammaValid = gammaValid
    self.yReady = yReady
  }

  public static let none = NormStalls()
  public static let heavy = NormStalls(xValid: 0.6, gammaValid: 0.7, yReady: 0.5)

  public var description: String {
    self == .none ? "no stalls" : "stalls (x valid \(xValid), gamma valid \(gammaValid), y ready \(yReady))"
  }
}

/// What the unit produced, and when.
public struct NormUnitRun: Sendable {
  /// One result per job that finished, in order.
  public var results: [NormResult]
  /// Total clock cycles of the run.
  public var cycles: Int
  /// For each finished job: cycles from taking its first input beat to
  /// handing out its last result beat, both included.
  public var vectorCycles: [Int]
  /// For each finished job: the cycle (from the start of the run) its last result left.
  public var finishCycles: [Int]
  /// Result beats taken, including those of a vector cut short.
  public var resultBeats: Int
}

public struct NormBenchError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

// MARK: Simulation

extension VerilatorBuildSpec {
  /// Everything Verilator needs to build a generated design with default options.
  public init(design: Design, sources: [(name: String, contents: String)], options: VerilatorOptions = VerilatorOptions()) {
    self.init(
      topModule: design.top.name,
      sources: sources.map { SourceFile(fileName: $0.name, text: $0.contents) },
      ports: SimPort.ports(of: design.top),
      verilatorFlags: options.verilatorFlags,
      compilerFlags: options.compilerFlags,
      trace: options.trace,
      threads: options.threads)
  }
}

/// A norm unit configuration, generated, verilated (or taken from the cache)
/// and loaded, with its testbench, out of reset.
public struct NormUnitSimulation {
  public let design: Design
  public let library: BuiltLibrary
  public let model: VerilatedModel
  public let bench: NormUnitTestbench

  public init(
    config: NormUnitConfig, cache: VerilatorBuildCache = VerilatorBuildCache(),
    options: VerilatorOptions = VerilatorOptions(), traceFile: URL? = nil
  ) throws {
    design = try NormUnitGenerator.generate(config)
    let sources = try NormUnitGenerator.sources(config)
    library = try cache.library(for: VerilatorBuildSpec(design: design, sources: sources, options: options))
    model = try VerilatedModel(library: library, traceFile: traceFile)
    bench = try NormUnitTestbench(config: config, model: model)
    try bench.reset()
  }
}

/// Drives the Verilated `norm_unit`: the x and gamma streams (valid/ready,
/// joined in the unit), the per-vector inputs, and the result stream.
///
/// The per-vector inputs carry a vector's values only while its first x beat
/// is presented, and random values otherwise, so a unit that samples them at
/// any other time fails. The bench checks the unit's side of the protocol: x
/// and gamma beats are taken together, every vector's results come as
/// ceil(n / lanes) beats with `y_last_o` on the last only, and the padding
/// elements of the last beat are zero.
public final class NormUnitTestbench {
  public let config: NormUnitConfig
  let model: VerilatedModel
  let rstN, xValid, xReady, xData, xLast, gValid, gReady, gData: PortHandle
  let mode, length, epsTerm, sqrtMantissa, sqrtExponent, betaMantissa, betaExponent: PortHandle
  let yValid, yReady, yLast, yData, qData, scaleMantissa, scaleExponent: PortHandle

  public init(config: NormUnitConfig, model: VerilatedModel) throws {
    self.config = config
    self.model = model
    rstN = try model.port("rst_ni")
    xValid = try model.port("x_valid_i")
    xReady = try model.port("x_ready_o")
    xData = try model.port("x_data_i")
    xLast = try model.port("x_last_i")
    gValid = try model.port("g_valid_i")
    gReady = try model.port("g_ready_o")
    gData = try model.port("g_data_i")
    mode = try model.port("mode_i")
    length = try model.port("length_i")
    epsTerm = try model.port("eps_term_i")
    sqrtMantissa = try model.port("sqrt_len_mantissa_i")
    sqrtExponent = try model.port("sqrt_len_exponent_i")
    betaMantissa = try model.port("beta_mantissa_i")
    betaExponent = try model.port("beta_exponent_i")
    yValid = try model.port("y_valid_o")
    yReady = try model.port("y_ready_i")
    yLast = try model.port("y_last_o")
    yData = try model.port("y_data_o")
    qData = try model.port("q_data_o")
    scaleMantissa = try model.port("scale_mantissa_o")
    scaleExponent = try model.port("scale_exponent_o")
  }

  /// Holds reset for two cycles with every stream idle, then releases it.
  public func reset() throws {
    try model.applyReset(rstN, idle: [xValid, gValid, yReady])
  }

  /// Two's complement bits of `value` for a port (the model masks to its width).
  static func bits(_ value: Int) -> UInt64 { UInt64(bitPattern: Int64(value)) }

  /// Sign-extends the low `width` bits of `raw`.
  static func signExtend(_ raw: UInt64, width: Int) -> Int {
    Int(Int64(bitPattern: raw << UInt64(64 - width)) >> Int64(64 - width))
  }

  /// Streams `jobs` back to back and collects every result.
  ///
  /// - Parameters:
  ///   - abortAfterCycles: stop after this many cycles (to test reset in the
  ///     middle of a vector); the run then reports what had finished.
  ///   - noisyPadding: fill the elements past each vector's length with
  ///     random values instead of zeros (the unit must ignore them).
  public func run(
    _ jobs: [NormJob], stalls: NormStalls = .none, seed: UInt64 = 1, abortAfterCycles: Int? = nil, noisyPadding: Bool = false
  ) throws -> NormUnitRun {
    let lanes = config.lanes
    for job in jobs where job.length > config.maxLength {
      throw NormBenchError("a vector of \(job.length) elements is longer than max length \(config.maxLength)")
    }
    // Beats, lane 0 lowest, one 32-bit word a lane; padding zero.
    var rng = SeededRandom(seed: seed)
    var xWords: [UInt32] = []
    var gWords: [UInt32] = []
    var beatJob: [Int] = []
    var beatFirst: [Bool] = []
    var beatLast: [Bool] = []
    for (j, job) in jobs.enumerated() {
      let beats = config.beats(length: job.length)
      for b in 0..<beats {
        for i in 0..<lanes {
          let e = b * lanes + i
          let noise = noisyPadding ? UInt32(truncatingIfNeeded: rng.next()) : 0
          xWords.append(e < job.length ? UInt32(bitPattern: job.x[e]) : noise)
          gWords.append(e < job.length ? UInt32(bitPattern: job.gamma[e]) : noise)
        }
        beatJob.append(j)
        beatFirst.append(b == 0)
        beatLast.append(b == beats - 1)
      }
    }
    let totalBeats = beatJob.count

    var results: [NormResult] = []
    var vectorCycles: [Int] = []
    var finishCycles: [Int] = []
    var firstBeatCycle: [Int] = []
    var current: [Int32] = []
    var outBeats = 0
    var resultBeats = 0
    var yWords = [UInt32](repeating: 0, count: (config.beatBits + 31) / 32)
    var qWords = [UInt32](repeating: 0, count: (config.int8BeatBits + 31) / 32)
    var xIndex = 0, gIndex = 0
    var xPresent = false, gPresent = false
    var xShown = -1, gShown = -1
    var cycles = 0
    let stopAt = abortAfterCycles ?? Int.max
    // Generous: a correct unit needs two cycles per beat plus about 60 a vector.
    let cycleLimit = 200 + jobs.count * 200 + totalBeats * 20

    while results.count < jobs.count && cycles < stopAt {
      if !xPresent && xIndex < totalBeats { xPresent = rng.chance(stalls.xValid) }
      if !gPresent && gIndex < totalBeats { gPresent = rng.chance(stalls.gammaValid) }
      if xPresent && xShown != xIndex {
        xWords.withUnsafeBufferPointer { model.set(xData, words: $0.baseAddress! + xIndex * lanes) }
        model.set(xLast, beatLast[xIndex] ? 1 : 0)
        xShown = xIndex
      }
      if gPresent && gShown != gIndex {
        gWords.withUnsafeBufferPointer { model.set(gData, words: $0.baseAddress! + gIndex * lanes) }
        gShown = gIndex
      }
      // The vector's inputs only with its first beat; noise otherwise.
      if xPresent && beatFirst[xIndex] {
        let job = jobs[beatJob[xIndex]]
        model.set(mode, UInt64(job.mode.rawValue))
        model.set(length, UInt64(job.length))
        model.set(epsTerm, job.constants.epsTerm)
        model.set(sqrtMantissa, UInt64(job.constants.sqrtLength.mantissa))
        model.set(sqrtExponent, Self.bits(job.constants.sqrtLength.exponent))
        model.set(betaMantissa, UInt64(job.beta.mantissa))
        model.set(betaExponent, Self.bits(job.beta.exponent))
      } else {
        for port in [mode, length, epsTerm, sqrtMantissa, sqrtExponent, betaMantissa, betaExponent] {
          model.set(port, rng.next())
        }
      }
      let sinkReady = rng.chance(stalls.yReady)
      model.set(xValid, xPresent ? 1 : 0)
      model.set(gValid, gPresent ? 1 : 0)
      model.set(yReady, sinkReady ? 1 : 0)
      try model.eval()
      let xFire = xPresent && model.get(xReady) == 1
      let gFire = gPresent && model.get(gReady) == 1
      if xFire != gFire {
        throw NormBenchError("cycle \(cycles): the unit took \(xFire ? "an x" : "a gamma") beat without its partner")
      }
      if xFire && beatFirst[xIndex] { firstBeatCycle.append(cycles) }
      if sinkReady && model.get(yValid) == 1 {
        let j = results.count
        guard j < jobs.count else { throw NormBenchError("cycle \(cycles): a result beat after the last vector") }
        let job = jobs[j]
        let beats = config.beats(length: job.length)
        let lastFlag = model.get(yLast) == 1
        if lastFlag != (outBeats == beats - 1) {
          throw NormBenchError("cycle \(cycles): vector \(j) result beat \(outBeats) of \(beats) has y_last \(lastFlag)")
        }
        var values: [Int32]
        switch job.mode {
        case .norm:
          yWords.withUnsafeMutableBufferPointer { model.get(yData, into: $0.baseAddress!) }
          values = yWords.prefix(lanes).map { Int32(bitPattern: $0) }
        case .quantize:
          qWords.withUnsafeMutableBufferPointer { model.get(qData, into: $0.baseAddress!) }
          values = (0..<lanes).map { i in Int32(Int8(truncatingIfNeeded: qWords[i / 4] >> UInt32(8 * (i % 4)))) }
        }
        let live = min(lanes, job.length - outBeats * lanes)
        if let pad = values[live...].firstIndex(where: { $0 != 0 }) {
          throw NormBenchError("cycle \(cycles): vector \(j) padding element \(pad) of the last beat is \(values[pad]), not 0")
        }
        current += values.prefix(live)
        outBeats += 1
        resultBeats += 1
        if lastFlag {
          var scale = Scale.zero
          if job.mode == .quantize {
            let mantissa = UInt32(truncatingIfNeeded: model.get(scaleMantissa))
            let exponent = Self.signExtend(model.get(scaleExponent), width: NormUnitConfig.scaleExponentBits)
            guard mantissa == 0 || mantissa >= 1 << 31 else {
              throw NormBenchError("cycle \(cycles): vector \(j) output scale mantissa \(mantissa) is not normalized")
            }
            scale = Scale(mantissa: mantissa, exponent: exponent)
            if mantissa == 0 && exponent != 0 {
              throw NormBenchError("cycle \(cycles): vector \(j) zero output scale with exponent \(exponent)")
            }
          }
          results.append(NormResult(values: current, scale: scale))
          vectorCycles.append(cycles - firstBeatCycle[j] + 1)
          finishCycles.append(cycles + 1)
          current = []
          outBeats = 0
        }
      }
      try model.step(1)
      cycles += 1
      if xFire {
        xIndex += 1
        xPresent = false
      }
      if gFire {
        gIndex += 1
        gPresent = false
      }
      if cycles > cycleLimit {
        throw NormBenchError("no progress: \(results.count) of \(jobs.count) vectors after \(cycles) cycles (\(xIndex) of \(totalBeats) beats taken)")
      }
    }
    model.set(xValid, 0)
    model.set(gValid, 0)
    model.set(yReady, 0)
    try model.eval()
    return NormUnitRun(
      results: results, cycles: cycles, vectorCycles: vectorCycles, finishCycles: finishCycles, resultBeats: resultBeats)
  }
}

/// Compares a run with the golden model, element by element.
public enum NormUnitCheck {
  public struct Mismatch: Error, CustomStringConvertible {
    public let description: String
  }

  /// Throws the first difference, naming the seed, the config and the vector.
  public static func compare(_ run: NormUnitRun, _ jobs: [NormJob], config: NormUnitConfig, seed: UInt64) throws {
    guard run.results.count == jobs.count else {
      throw Mismatch(description: "seed \(seed), \(config): \(run.results.count) results for \(jobs.count) vectors")
    }
    for (j, job) in jobs.enumerated() {
      let golden = job.expected
      let got = run.results[j]
      let what = "seed \(seed), \(config): vector \(j) (\(job.mode), n = \(job.length))"
      guard got.values.count == golden.values.count else {
        throw Mismatch(description: "\(what): \(got.values.count) of \(golden.values.count) elements")
      }
      if let i = golden.values.indices.first(where: { golden.values[$0] != got.values[$0] }) {
        throw Mismatch(description: "\(what) element \(i) (x \(job.x[i]), gamma \(job.gamma[i])): RTL \(got.values[i]), golden \(golden.values[i])")
      }
      if got.scale != golden.scale {
        throw Mismatch(description: "\(what): output scale RTL \(got.scale.mantissa) * 2^\(got.scale.exponent), golden \(golden.scale.mantissa) * 2^\(golden.scale.exponent)")
      }
    }
  }
}
