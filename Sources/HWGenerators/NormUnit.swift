import HWDSL
import HWSpec

/// The RMSNorm unit: `Norms.rmsNorm` and the BitLinear front end
/// `Norms.quantize`, bit for bit.
///
/// A vector streams in once (`lanes` Q15.16 elements of x and of gamma per
/// beat, the streams joined like the core's weights and activations). Each
/// lane forms z = Fixed.mul(x, gamma) and x^2; z goes to an on-chip memory,
/// the squares into a full-precision sum (`Norms.sumOfSquares`), |z| into a
/// running maximum.
/// A small sequential datapath then computes the vector's scalars with one
/// shared 32 x 32 multiplier, one normalizer and a restoring divider: the
/// rsqrt of `Norms.rsqrt` (leading zeros, even shift, the 192-entry seed ROM,
/// one Newton step), r = sqrtLength * rsqrt(ss + epsTerm), and in quantize
/// mode 127 / M and the output scale beta * r * M / 127. The second pass reads
/// z back and applies r (norm) or 127 / M (quantize) in every lane.
///
/// Multipliers: two per lane (the square |x|^2, 32 x 32; and one 33 x 33
/// signed multiplier that forms x * gamma in the first pass and |z| * mantissa
/// in the second, the passes never overlapping), plus one 32 x 32 for the
/// scalars: 2 * lanes + 1 in all.
public enum NormUnitGenerator: UnitGenerator {
  public static let unitName = "rmsnorm unit"

  public static func manifestParameters(_ config: NormUnitConfig) -> [(key: String, value: String)] {
    [("lanes", "\(config.lanes)"), ("maxLength", "\(config.maxLength)")]
  }

  public static func generate(_ config: NormUnitConfig) throws -> Design {
    try config.validate()
    let lane = try laneModule(config)
    return try Design(top: unitModule(config, lane: lane))
  }

  /// The sequencer's phases, in order of execution. Norm mode leaves for the
  /// second pass after `rms`; quantize mode goes on (and leaves straight from
  /// `maxScale` for an all-zero vector).
  enum Phase: Int, CaseIterable, HardwareEnum {
    case input
    case drain
    case sum
    case rsqrtNormalize
    case seed
    case square
    case test
    case newton
    case rsqrtScale
    case rmsMultiply
    case rms
    case maxScale
    case divide
    case toInt8Multiply
    case toInt8
    case outScale1
    case outScale2Multiply
    case outScale2
    case outScale3Multiply
    case outScale3
    case output

    static let hardwareName = "phase"
    static let valuePrefix = "St"

    /// Printed after the value in `phase_e`.
    var hardwareComment: String? {
      switch self {
      case .input: return "first pass: take beats"
      case .drain: return "wait for the last beat's square and maximum"
      case .sum: return "v = ss + epsTerm"
      case .rsqrtNormalize: return "m = v shifted evenly into [2^29, 2^31)"
      case .seed: return "y0 from the ROM"
      case .square: return "y0 * y0"
      case .test: return "m * (y0^2 >> 30)"
      case .newton: return "y0 * (3 * 2^30 - t)"
      case .rsqrtScale: return "rsqrt(v) = y1 as a scale"
      case .rmsMultiply: return "sqrtLength * rsqrt"
      case .rms: return "r"
      case .maxScale: return "M as a scale; start the divider"
      case .divide: return "32 steps of floor((2^63 - 1) / mantissa)"
      case .toInt8Multiply: return "scale127 * reciprocal"
      case .toInt8: return "127 / M; beta * r"
      case .outScale1: return "beta * r as a scale"
      case .outScale2Multiply: return "... * M"
      case .outScale2: return nil
      case .outScale3Multiply: return "... * inverse127"
      case .outScale3: return nil
      case .output: return "second pass: stream the results"
      }
    }
  }

  // MARK: Lane

  /// One element of every beat. First pass: x * gamma rounded and saturated
  /// to Q15.16 (z), and x^2. Second pass: the stored z times the
  /// scale, rounded, clamped and signed (`Scale.apply`). Two pipeline stages,
  /// both advanced by `enable`.
  static func laneModule(_ config: NormUnitConfig) throws -> Module {
    let m = ModuleBuilder(
      "norm_lane",
      comment: [
        "One element lane of the RMSNorm unit. First pass: z = sat(round(x * gamma / 2^16)) and x^2.",
        "Second pass: round(|z| * mantissa / 2^shift) with the sign of z, saturated.",
        "Two multipliers: a 32 x 32 square and a 33 x 33 signed multiplier shared by both passes.",
      ])
    _ = m.clock()
    let enable = m.input("enable", .bit, comment: "advance both stages")
    let second = m.input("second_pass", .bit, comment: "0: x * gamma and the square; 1: scale the stored z")
    let x = m.input("x", .sint(32))
    let gamma = m.input("gamma", .sint(32))
    let stored = m.input("stored_z", .sint(32), comment: "z read back in the second pass")
    let mantissa = m.input("mantissa", .uint(32))
    let shift = m.input("shift", .uint(7), comment: "-exponent - 1, at most 64")
    let saturate = m.input("saturate", .bit)
    let squareOut = m.output("square", .uint(64), comment: "x^2 of the beat in stage 1")
    let zOut = m.output("z", .sint(32), comment: "z of the beat in stage 1")
    let zMagnitudeOut = m.output("z_magnitude", .uint(32))
    let resultOut = m.output("result", .sint(32), comment: "second pass: the scaled element")

    // x^2 = |x|^2 <= 2^62, as Norms.sumOfSquares squares it.
    let xMagnitude = FixedPointRTL.magnitude(m, "x_magnitude", x)
    let squareNext = m.wire("square_next", xMagnitude.times(xMagnitude))

    // The shared multiplier: x * gamma, or |z| * mantissa (both operands non-negative).
    let xWide = m.wire("x_wide", x.extended(to: 33))
    let gammaWide = m.wire("gamma_wide", gamma.extended(to: 33))
    let storedNegative = m.wire("stored_negative", stored.msb)
    let storedWide = m.wire("stored_wide", stored.extended(to: 33))
    let storedMagnitude = m.wire("stored_magnitude", .mux(storedNegative, -storedWide, storedWide))
    let mantissaWide = m.wire("mantissa_wide", Expr.concat([.low, mantissa]).asSigned)
    let mulA = m.wire("mul_a", .mux(second, storedMagnitude, xWide))
    let mulB = m.wire("mul_b", .mux(second, mantissaWide, gammaWide))
    let productNext = m.wire("product_next", mulA.times(mulB))

    let product = m.register("product", .sint(66), reset: .none, holds: true, comment: "x * gamma, or |z| * mantissa")
    let square = m.register("square", .uint(64), reset: .none, holds: true)
    let negative = m.register("negative", .bit, reset: .none, holds: true, comment: "the stored z is negative")
    let nonzero = m.register("nonzero", .bit, reset: .none, holds: true, comment: "the stored z is not zero")
    let result = m.register("result", .sint(32), reset: .none, holds: true)

    // First pass, from stage 1: Fixed.mul's rounding and saturation.
    let z = FixedPointRTL.productToFixed(m, "z_value", product.state)
    let zMagnitude = FixedPointRTL.magnitude(m, "z_value_magnitude", z)

    // Second pass, from stage 1: Scale.apply.
    let scaled = ScaleRTL.applyResult(
      m, "apply", product: product.state.asUnsigned, shift: shift, saturate: saturate,
      negative: negative.state, nonzero: nonzero.state)

    m.comb {
      If(enable) {
        Assign(product.next, productNext)
        Assign(square.next, squareNext)
        Assign(negative.next, storedNegative)
        Assign(nonzero.next, stored.ne(0))
        Assign(result.next, scaled)
      }
    }
    m.assign(squareOut, square.state)
    m.assign(zOut, z)
    m.assign(zMagnitudeOut, zMagnitude)
    m.assign(resultOut, result.state)
    return try m.finish()
  }
}

/// The norm unit's ports, declared in the order the module lists them.
struct NormUnitPorts {
  let clk: Expr
  let xValid: Expr
  let xReady: Expr
  let xData: Expr
  let xLast: Expr
  let gValid: Expr
  let gReady: Expr
  let gData: Expr
  let modeIn: Expr
  let lengthIn: Expr
  let epsIn: Expr
  let sqrtMantissaIn: Expr
  let sqrtExponentIn: Expr
  let betaMantissaIn: Expr
  let betaExponentIn: Expr
  let yValid: Expr
  let yReady: Expr
  let yLast: Expr
  let yData: Expr
  let qData: Expr
  let scaleMantissa: Expr
  let scaleExponent: Expr

  init(_ m: ModuleBuilder, _ config: NormUnitConfig) {
    let lengthBits = config.lengthBits
    let sqrtExpBits = NormUnitConfig.sqrtLengthExponentBits
    let betaExpBits = NormUnitConfig.betaExponentBits
    let expType = HWType.sint(NormUnitConfig.scaleExponentBits)
    clk = m.clock()
    _ = m.reset()
    xValid = m.input("x_valid", .bit)
    xReady = m.output("x_ready", .bit)
    xData = m.input("x_data", .uint(config.beatBits), comment: "Q15.16 element i at [32*i +: 32]")
    xLast = m.input("x_last", .bit, comment: "last beat of a vector")
    gValid = m.input("g_valid", .bit)
    gReady = m.output("g_ready", .bit)
    gData = m.input("g_data", .uint(config.beatBits), comment: "gamma, Q15.16, same layout")
    modeIn = m.input("mode", .bit, comment: "0 norm, 1 quantize; with the first beat")
    lengthIn = m.input("length", .uint(lengthBits), comment: "elements in the vector; with the first beat")
    epsIn = m.input("eps_term", .uint(64), comment: "LengthConstants.epsTerm")
    sqrtMantissaIn = m.input("sqrt_len_mantissa", .uint(32), comment: "LengthConstants.sqrtLength")
    sqrtExponentIn = m.input("sqrt_len_exponent", .sint(sqrtExpBits))
    betaMantissaIn = m.input("beta_mantissa", .uint(32), comment: "quantize mode: the weights' beta")
    betaExponentIn = m.input("beta_exponent", .sint(betaExpBits))
    yValid = m.output("y_valid", .bit)
    yReady = m.input("y_ready", .bit)
    yLast = m.output("y_last", .bit)
    yData = m.output("y_data", .uint(config.beatBits), comment: "norm mode: Q15.16 element i at [32*i +: 32]")
    qData = m.output("q_data", .uint(config.int8BeatBits), comment: "quantize mode: int8 element i at [8*i +: 8]")
    scaleMantissa = m.output("scale_mantissa", .uint(32), comment: "quantize mode: outputScale")
    scaleExponent = m.output("scale_exponent", expType)
  }
}

/// The scalar side's registers (the rsqrt, the divider and the scales it
/// builds up), declared in the order the module lists them.
struct NormScalarRegisters {
  let v: ModuleBuilder.RegisterHandle
  let mRsqrt: ModuleBuilder.RegisterHandle
  let rsqrtBase: ModuleBuilder.RegisterHandle
  let y0: ModuleBuilder.RegisterHandle
  let rsqrtMantissa: ModuleBuilder.RegisterHandle
  let rsqrtExponent: ModuleBuilder.RegisterHandle
  let rMantissa: ModuleBuilder.RegisterHandle
  let rExponent: ModuleBuilder.RegisterHandle
  let maxMantissa: ModuleBuilder.RegisterHandle
  let maxExponent: ModuleBuilder.RegisterHandle
  let remainder: ModuleBuilder.RegisterHandle
  let quotient: ModuleBuilder.RegisterHandle
  let divCount: ModuleBuilder.RegisterHandle
  let outMantissa: ModuleBuilder.RegisterHandle
  let outExponent: ModuleBuilder.RegisterHandle

  init(_ m: ModuleBuilder, _ config: NormUnitConfig) {
    let normBits = config.normalizerBits
    let expType = HWType.sint(NormUnitConfig.scaleExponentBits)
    v = m.register("rsqrt_v", .uint(normBits), reset: .none, holds: true, comment: "ss + epsTerm")
    mRsqrt = m.register("rsqrt_m", .uint(31), reset: .none, holds: true, comment: "v shifted evenly into [2^29, 2^31)")
    rsqrtBase = m.register("rsqrt_exponent", expType, reset: .none, holds: true, comment: "-45 - e/2: the exponent of y1 * 2^-30")
    y0 = m.register("rsqrt_y0", .uint(31), reset: .none, holds: true, comment: "seed, Q2.30")
    rsqrtMantissa = m.register("rsqrt_mantissa", .uint(32), reset: .none, holds: true)
    rsqrtExponent = m.register("rsqrt_scale_exponent", expType, reset: .none, holds: true)
    rMantissa = m.register("r_mantissa", .uint(32), reset: .none, holds: true, comment: "r = 1 / RMS")
    rExponent = m.register("r_exponent", expType, reset: .none, holds: true)
    maxMantissa = m.register("max_mantissa", .uint(32), reset: .none, holds: true, comment: "M as a scale")
    maxExponent = m.register("max_exponent", expType, reset: .none, holds: true)
    remainder = m.register("div_remainder", .uint(32), reset: .none, holds: true)
    quotient = m.register("div_quotient", .uint(32), reset: .none, holds: true, comment: "floor((2^63 - 1) / M's mantissa)")
    divCount = m.register("div_count", .uint(5), reset: .none, holds: true)
    outMantissa = m.register("out_mantissa", .uint(32), reset: .none, holds: true, comment: "the output scale, built up")
    outExponent = m.register("out_exponent", expType, reset: .none, holds: true)
  }
}
