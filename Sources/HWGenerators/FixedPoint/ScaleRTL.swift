import HWDSL
import HWSpec

/// The `Scale` arithmetic (Sources/HWSpec/Numerics.swift, docs/numerics.md)
/// as DSL logic, written once for the norm and rescale units: the normalizer
/// behind every `Scale(integer:exponent:)` the norm unit computes, and
/// `Scale.apply` split into its per-scale controls and its per-element back
/// half. The DSL shifts by constants only, so a shift by a signal is one 2:1
/// mux stage per bit of the amount (`shiftRight`).
enum ScaleRTL {
  /// `value >> amount` (logical) for an unsigned value and an unsigned amount
  /// signal; a distance of the whole width or more gives zero.
  static func shiftRight(_ m: ModuleBuilder, _ name: String, _ value: Expr, by amount: Expr) -> Expr {
    precondition(!value.signed, "shiftRight shifts unsigned values")
    var stage = value
    for k in 0..<amount.width {
      let distance = 1 << k
      let shifted: Expr = distance >= value.width ? .zeros(value.type) : stage.shiftRight(distance)
      stage = m.wire("\(name)_by\(distance)", .mux(amount[k], shifted, stage))
    }
    return stage
  }

  /// A value shifted left until its top bit is set, and the shift: the
  /// leading-zero count. The count comes from a tree over the value (padded
  /// with zeros below to a power of two): level k holds, for each group of
  /// 2^k bits, whether it is zero and its own count, combined from its two
  /// halves (the upper half's count, or all ones on top of the lower half's
  /// when the upper half is zero); the shift is then one 2:1 mux stage per
  /// bit of the count. Depth grows with log2 of the width, where testing and
  /// shifting the top bits stage by stage put every zero test behind the
  /// previous shift. A zero value comes out as zero (check it separately).
  struct Normalized {
    let leadingZeros: Expr
    let shifted: Expr  // the value's width, top bit set unless the value is zero
    let isZero: Expr  // the tree's root: the whole value is zero
  }

  static func normalize(_ m: ModuleBuilder, _ name: String, _ value: Expr) -> Normalized {
    let w = value.width
    precondition(w >= 2 && !value.signed)
    let levels = bitsToRepresent(w - 1)
    let padded = 1 << levels
    // Level 0: one group a bit, zero where the bit is clear; no count bits yet.
    var zero = m.wire(
      "\(name)_lz_zero_l0", ~(padded == w ? value : .concat([value, .zeros(.uint(padded - w))])),
      comment: "bit i: bit i of the value, padded below, is zero")
    var count: Expr? = nil
    for k in 1...levels {
      let groups = padded >> k
      var zeros: [Expr] = []
      var counts: [Expr] = []
      for g in (0..<groups).reversed() {
        let upperZero = zero[2 * g + 1], lowerZero = zero[2 * g]
        zeros.append(upperZero && lowerZero)
        guard let c = count else {
          counts.append(upperZero)
          continue
        }
        let upper = c[(2 * g + 2) * (k - 1) - 1, (2 * g + 1) * (k - 1)]
        let lower = c[(2 * g + 1) * (k - 1) - 1, 2 * g * (k - 1)]
        counts.append(.mux(upperZero, .concat([.high, lower]), .concat([.low, upper])))
      }
      let comment = k == 1 ? "group g of 2^k bits: all zero" : nil
      let countComment = k == 1 ? "group g: its leading zeros, k bits at [k*g +: k]" : nil
      zero = k < levels
        ? m.wire("\(name)_lz_zero_l\(k)", .concat(zeros), comment: comment)
        : m.wire("\(name)_zero", .concat(zeros), comment: "the value is zero")
      count = m.wire("\(name)_lz_count_l\(k)", .concat(counts), comment: countComment)
    }
    let leadingZeros = m.wire("\(name)_leading_zeros", count!)
    var stage = value
    for k in (0..<levels).reversed() {
      let distance = 1 << k
      let shifted: Expr = distance >= w ? .zeros(value.type) : stage.shiftLeft(distance)
      stage = m.wire("\(name)_by\(distance)", .mux(leadingZeros[k], shifted, stage))
    }
    return Normalized(leadingZeros: leadingZeros, shifted: stage, isZero: zero)
  }

  /// `Scale(integer: value, exponent: exponent)` from the normalized value
  /// (which must be below 2^64): the top 32 bits rounded half up by the next
  /// one (exact when the value has at most 32 bits: the bits below are zero),
  /// renormalized when the rounding carries out, and the exponent moved by
  /// `bits - 32` = `width - 32 - leadingZeros`. Zero gives `Scale.zero`.
  static func scale(
    _ m: ModuleBuilder, _ name: String, _ n: Normalized, exponent: Expr, isZero: Expr
  ) -> (mantissa: Expr, exponent: Expr) {
    let e = NormUnitConfig.scaleExponentBits
    let w = n.shifted.width
    precondition(exponent.type == .sint(e) && w >= 34)
    let rounded = m.wire(
      "\(name)_rounded", Expr.concat([.low, n.shifted[w - 1, w - 32]]) + n.shifted[w - 33].extended(to: 33))
    NormDatapath.discard(m, "\(name)_dropped", n.shifted[w - 34, 0])
    let carry = m.wire("\(name)_carry", rounded[32], comment: "all ones rounded up to 2^32")
    let mantissa = m.wire(
      "\(name)_mantissa",
      .mux(isZero, .zeros(.uint(32)), .mux(carry, .literal(1 << 31, .uint(32)), rounded[31, 0])))
    let lz = n.leadingZeros
    let moved = m.wire(
      "\(name)_moved",
      Expr.concat([.zeros(.uint(e - 1)), carry]).asSigned + .literal(w - 32, .sint(e))
        - Expr.concat([.zeros(.uint(e - lz.width)), lz]).asSigned)
    let exponentOut = m.wire("\(name)_exponent", .mux(isZero, .zeros(.sint(e)), exponent + moved))
    return (mantissa, exponentOut)
  }

  /// How `Scale.apply` treats every input with one scale, decided once from
  /// the scale: for a non-zero scale and input the product P = |x| * mantissa
  /// is at least 2^31, so an exponent >= 0 always saturates; otherwise the
  /// result is round(P / 2^shift) with shift = -exponent, taken as
  /// (P >> (shift - 1) + 1) >> 1. `shift - 1` = ~exponent, capped at 64
  /// (every P is below 2^64, so 64 already gives zero).
  static func applyControls(
    _ m: ModuleBuilder, _ name: String, mantissa: Expr, exponent: Expr
  ) -> (shift: Expr, saturate: Expr) {
    precondition(exponent.signed)
    let negative = exponent.msb
    let inverted = m.wire("\(name)_exponent_inverted", ~exponent.asUnsigned, comment: "-exponent - 1")
    let shift = m.wire(
      "\(name)_shift",
      .mux(negative, .mux(inverted.gt(.literal(64, inverted.type)), .literal(64, .uint(7)), inverted[6, 0]), .zeros(.uint(7))),
      comment: "-exponent - 1, at most 64")
    let saturate = m.wire("\(name)_saturate", !negative && mantissa.ne(0), comment: "exponent >= 0: every non-zero input saturates")
    return (shift, saturate)
  }

  /// The back half of `Scale.apply`: from P = |x| * mantissa (unsigned), the
  /// rounded quotient (P >> shift + 1) >> 1, clamped to 2^31 - 1 (or 2^31 for
  /// a negative x), forced to the limit by `saturate`, signed, and zero for a
  /// zero x.
  static func applyResult(
    _ m: ModuleBuilder, _ name: String, product: Expr, shift: Expr, saturate: Expr, negative: Expr, nonzero: Expr
  ) -> Expr {
    let w = product.width
    precondition(!product.signed && w >= 33)
    let shifted = shiftRight(m, "\(name)_shift", product, by: shift)
    let rounded = m.wire(
      "\(name)_rounded", (shifted.extended(to: w + 1) + .literal(1, .uint(w + 1))).shiftRight(1),
      comment: "half rounds away from zero: magnitudes round half up")
    let limitWide = Expr.mux(negative, .literal(1 << 31, .uint(w + 1)), .literal(Int(Int32.max), .uint(w + 1)))
    let over = m.wire("\(name)_over", saturate || rounded.gt(limitWide))
    let limit = Expr.mux(negative, .literal(1 << 31, .uint(32)), .literal(Int(Int32.max), .uint(32)))
    let magnitude = m.wire("\(name)_magnitude", .mux(over, limit, rounded[31, 0]).asSigned)
    return m.wire("\(name)_value", .mux(nonzero, .mux(negative, -magnitude, magnitude), .zeros(.sint(32))))
  }
}
