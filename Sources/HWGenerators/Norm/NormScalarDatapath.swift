import HWDSL
import HWSpec

/// The norm unit's scalar side, used once a vector: one shared 32 x 32
/// multiplier, one normalizer that turns a value into a `Scale`, the
/// registers of `NormScalarRegisters`, the rsqrt's combinational steps and the
/// restoring divider. `NormSequencer` drives the multiplier and normalizer
/// inputs phase by phase.
struct NormScalarDatapath {
  let product: ModuleBuilder.RegisterHandle
  let mulA: Expr
  let mulB: Expr
  let productNext: Expr
  let normIn: Expr
  let normExponent: Expr
  let normScale: (mantissa: Expr, exponent: Expr)
  let registers: NormScalarRegisters
  let rsqrt: NormRsqrtSteps
  let divider: NormDividerStep
  let sqrtExponentWide: Expr
  let betaExponentWide: Expr
  let maxIsZero: Expr

  init(_ m: ModuleBuilder, _ config: NormUnitConfig, input: NormFirstPass) {
    let expBits = NormUnitConfig.scaleExponentBits
    product = m.register(
      "scalar_product", .uint(64), reset: .none, comment: "the shared multiplier's last product")
    mulA = m.wire("mul_a", .uint(32))
    mulB = m.wire("mul_b", .uint(32))
    productNext = m.wire("scalar_product_next", mulA.times(mulB))
    let normBits = config.normalizerBits
    normIn = m.wire("norm_in", .uint(normBits), comment: "value to turn into a scale (or, for rsqrt, into m)")
    normExponent = m.wire("norm_exponent", .sint(expBits))
    let normalized = ScaleRTL.normalize(m, "norm", normIn)
    normScale = ScaleRTL.scale(m, "norm_scale", normalized, exponent: normExponent, isZero: normalized.isZero)

    registers = NormScalarRegisters(m, config)
    rsqrt = NormRsqrtSteps(m, normalized: normalized, registers: registers, product: product.state)
    divider = NormDividerStep(m, registers: registers)
    sqrtExponentWide = m.wire("sqrt_len_exponent_wide", input.sqrtExponent.state.extended(to: expBits))
    betaExponentWide = m.wire("beta_exponent_wide", input.betaExponent.state.extended(to: expBits))
    maxIsZero = m.wire("max_is_zero", input.maxMagnitude.state.eq(0))
  }
}

/// `Norms.rsqrt`'s combinational steps: the even shift of v into m, the
/// result's exponent, the seed ROM and the Newton step's terms.
struct NormRsqrtSteps {
  let mFromNorm: Expr
  let baseExponentNext: Expr
  let seed: Expr
  let correction: Expr
  let y1: Expr

  init(
    _ m: ModuleBuilder, normalized: ScaleRTL.Normalized, registers sc: NormScalarRegisters, product: Expr
  ) {
    let expBits = NormUnitConfig.scaleExponentBits
    let expType = HWType.sint(expBits)
    // Norms.rsqrt's even shift. With W = normalizerBits (even) bits, v << lz has
    // its top bit set and v has W - lz bits: m keeps the top 31 for an odd
    // count (e = W - 31 - lz) and the top 30 for an even one (e = W - 30 - lz),
    // so e/2 = W/2 - 15 - ceil(lz / 2).
    let normBits = normalized.shifted.width
    let lz = normalized.leadingZeros
    let top = normBits - 1
    mFromNorm = m.wire(
      "rsqrt_m_next",
      .mux(lz[0], normalized.shifted[top, top - 30], Expr.concat([.low, normalized.shifted[top, top - 29]])))
    let halfShift = m.wire(
      "rsqrt_half_shift", (lz.extended(to: lz.width + 1) + .literal(1, .uint(lz.width + 1))).shiftRight(1),
      comment: "ceil(lz / 2)")
    let halfShiftWide = Expr.concat([.zeros(.uint(expBits - halfShift.width)), halfShift]).asSigned
    baseExponentNext = m.wire(
      "rsqrt_exponent_next", .literal(-45 - (normBits / 2 - 15), expType) + halfShiftWide,
      comment: "-45 - e/2 = \(-45 - (normBits / 2 - 15)) + ceil(lz / 2)")
    // The seed ROM: Norms.rsqrtSeeds, indexed by m >> 23.
    // m >= 2^29, so the index is at least 64; entries 0-63 are never read and hold 0.
    let seedIndex = m.wire("rsqrt_seed_index", sc.mRsqrt.state[30, 23])
    let seedTable = m.rom(
      "RsqrtSeedTable", .uint(31), entries: [Int](repeating: 0, count: 64) + Norms.rsqrtSeeds.map { Int($0) },
      comment: "Entry k (k >= 64): 1 / sqrt((k + 0.5) / 128) in Q2.30, the seed for m in [k, k + 1) * 2^23.")
    seed = m.wire("rsqrt_seed", reading: seedTable, at: seedIndex)
    // Newton: t = m y0^2 (Q2.30) is within 1% of 2^30, so 3 * 2^30 - t fits 32 bits.
    correction = m.wire("newton_correction", .literal(3 << 30, .uint(64)) - product.shiftRight(30))
    NormDatapath.discard(m, "newton_correction_high", correction[63, 32])
    y1 = m.wire("rsqrt_y1", product.shiftRight(31), comment: "y0 (3 - m y0^2) / 2, Q2.30")
  }
}

/// One step of the restoring divider behind 127 / M: one quotient bit a
/// cycle, every dividend bit below the top 31 a one (2^63 - 1).
struct NormDividerStep {
  let fits: Expr
  let remainderNext: Expr

  init(_ m: ModuleBuilder, registers sc: NormScalarRegisters) {
    let partial = m.wire("div_partial", .concat([sc.remainder.state, .high]))
    let divisor = m.wire("div_divisor", Expr.concat([.low, sc.maxMantissa.state]))
    fits = m.wire("div_fits", partial.ge(divisor))
    let difference = m.wire("div_difference", partial - divisor)
    remainderNext = m.wire("div_remainder_next", .mux(fits, difference, partial))
    NormDatapath.discard(m, "div_remainder_high", remainderNext[32])
  }
}
