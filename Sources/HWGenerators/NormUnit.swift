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
    let xMagnitude = NormDatapath.magnitude(m, "x_magnitude", x)
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
    let bias = Expr.mux(product.state.msb, .literal(0x7FFF, .sint(66)), .literal(0x8000, .sint(66)))
    let xgRounded = m.wire(
      "xg_rounded", (product.state + bias).shiftRight(16),
      comment: "(p + 2^15 - [p < 0]) >>> 16 rounds half away from zero")
    let z = m.wire(
      "z_value",
      .mux(xgRounded.gt(.literal(Int(Int32.max), .sint(66))), .literal(Int(Int32.max), .sint(32)),
           .mux(xgRounded.lt(.literal(Int(Int32.min), .sint(66))), .literal(Int(Int32.min), .sint(32)),
                xgRounded.truncated(to: 32))))
    let zMagnitude = NormDatapath.magnitude(m, "z_value_magnitude", z)

    // Second pass, from stage 1: Scale.apply.
    let scaled = NormDatapath.applyResult(
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

  // MARK: Unit

  static func unitModule(_ config: NormUnitConfig, lane: Module) throws -> Module {
    let lanes = config.lanes
    let depth = config.memoryDepth
    let lengthBits = config.lengthBits
    let sqrtExpBits = NormUnitConfig.sqrtLengthExponentBits
    let betaExpBits = NormUnitConfig.betaExponentBits
    let expBits = NormUnitConfig.scaleExponentBits
    let expType = HWType.sint(expBits)
    let m = ModuleBuilder(
      "norm_unit",
      comment: [
        "RMSNorm unit: \(lanes) Q15.16 lanes, vectors of up to \(config.maxLength) elements (\(depth) beats on chip).",
        "mode 0 (norm):     y_i = r.apply(Fixed.mul(x_i, gamma_i)), r = sqrtLength * rsqrt(ss + epsTerm).",
        "mode 1 (quantize): q_i = clamp(round(z_i * 127 / M)), z = Fixed.mul(x, gamma), M = max |z_i|;",
        "                   scale = beta * r * M / 127 (zero, and q = 0, for an all-zero z).",
        "x and gamma are valid/ready streams consumed together; x_last_i marks a vector's last beat.",
        "mode, length and the constants are sampled with a vector's first beat. Elements past length",
        "are ignored (read as zero) and come out as zero. Results stream out after the whole vector",
        "is in; scale_*_o hold the vector's output scale while its results stream (quantize mode).",
        "Multipliers: 2 per lane (32 x 32 square, shared 33 x 33) and one 32 x 32 for the scalars.",
      ])
    let io = NormUnitPorts(m, config)
    let memory = m.memory("z_mem", depth: depth, .uint(config.beatBits))
    let addressBits = memory.addressWidth

    // MARK: First pass: join, mask, lanes, store, reduce.
    let phase = StateMachine(m, "phase", reset: Phase.input)
    func inPhase(_ p: Phase) -> Expr { phase.inState(p) }
    let first = m.register("first", .bit, resetValue: 1, holds: true, comment: "the next beat starts a vector")
    let inInput = m.wire("in_input", inPhase(.input))
    let fire = m.wire("fire", io.xValid && io.gValid && inInput, comment: "an x/gamma pair is consumed")
    m.assign(io.xReady, io.gValid && inInput)
    m.assign(io.gReady, io.xValid && inInput)

    let remaining = m.register("remaining", .uint(lengthBits), reset: .none, holds: true, comment: "elements left from this beat on")
    let lengthNow = m.wire("length_now", .mux(first.state, io.lengthIn, remaining.state))
    let remainingNext = m.wire(
      "remaining_next",
      .mux(lengthNow.gt(.literal(lanes, .uint(lengthBits))), lengthNow - .literal(lanes, .uint(lengthBits)), .zeros(.uint(lengthBits))))
    let maskedLanes: [Expr] = (0..<lanes).map { i in
      let live = lengthNow.gt(.literal(i, .uint(lengthBits)))
      return Expr.mux(live, io.xData[32 * i + 31, 32 * i], .zeros(.uint(32)))
    }
    let xMasked = m.wire("x_masked", .concat(maskedLanes.reversed()), comment: "elements past the length read as zero")

    let s0Valid = m.register("s0_valid", .bit, comment: "a beat is held in the input registers")
    let s0Last = m.register("s0_last", .bit, reset: .none, holds: true)
    let xBeat = m.register("x_beat", .uint(config.beatBits), reset: .none, holds: true)
    let gBeat = m.register("g_beat", .uint(config.beatBits), reset: .none, holds: true)
    let s1Valid = m.register("s1_valid", .bit, comment: "the lanes hold a beat's z and squares")
    let s1Last = m.register("s1_last", .bit, reset: .none)
    let s2Valid = m.register("s2_valid", .bit, comment: "a beat's square sum and maximum are held")
    let mode = m.register("mode", .bit, reset: .none, holds: true, comment: "1: quantize")
    let eps = m.register("eps_term", .uint(64), reset: .none, holds: true)
    let sqrtMantissa = m.register("sqrt_len_mantissa", .uint(32), reset: .none, holds: true)
    let sqrtExponent = m.register("sqrt_len_exponent", .sint(sqrtExpBits), reset: .none, holds: true)
    let betaMantissa = m.register("beta_mantissa", .uint(32), reset: .none, holds: true)
    let betaExponent = m.register("beta_exponent", .sint(betaExpBits), reset: .none, holds: true)
    let writeAddress = m.register("write_address", .uint(addressBits), reset: .none, holds: true)
    let lastAddress = m.register("last_address", .uint(addressBits), reset: .none, holds: true, comment: "the vector's last beat in z_mem")
    let beatSumBits = 64 + ceilLog2(lanes)
    let sumBits = config.sumOfSquaresBits
    let beatSquares = m.register("beat_squares", .uint(beatSumBits), reset: .none)
    let beatMax = m.register("beat_max", .uint(32), reset: .none)
    let sumOfSquares = m.register("sum_of_squares", .uint(sumBits), reset: .none, holds: true, comment: "exact: never wraps")
    let maxMagnitude = m.register("max_magnitude", .uint(32), reset: .none, holds: true, comment: "M = max |z_i|")

    // MARK: Second-pass pipeline: read -> lane stage 1 -> lane stage 2 (the output).
    let issuing = m.register("issuing", .bit, holds: true, comment: "addresses of the vector are still to be read")
    let readAddress = m.register("read_address", .uint(addressBits), reset: .none, holds: true)
    let readData = m.register("read_data", .uint(config.beatBits), reset: .none, holds: true)
    let rValid = m.register("r_valid", .bit, holds: true)
    let rLast = m.register("r_last", .bit, reset: .none, holds: true)
    let aValid = m.register("a_valid", .bit, holds: true)
    let aLast = m.register("a_last", .bit, reset: .none, holds: true)
    let outValid = m.register("out_valid", .bit, holds: true)
    let outLast = m.register("out_last", .bit, reset: .none, holds: true)
    // Outside the second pass out_valid is low, so the lanes advance every cycle.
    let advance = m.wire("advance", !outValid.state || io.yReady, comment: "the second-pass pipeline moves")
    let inOutput = m.wire("in_output", inPhase(.output))
    let issue = m.wire("issue", inOutput && issuing.state && advance)
    let finish = m.wire("finish", outValid.state && io.yReady && outLast.state, comment: "the vector's last result leaves")

    // The apply scale: r in norm mode, 127 / M in quantize mode.
    let applyMantissa = m.register("apply_mantissa", .uint(32), reset: .none, holds: true)
    let applyExponent = m.register("apply_exponent", expType, reset: .none, holds: true)
    let controls = NormDatapath.applyControls(m, "apply", mantissa: applyMantissa.state, exponent: applyExponent.state)

    // MARK: Lanes
    let squares = m.wire("lane_square", .uint(64 * lanes), comment: "x^2 of lane i at [64*i +: 64]")
    let zs = m.wire("lane_z", .uint(config.beatBits), comment: "z of lane i at [32*i +: 32]")
    let zMagnitudes = m.wire("lane_z_magnitude", .uint(config.beatBits), comment: "|z| of lane i at [32*i +: 32]")
    m.generate("gen_lane", count: lanes) { g in
      // Signed lane values go through wires: Yosys 0.23 asserts on `$signed(x)` of a whole signal in a port connection.
      let x = g.wire("x", g.slice(xBeat.state).asSigned)
      let gamma = g.wire("gamma", g.slice(gBeat.state).asSigned)
      let stored = g.wire("stored_z", g.slice(readData.state).asSigned)
      g.instance(lane, "u_lane", [
        ("clk_i", io.clk),
        ("enable_i", advance),
        ("second_pass_i", inOutput),
        ("x_i", x),
        ("gamma_i", gamma),
        ("stored_z_i", stored),
        ("mantissa_i", applyMantissa.state),
        ("shift_i", controls.shift),
        ("saturate_i", controls.saturate),
        ("square_o", g.slice(squares)),
        ("z_o", g.slice(zs)),
        ("z_magnitude_o", g.slice(zMagnitudes)),
        ("result_o", g.slice(io.yData)),
      ])
    }
    m.write(memory, enable: s1Valid.state, address: writeAddress.state, data: zs)
    let squareLeaves = (0..<lanes).map { i in squares[64 * i + 63, 64 * i].extended(to: beatSumBits) }
    let squareSum = NormDatapath.tree(m, "square_sum", squareLeaves) { $0 + $1 }
    let magnitudeLeaves = (0..<lanes).map { i in zMagnitudes[32 * i + 31, 32 * i] }
    let beatMaxNext = NormDatapath.tree(m, "beat_max", magnitudeLeaves) { .mux($0.ge($1), $0, $1) }

    m.comb {
      Assign(s0Valid.next, fire)
      Assign(s1Valid.next, s0Valid.state)
      Assign(s1Last.next, s0Last.state)
      Assign(s2Valid.next, s1Valid.state)
      Assign(beatSquares.next, squareSum)
      Assign(beatMax.next, beatMaxNext)
      If(s1Valid.state) {
        Assign(writeAddress.next, writeAddress.state + .literal(1, .uint(addressBits)))
        If(s1Last.state) { Assign(lastAddress.next, writeAddress.state) }
      }
      If(s2Valid.state) {
        Assign(sumOfSquares.next, sumOfSquares.state + beatSquares.state.extended(to: sumBits))
        Assign(maxMagnitude.next, .mux(beatMax.state.gt(maxMagnitude.state), beatMax.state, maxMagnitude.state))
      }
      If(fire) {
        Assign(xBeat.next, xMasked)
        Assign(gBeat.next, io.gData)
        Assign(s0Last.next, io.xLast)
        Assign(remaining.next, remainingNext)
        If(first.state) {
          Assign(mode.next, io.modeIn)
          Assign(eps.next, io.epsIn)
          Assign(sqrtMantissa.next, io.sqrtMantissaIn)
          Assign(sqrtExponent.next, io.sqrtExponentIn)
          Assign(betaMantissa.next, io.betaMantissaIn)
          Assign(betaExponent.next, io.betaExponentIn)
          Assign(writeAddress.next, .zeros(.uint(addressBits)))
          Assign(sumOfSquares.next, .zeros(.uint(sumBits)))
          Assign(maxMagnitude.next, .zeros(.uint(32)))
        }
      }
    }

    // MARK: Scalars: one multiplier, one normalizer, one divider, once a vector.
    let product = m.register("scalar_product", .uint(64), reset: .none, comment: "the shared multiplier's last product")
    let mulA = m.wire("mul_a", .uint(32))
    let mulB = m.wire("mul_b", .uint(32))
    let productNext = m.wire("scalar_product_next", mulA.times(mulB))
    let normBits = config.normalizerBits
    let normIn = m.wire("norm_in", .uint(normBits), comment: "value to turn into a scale (or, for rsqrt, into m)")
    let normExponent = m.wire("norm_exponent", expType)
    let normalized = NormDatapath.normalize(m, "norm", normIn)
    let normZero = m.wire("norm_zero", normIn.eq(0))
    let normScale = NormDatapath.scale(m, "norm_scale", normalized, exponent: normExponent, isZero: normZero)

    let sc = NormScalarRegisters(m, config)

    // Norms.rsqrt's even shift. With W = \(normBits) (even) bits, v << lz has
    // its top bit set and v has W - lz bits: m keeps the top 31 for an odd
    // count (e = W - 31 - lz) and the top 30 for an even one (e = W - 30 - lz),
    // so e/2 = W/2 - 15 - ceil(lz / 2).
    let lz = normalized.leadingZeros
    let top = normBits - 1
    let mFromNorm = m.wire(
      "rsqrt_m_next",
      .mux(lz[0], normalized.shifted[top, top - 30], Expr.concat([.low, normalized.shifted[top, top - 29]])))
    let halfShift = m.wire(
      "rsqrt_half_shift", (lz.extended(to: lz.width + 1) + .literal(1, .uint(lz.width + 1))).shiftRight(1),
      comment: "ceil(lz / 2)")
    let rsqrtBaseNext = m.wire(
      "rsqrt_exponent_next",
      .literal(-45 - (normBits / 2 - 15), expType) + Expr.concat([.zeros(.uint(expBits - halfShift.width)), halfShift]).asSigned,
      comment: "-45 - e/2 = \(-45 - (normBits / 2 - 15)) + ceil(lz / 2)")
    // The seed ROM: Norms.rsqrtSeeds, indexed by m >> 23.
    // m >= 2^29, so the index is at least 64; entries 0-63 are never read and hold 0.
    let seedIndex = m.wire("rsqrt_seed_index", sc.mRsqrt.state[30, 23])
    let seedTable = m.rom(
      "RsqrtSeedTable", .uint(31), entries: [Int](repeating: 0, count: 64) + Norms.rsqrtSeeds.map { Int($0) },
      comment: "Entry k (k >= 64): 1 / sqrt((k + 0.5) / 128) in Q2.30, the seed for m in [k, k + 1) * 2^23.")
    let seed = m.wire("rsqrt_seed", reading: seedTable, at: seedIndex)
    // Newton: t = m y0^2 (Q2.30) is within 1% of 2^30, so 3 * 2^30 - t fits 32 bits.
    let correction = m.wire("newton_correction", .literal(3 << 30, .uint(64)) - product.state.shiftRight(30))
    NormDatapath.discard(m, "newton_correction_high", correction[63, 32])
    let y1 = m.wire("rsqrt_y1", product.state.shiftRight(31), comment: "y0 (3 - m y0^2) / 2, Q2.30")
    // The divider: restoring, one quotient bit a cycle, every dividend bit below
    // the top 31 a one (2^63 - 1).
    let partial = m.wire("div_partial", .concat([sc.remainder.state, .high]))
    let divisor = m.wire("div_divisor", Expr.concat([.low, sc.maxMantissa.state]))
    let fits = m.wire("div_fits", partial.ge(divisor))
    let difference = m.wire("div_difference", partial - divisor)
    let remainderNext = m.wire("div_remainder_next", .mux(fits, difference, partial))
    NormDatapath.discard(m, "div_remainder_high", remainderNext[32])

    let scale127 = Norms.scale127
    let inverse127 = Norms.inverse127
    let sqrtExponentWide = m.wire("sqrt_len_exponent_wide", sqrtExponent.state.extended(to: expBits))
    let betaExponentWide = m.wire("beta_exponent_wide", betaExponent.state.extended(to: expBits))
    let maxIsZero = m.wire("max_is_zero", maxMagnitude.state.eq(0))

    func enterOutput() -> [Statement] {
      Statements {
        phase.goTo(.output)
        Assign(readAddress.next, .zeros(.uint(addressBits)))
        Assign(issuing.next, .high)
      }
    }
    func go(_ p: Phase) -> Statement { phase.goTo(p) }
    func literal32(_ value: UInt32) -> Expr { .literal(Int(value), .uint(32)) }
    func exponent(_ value: Int) -> Expr { .literal(value, expType) }

    let phaseCases: [(state: Phase, body: [Statement])] = [
      (state: .input, body: Statements {
        If(fire) {
          Assign(first.next, .low)
          If(io.xLast) { go(.drain) }
        }
      }),
      (state: .drain, body: Statements {
        If(!s0Valid.state && !s1Valid.state && !s2Valid.state) { go(.sum) }
      }),
      (state: .sum, body: Statements {
        Assign(sc.v.next, sumOfSquares.state.extended(to: normBits) + eps.state.extended(to: normBits))
        go(.rsqrtNormalize)
      }),
      (state: .rsqrtNormalize, body: Statements {
        Assign(normIn, sc.v.state)
        Assign(sc.mRsqrt.next, mFromNorm)
        Assign(sc.rsqrtBase.next, rsqrtBaseNext)
        go(.seed)
      }),
      (state: .seed, body: Statements {
        Assign(sc.y0.next, seed)
        go(.square)
      }),
      (state: .square, body: Statements {
        Assign(mulA, sc.y0.state.extended(to: 32))
        Assign(mulB, sc.y0.state.extended(to: 32))
        go(.test)
      }),
      (state: .test, body: Statements {
        Assign(mulA, sc.mRsqrt.state.extended(to: 32))
        Assign(mulB, product.state[61, 30])  // y0^2 >> 30 < 2^31
        go(.newton)
      }),
      (state: .newton, body: Statements {
        Assign(mulA, sc.y0.state.extended(to: 32))
        Assign(mulB, correction[31, 0])
        go(.rsqrtScale)
      }),
      (state: .rsqrtScale, body: Statements {
        Assign(normIn, y1.extended(to: normBits))
        Assign(normExponent, sc.rsqrtBase.state)
        Assign(sc.rsqrtMantissa.next, normScale.mantissa)
        Assign(sc.rsqrtExponent.next, normScale.exponent)
        go(.rmsMultiply)
      }),
      (state: .rmsMultiply, body: Statements {
        Assign(mulA, sqrtMantissa.state)
        Assign(mulB, sc.rsqrtMantissa.state)
        go(.rms)
      }),
      (state: .rms, body: Statements {
        Assign(normIn, product.state.extended(to: normBits))
        Assign(normExponent, sqrtExponentWide + sc.rsqrtExponent.state)
        Assign(sc.rMantissa.next, normScale.mantissa)
        Assign(sc.rExponent.next, normScale.exponent)
        Assign(applyMantissa.next, normScale.mantissa)
        Assign(applyExponent.next, normScale.exponent)
        If(mode.state) {
          go(.maxScale)
        }.Else {
          Assign(sc.outMantissa.next, .zeros(.uint(32)))
          Assign(sc.outExponent.next, .zeros(expType))
          enterOutput()
        }
      }),
      (state: .maxScale, body: Statements {
        Assign(normIn, maxMagnitude.state.extended(to: normBits))
        Assign(sc.maxMantissa.next, normScale.mantissa)
        Assign(sc.maxExponent.next, normScale.exponent)
        Assign(sc.remainder.next, literal32(UInt32(Int32.max)))  // (2^63 - 1) >> 32
        Assign(sc.quotient.next, .zeros(.uint(32)))
        Assign(sc.divCount.next, .zeros(.uint(5)))
        If(maxIsZero) {
          // An all-zero vector: q = 0 and a zero output scale.
          Assign(applyMantissa.next, .zeros(.uint(32)))
          Assign(applyExponent.next, .zeros(expType))
          Assign(sc.outMantissa.next, .zeros(.uint(32)))
          Assign(sc.outExponent.next, .zeros(expType))
          enterOutput()
        }.Else {
          go(.divide)
        }
      }),
      (state: .divide, body: Statements {
        Assign(sc.remainder.next, remainderNext[31, 0])
        Assign(sc.quotient.next, .concat([sc.quotient.state[30, 0], fits]))
        Assign(sc.divCount.next, sc.divCount.state + .literal(1, .uint(5)))
        If(sc.divCount.state.eq(31)) { go(.toInt8Multiply) }
      }),
      (state: .toInt8Multiply, body: Statements {
        // The quotient lies in [2^31, 2^32): already a normalized mantissa.
        Assign(mulA, literal32(scale127.mantissa))
        Assign(mulB, sc.quotient.state)
        go(.toInt8)
      }),
      (state: .toInt8, body: Statements {
        // scale127 * (quotient, -63 - maxExponent)
        Assign(normIn, product.state.extended(to: normBits))
        Assign(normExponent, exponent(scale127.exponent - 63) - sc.maxExponent.state)
        Assign(applyMantissa.next, normScale.mantissa)
        Assign(applyExponent.next, normScale.exponent)
        Assign(mulA, betaMantissa.state)
        Assign(mulB, sc.rMantissa.state)
        go(.outScale1)
      }),
      (state: .outScale1, body: Statements {
        Assign(normIn, product.state.extended(to: normBits))
        Assign(normExponent, betaExponentWide + sc.rExponent.state)
        Assign(sc.outMantissa.next, normScale.mantissa)
        Assign(sc.outExponent.next, normScale.exponent)
        go(.outScale2Multiply)
      }),
      (state: .outScale2Multiply, body: Statements {
        Assign(mulA, sc.outMantissa.state)
        Assign(mulB, sc.maxMantissa.state)
        go(.outScale2)
      }),
      (state: .outScale2, body: Statements {
        Assign(normIn, product.state.extended(to: normBits))
        Assign(normExponent, sc.outExponent.state + sc.maxExponent.state)
        Assign(sc.outMantissa.next, normScale.mantissa)
        Assign(sc.outExponent.next, normScale.exponent)
        go(.outScale3Multiply)
      }),
      (state: .outScale3Multiply, body: Statements {
        Assign(mulA, sc.outMantissa.state)
        Assign(mulB, literal32(inverse127.mantissa))
        go(.outScale3)
      }),
      (state: .outScale3, body: Statements {
        Assign(normIn, product.state.extended(to: normBits))
        Assign(normExponent, sc.outExponent.state - exponent(-inverse127.exponent))
        Assign(sc.outMantissa.next, normScale.mantissa)
        Assign(sc.outExponent.next, normScale.exponent)
        enterOutput()
      }),
      (state: .output, body: Statements {
        If(issue) {
          Assign(readAddress.next, readAddress.state + .literal(1, .uint(addressBits)))
          If(readAddress.state.eq(lastAddress.state)) { Assign(issuing.next, .low) }
        }
        If(finish) {
          Assign(first.next, .high)
          go(.input)
        }
      }),
    ]

    m.comb {
      Assign(product.next, productNext)
      Assign(mulA, .zeros(.uint(32)))
      Assign(mulB, .zeros(.uint(32)))
      Assign(normIn, .zeros(.uint(normBits)))
      Assign(normExponent, .zeros(expType))
      phase.transitions(phaseCases, default: Statements { go(.input) })
    }
    m.assertLegal("PhaseLegal", phase.current, Phase.self)

    // The second-pass pipeline; the lanes hold stages a and out.
    m.comb {
      If(advance) {
        Assign(readData.next, memory.read(readAddress.state))
        Assign(rValid.next, issue)
        Assign(rLast.next, readAddress.state.eq(lastAddress.state))
        Assign(aValid.next, rValid.state)
        Assign(aLast.next, rLast.state)
        Assign(outValid.next, aValid.state)
        Assign(outLast.next, aLast.state)
      }
    }

    // int8 outputs: the scaled element clamped to [-128, 127].
    let quantized: [Expr] = (0..<lanes).map { i in
      let r = io.yData[32 * i + 31, 32 * i].asSigned
      return m.wire(
        "q_\(i)",
        .mux(r.gt(.literal(127, .sint(32))), .literal(127, .uint(8)),
             .mux(r.lt(.literal(-128, .sint(32))), .literal(128, .uint(8)), io.yData[32 * i + 7, 32 * i])))
    }
    m.assign(io.yValid, outValid.state)
    m.assign(io.yLast, outLast.state)
    m.assign(io.qData, .concat(quantized.reversed()))
    m.assign(io.scaleMantissa, sc.outMantissa.state)
    m.assign(io.scaleExponent, sc.outExponent.state)
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
