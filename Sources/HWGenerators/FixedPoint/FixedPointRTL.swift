import HWDSL
import HWSpec

/// The `Fixed` primitives (Sources/HWSpec/Numerics.swift, docs/numerics.md)
/// as DSL logic, written once for every unit: each function declares the
/// wires of one operator and returns its result, so a datapath reads like the
/// golden model it reproduces. The `Scale` operations are in `ScaleRTL`.
///
/// Users: `Fixed.mul`'s rounding and saturation in the MLGRU lane and sigmoid
/// and the norm lane's z; `Fixed.add` in the MLGRU lane and the vector unit's
/// residual adds; `magnitude` in the norm and rescale lanes and the sigmoid;
/// `clampToInt8` in the norm unit's quantize outputs.
///
/// Every declared bit is read by something (rounding reads the bits it drops
/// through its sticky term, saturation reads the bits above 31), so the
/// printed RTL has no partially unused signal for `verilator -Wall` to flag.
enum FixedPointRTL {
  static let word = HWType.sint(32)

  /// `Fixed.roundShift`: `p / 2^shift` rounded half away from zero, for a
  /// signed signal `p` (shift >= 2). Result `p.width - shift` bits. The caller
  /// guarantees one bit of headroom (a product of two signed values never
  /// reaches the top of its width), so the increment cannot wrap.
  ///
  /// With hi = floor(p / 2^s) and the dropped bits r: round up when r > half,
  /// or r == half and p >= 0. That is: the half bit and (p >= 0 or any bit
  /// below it) — a carry-in on hi, no full-width adder for a bias.
  static func roundShift(_ m: ModuleBuilder, _ name: String, _ p: Expr, shift: Int) -> Expr {
    precondition(shift >= 2 && p.signed && p.width > shift + 1)
    let width = p.width - shift
    let up = m.wire(
      "\(name)_up", p[shift - 1] && (!p.msb || p[shift - 2, 0].reduceOr()),
      comment: "round half away from zero")
    let high = m.wire("\(name)_hi", p[p.width - 1, shift].asSigned)
    return m.wire(name, high + Expr.concat([.zeros(.uint(width - 1)), up]).asSigned)
  }

  /// `Fixed.saturate`: a signed signal of 32 or more bits clamped to Int32.
  static func saturate(_ m: ModuleBuilder, _ name: String, _ v: Expr) -> Expr {
    precondition(v.signed && v.width >= 32)
    if v.width == 32 { return v }
    let top = v[v.width - 1, 31]
    let fits = m.wire("\(name)_fits", top.eq(0) || top.eq(.ones(top.type)), comment: "bits \(v.width - 1):31 all equal")
    let clamp = Expr.mux(v.msb, .literal(Int(Int32.min), word), .literal(Int(Int32.max), word))
    return m.wire(name, .mux(fits, v[31, 0].asSigned, clamp))
  }

  /// `Fixed.mul`'s back half: a registered or wired full product, rounded by
  /// 2^16 and saturated to Q15.16.
  static func productToFixed(_ m: ModuleBuilder, _ name: String, _ product: Expr) -> Expr {
    let rounded = roundShift(m, "\(name)_rnd", product, shift: Fixed.fractionBits)
    return saturate(m, name, rounded)
  }

  /// `Fixed.add`: the saturating sum of two Q15.16 signals.
  static func add(_ m: ModuleBuilder, _ name: String, _ a: Expr, _ b: Expr) -> Expr {
    precondition(a.type == word && b.type == word)
    let sum = m.wire("\(name)_sum", a.extended(to: 33) + b.extended(to: 33))
    return saturate(m, name, sum)
  }

  /// |x| of a signed value as an unsigned value of the same width (the most
  /// negative value's magnitude, 2^(w-1), fits): `Int64.magnitude` as
  /// `Norms.sumOfSquares` and `Scale.apply` take it.
  static func magnitude(_ m: ModuleBuilder, _ name: String, _ x: Expr) -> Expr {
    precondition(x.signed)
    return m.wire(name, .mux(x.msb, (-x).asUnsigned, x.asUnsigned))
  }

  /// `Norms.quantize`'s clamp: a signed 32-bit value (an element of
  /// `Scale.apply`'s output) to int8, `max(-128, min(127, r))`, as the 8-bit
  /// two's complement pattern. In range, the low byte is the value.
  static func clampToInt8(_ m: ModuleBuilder, _ name: String, _ value: Expr) -> Expr {
    precondition(value.width == 32)
    let r = value.asSigned
    return m.wire(
      name,
      .mux(r.gt(.literal(127, .sint(32))), .literal(127, .uint(8)),
           .mux(r.lt(.literal(-128, .sint(32))), .literal(128, .uint(8)), value[7, 0])))
  }

  /// `MLGRUGolden.oneMinus`: 1 - x in Q15.16, saturated.
  static func oneMinus(_ m: ModuleBuilder, _ name: String, _ x: Expr) -> Expr {
    precondition(x.type == word)
    let difference = m.wire("\(name)_diff", Expr.literal(Int(Fixed.one), .sint(33)) - x.extended(to: 33))
    return saturate(m, name, difference)
  }

  /// A datapath register that loads `value` when `enable` is high and holds
  /// otherwise; no reset (a valid bit elsewhere qualifies it).
  static func stage(_ m: ModuleBuilder, _ name: String, _ value: Expr, enable: Expr, comment: String? = nil) -> Expr {
    let r = m.register(name, value.type, reset: .none, comment: comment)
    m.assign(r.next, .mux(enable, value, r.state))
    return r.state
  }

  /// `value` (at stage `from`) delayed to stage `to` by registers named `name_s<k>`.
  static func delay(_ m: ModuleBuilder, _ name: String, _ value: Expr, from: Int, to: Int, enable: Expr) -> Expr {
    (from + 1...to).reduce(value) { v, s in stage(m, "\(name)_s\(s)", v, enable: enable) }
  }

  /// `x * constant` for an unsigned `x`, as a sum of shifted copies (no
  /// multiplier), in `width` bits. Terms shifted past the width are dropped:
  /// callers only use products that fit.
  static func timesConstant(_ x: Expr, _ constant: Int, width: Int) -> Expr {
    precondition(!x.signed && x.width <= width && constant >= 1)
    let wide = x.extended(to: width)
    let terms = (0..<width).filter { constant >> $0 & 1 == 1 }.map { $0 == 0 ? wide : wide.shiftLeft($0) }
    return terms.dropFirst().reduce(terms.first ?? .zeros(.uint(width))) { $0 + $1 }
  }
}
