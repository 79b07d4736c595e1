/// The 2-bit ternary weight code, shared by the packer, the golden model and
/// the core generator. It is the weight's value in 2-bit two's complement:
///
///     code  value
///     0b00    0
///     0b01   +1
///     0b11   -1
///     0b10    reserved: never produced by the packer; the core decodes it as 0
///
/// so bit 0 says "non-zero" and bit 1 says "negative". Weight `j` of a packed
/// word occupies bits `[2j+1:2j]`.
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

/// int8 activations: two's complement, -128...127, activation `j` of a packed
/// word at bits `[8j+7:8j]`.
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
