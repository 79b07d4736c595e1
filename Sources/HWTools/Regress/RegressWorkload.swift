import HWGolden
import HWSim
import HWSpec
import HWSupport

/// The seeded work of one regression case: a few mat-vecs of shapes that are
/// rarely multiples of the core's, now and then a directed extreme, and the
/// stall probabilities of the three streams. A function of the configuration
/// and the seed only, so `--configs C --seeds 1 --seed-base S` reproduces a case.
public struct RegressWorkload: Sendable {
  public let jobs: [TernaryCoreJob]
  public let stalls: StreamStalls

  public init(config: TernaryCoreConfig, seed: UInt64) {
    var rng = SeededRandom(seed: seed).fork(0x7265_6772)  // "regr"
    func below(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    let count = 2 + below(3)
    var jobs: [TernaryCoreJob] = []
    for _ in 0..<count {
      let rows = 1 + below(3 * config.lanes + 2)
      let cols = 1 + below(4 * config.laneWidth + 3)
      switch below(8) {
      case 0:
        // All weights one sign against the extreme activations: the widest sums.
        let weight: Int8 = below(2) == 0 ? 1 : -1
        let activation: Int8 = below(2) == 0 ? -128 : 127
        jobs.append(TernaryCoreJob(
          matrix: TernaryMatrix(rows: rows, cols: cols, repeating: weight),
          activations: [Int8](repeating: activation, count: cols)))
      default:
        let density = [1.0 / 3.0, 2.0 / 3.0, 1.0][below(3)]
        jobs.append(TernaryCoreJob(
          matrix: TernaryWorkload.randomMatrix(rows: rows, cols: cols, nonZero: density, using: &rng),
          activations: TernaryWorkload.randomActivations(cols, using: &rng)))
      }
    }
    self.jobs = jobs
    let rates = [1.0, 0.8, 0.5, 0.25]
    stalls = StreamStalls(weightValid: rates[below(4)], activationValid: rates[below(4)], resultReady: rates[below(4)])
  }

  /// Output elements compared with the golden model.
  public var outputs: Int { jobs.reduce(0) { $0 + $1.matrix.rows } }
}

/// The seeded work of one MLGRU regression case: each layer used starts with
/// recur-fresh (so the golden model knows its h), then a random mix of recur,
/// silu-mul and clear on vectors of non-multiple lengths, with operand values
/// that are mostly typical, sometimes any Int32, sometimes a corner; and the
/// stall probabilities of both streams.
public struct MLGRUWorkload: Sendable {
  public let operations: [MLGRUUnitOperation]
  public let stalls: MLGRUStalls

  static let corners: [Int32] = [0, 1, -1, Int32.max, Int32.min, Fixed.one, -Fixed.one, 16 << 16, -16 << 16, 4096, -4096]

  public init(config: MLGRUUnitConfig, seed: UInt64) {
    var rng = SeededRandom(seed: seed).fork(0x6D6C_6772)  // "mlgr"
    func below(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    func value() -> Int32 {
      switch below(20) {
      case 0..<12: return Int32(Int64(rng.next() % (24 << 16)) - (12 << 16))
      case 12..<16: return Int32(truncatingIfNeeded: rng.next())
      default: return Self.corners[below(Self.corners.count)]
      }
    }
    func lowerBound() -> Int32 {
      switch below(6) {
      case 0: return 0
      case 1: return Fixed.one - 1
      default: return Int32(rng.next() % UInt64(Fixed.one))
      }
    }
    func vector(_ n: Int, _ draw: () -> Int32) -> [Int32] { (0..<n).map { _ in draw() } }
    let longest = min(config.maxHidden, 4 * config.lanes + 3)
    let layers = min(config.maxLayers, 2)
    // One length per layer, so every element of its h is known to the golden model.
    let lengths = (0..<layers).map { _ in 1 + below(longest) }
    var operations = (0..<layers).map { layer in
      MLGRUUnitOperation.recur(
        layer: layer, yf: vector(lengths[layer], value), yi: vector(lengths[layer], value),
        lb: vector(lengths[layer], lowerBound), fresh: true)
    }
    for _ in 0..<(3 + below(3)) {
      let layer = below(layers)
      let n = lengths[layer]
      switch below(5) {
      case 0:
        let m = 1 + below(longest)
        operations.append(.siluMul(vector(m, value), vector(m, value)))
      case 1:
        operations.append(.clear(layer: layer, length: n))
      default:
        operations.append(.recur(layer: layer, yf: vector(n, value), yi: vector(n, value), lb: vector(n, lowerBound)))
      }
    }
    self.operations = operations
    let rates = [1.0, 0.8, 0.5, 0.25]
    stalls = MLGRUStalls(inputValid: rates[below(4)], outputReady: rates[below(4)])
  }

  /// Output elements compared with the golden model.
  public var outputs: Int { operations.reduce(0) { $0 + $1.length } }
}

/// The seeded work of one RMSNorm-unit case: norm and quantize vectors of
/// non-multiple lengths, amplitudes from 2^-8 to the full Q15.16 range with
/// outliers, gammas near one, betas like a checkpoint's; and the stalls of
/// the x, gamma and result streams.
public struct NormWorkload: Sendable {
  public let jobs: [NormJob]
  public let stalls: NormStalls

  public init(config: NormUnitConfig, seed: UInt64) {
    var rng = SeededRandom(seed: seed).fork(0x6E6F_726D)  // "norm"
    func below(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    func uniform(_ amplitude: Int64) -> Int32 { Int32(clamping: Int64(rng.next() % UInt64(2 * amplitude + 1)) - amplitude) }
    let longest = min(config.maxLength, 4 * config.lanes + 3)
    let amplitudes: [Int64] = [1 << 8, 1 << 14, 1 << 16, 1 << 18, 1 << 22, 1 << 26, Int64(Int32.max)]
    jobs = (0..<(2 + below(3))).map { _ in
      let n = 1 + below(longest)
      let amplitude = amplitudes[below(amplitudes.count)]
      var x = (0..<n).map { _ in uniform(amplitude) }
      if below(4) == 0 { x[below(n)] = uniform(Int64(Int32.max)) }
      let gamma = (0..<n).map { _ in below(64) == 0 ? uniform(1 << 26) : Fixed.one + uniform(1 << 15) }
      let beta = below(8) == 0
        ? Scale(mantissa: UInt32(truncatingIfNeeded: rng.next()) | 1 << 31, exponent: -200 + below(300))
        : Scale(0.002 + Double(below(1000)) / 4000)
      return NormJob(mode: below(2) == 0 ? .norm : .quantize, x: x, gamma: gamma, beta: beta)
    }
    let rates = [1.0, 0.8, 0.5, 0.25]
    stalls = NormStalls(xValid: rates[below(4)], gammaValid: rates[below(4)], yReady: rates[below(4)])
  }

  public var outputs: Int { jobs.reduce(0) { $0 + $1.length } }
}

/// The seeded work of one rescale-unit case: accumulator vectors over the
/// whole signed range of the configured width (extremes included) and
/// output scales like a BitLinear layer's, sometimes extreme; stall rates.
public struct RescaleWorkload: Sendable {
  public let jobs: [RescaleJob]
  public let inputValid: Double
  public let outputReady: Double

  public init(config: NormUnitConfig, seed: UInt64) {
    var rng = SeededRandom(seed: seed).fork(0x7265_7363)  // "resc"
    func below(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    let half = Int64(1) << Int64(config.accumulatorWidth - 1)
    func accumulator() -> Int64 {
      switch below(8) {
      case 0: return -half
      case 1: return half - 1
      default: return Int64(rng.next() % UInt64(2 * half)) - half
      }
    }
    let longest = 4 * config.lanes + 3
    jobs = (0..<(2 + below(3))).map { _ in
      let n = 1 + below(longest)
      let scale = below(6) == 0
        ? Scale(mantissa: UInt32(truncatingIfNeeded: rng.next()) | 1 << 31, exponent: -60 + below(40))
        : Scale(Double(1 + below(4000)) / 1000)
      return RescaleJob(accumulators: (0..<n).map { _ in accumulator() }, scale: scale)
    }
    let rates = [1.0, 0.8, 0.5, 0.25]
    inputValid = rates[below(4)]
    outputReady = rates[below(4)]
  }

  public var outputs: Int { jobs.reduce(0) { $0 + $1.accumulators.count } }
}
