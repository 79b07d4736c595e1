/// The 2-bit ternary weight code, shared by the packer, the golden model and
/// the core generator. It is the weight's value in 2-bit two's complement,
/// bit 0 "non-zero" and bit 1 "negative":
///
///     code  value
///     0b00    0
///     0b01   +1
///     0b11   -1
///     0b10    reserved: never produced by the packer; the core reads it as 0
///
/// In a weight beat the two bits of a lane's `laneWidth` weights are stored as
/// two planes (see `TernaryCoreLayout`): all non-zero bits, then all negative
/// bits. That is still 2 bits a weight; the planes feed the core's popcounts
/// directly, with no per-weight unpacking.
public enum TernaryEncoding {
  public static let bitsPerWeight = 2

  public static func encode(_ weight: Int8) -> UInt8 {
    switch weight {
    case 0: return 0b00
    case 1: return 0b01
    case -1: return 0b11
    default: preconditionFailure("ternary weight out of range: \(weight)")
    }
  }

  public static func decode(_ code: UInt8) -> Int8 {
    switch code & 0b11 {
    case 0b01: return 1
    case 0b11: return -1
    default: return 0
    }
  }
}

/// int8 activations: two's complement, -128...127. A beat stores them as
/// eight bit planes (see `TernaryCoreLayout`).
public enum ActivationFormat {
  public static let bits = 8
  public static let min = -128
  public static let max = 127
  /// The largest magnitude an activation can contribute to a sum (|-128|).
  public static let maxMagnitude = 128
}

/// Width of a signed two's complement accumulator that holds any sum of
/// `terms` ternary products of int8 activations without overflow:
/// |sum| <= terms * 128, and the positive bound +terms*128 must fit too.
public func signedAccumulatorWidth(terms: Int) -> Int {
  precondition(terms >= 1)
  let bound = terms * ActivationFormat.maxMagnitude
  return (Int.bitWidth - bound.leadingZeroBitCount) + 1
}
