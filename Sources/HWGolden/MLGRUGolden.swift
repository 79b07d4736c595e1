import HWSpec

/// The golden element functions of the MLGRU token mixer and the GLU, written
/// with the `Fixed` primitives: the executable specification the MLGRU unit's
/// RTL reproduces bit for bit, and what the whole-model golden model calls.
///
///     f  = sigmoid(yf)                      interpolated table (Fixed.sigmoid)
///     f  = lb + (1 - lb) * f                lower bound; layer 0 has lb = 0
///     c  = SiLU(yi) * (1 - f)
///     h  = f * h_prev + c
///     o  = SiLU(a) * b                      GLU: SiLU(gate) * u; MLGRU: SiLU(h) * g_norm(g)
///
/// Every product is `Fixed.mul` (rounded half away from zero, saturated),
/// every sum `Fixed.add` (saturated). `1 - x` saturates too: for the values
/// the model produces (lb in [0, 1), f in [0, 1]) it is exact, and for any
/// other Int32 it is defined instead of trapping.
public enum MLGRUGolden {
  /// 1 - x in Q15.16, saturated.
  @inline(__always)
  public static func oneMinus(_ x: Int32) -> Int32 { Fixed.sub(Fixed.one, x) }

  /// The forget gate with its lower bound: lb + (1 - lb) * sigmoid(yf).
  /// With lb = 0 (layer 0) this is sigmoid(yf) exactly: mul(one, s) = s and add(0, s) = s.
  @inline(__always)
  public static func forgetGate(yf: Int32, lb: Int32) -> Int32 {
    Fixed.add(lb, Fixed.mul(oneMinus(lb), Fixed.sigmoid(yf)))
  }

  /// One element of the recurrence: the new hidden state h.
  @inline(__always)
  public static func recur(yf: Int32, yi: Int32, lb: Int32, hPrev: Int32) -> Int32 {
    let f = forgetGate(yf: yf, lb: lb)
    let c = Fixed.mul(Fixed.silu(yi), oneMinus(f))
    return Fixed.add(Fixed.mul(f, hPrev), c)
  }

  /// SiLU(a) * b.
  @inline(__always)
  public static func siluMul(_ a: Int32, _ b: Int32) -> Int32 { Fixed.mul(Fixed.silu(a), b) }

  /// The recurrence over vectors of one length: the new h.
  public static func recur(yf: [Int32], yi: [Int32], lb: [Int32], hPrev: [Int32]) -> [Int32] {
    precondition(yf.count == yi.count && yf.count == lb.count && yf.count == hPrev.count, "recur: vector lengths differ")
    return (0..<yf.count).map { recur(yf: yf[$0], yi: yi[$0], lb: lb[$0], hPrev: hPrev[$0]) }
  }

  /// SiLU(a) * b over vectors of one length.
  public static func siluMul(_ a: [Int32], _ b: [Int32]) -> [Int32] {
    precondition(a.count == b.count, "siluMul: vector lengths differ")
    return (0..<a.count).map { siluMul(a[$0], b[$0]) }
  }
}
