/// Parameters of the RMSNorm unit (`norm_unit`) and of the BitLinear rescale
/// datapath (`rescale_unit`). One value feeds the generators, the testbenches
/// and the tests.
public struct NormUnitConfig: Hashable, Sendable, Codable, CustomStringConvertible {
  /// Q15.16 elements per beat (and per cycle).
  public var lanes: Int
  /// Longest vector the unit normalizes; sizes the on-chip vector memory. The
  /// default covers the longest normalized vector of every preset, the 2.7B
  /// model's down-projection input (I = 6912).
  public var maxLength: Int
  /// Width of the signed accumulators the rescale unit takes: the ternary
  /// core's result layout (`TernaryCoreConfig.accumulatorWidth`, 22 bits).
  public var accumulatorWidth: Int

  public static let defaultLanes = 16
  public static let defaultMaxLength = 8192
  public static let defaultAccumulatorWidth = 22

  /// Past 64 lanes the vector memory is more than 2048 bits wide.
  public static let lanesRange = 1...64
  /// Up to 2^16 elements the sum of squares (each at most 2^46) stays below
  /// 2^62, so the 64-bit accumulator of `Norms.sumOfSquares` never wraps.
  public static let maxLengthRange = 1...(1 << 16)
  /// A magnitude of at most 2^31 keeps `Scale.apply`'s product below 2^63.
  public static let accumulatorWidthRange = 2...32

  /// Exponent widths (two's complement) of the scalar ports. The per-length
  /// `sqrtLength` lies near 2^-15 (exponents -23...-14 for n <= 2^16); any beta
  /// a checkpoint gives lies near 2^-38. With these widths every intermediate
  /// scale and the output scale fit `scaleExponentBits` without overflow.
  public static let sqrtLengthExponentBits = 8
  public static let betaExponentBits = 10
  public static let scaleExponentBits = 12

  public init(
    lanes: Int = defaultLanes, maxLength: Int = defaultMaxLength, accumulatorWidth: Int = defaultAccumulatorWidth
  ) {
    self.lanes = lanes
    self.maxLength = maxLength
    self.accumulatorWidth = accumulatorWidth
  }

  public struct Invalid: Error, CustomStringConvertible {
    public let description: String
  }

  /// Throws one line saying what is wrong and what is allowed.
  public func validate() throws {
    guard Self.lanesRange.contains(lanes) else {
      throw Invalid(description: "norm lanes must be between \(Self.lanesRange.lowerBound) and \(Self.lanesRange.upperBound), got \(lanes)")
    }
    guard Self.maxLengthRange.contains(maxLength) else {
      throw Invalid(description: "norm max length must be between 1 and \(Self.maxLengthRange.upperBound), got \(maxLength)")
    }
    guard Self.accumulatorWidthRange.contains(accumulatorWidth) else {
      throw Invalid(description: "rescale accumulator width must be between \(Self.accumulatorWidthRange.lowerBound) and \(Self.accumulatorWidthRange.upperBound) bits, got \(accumulatorWidth)")
    }
  }

  /// Words (beats) of the vector memory: one per beat of the longest vector.
  public var memoryDepth: Int { (maxLength + lanes - 1) / lanes }
  /// Bits of one Q15.16 beat.
  public var beatBits: Int { lanes * 32 }
  /// Bits of one int8 beat (quantize mode).
  public var int8BeatBits: Int { lanes * 8 }
  /// Bits of one accumulator beat into the rescale unit.
  public var accumulatorBeatBits: Int { lanes * accumulatorWidth }
  /// Width of the `length_i` port (and of the count of elements left in a
  /// vector); wide enough for `lanes + 1` too, so that "more than a beat
  /// left" is never a constant comparison.
  public var lengthBits: Int {
    let largest = Swift.max(maxLength, lanes + 1)
    return Int.bitWidth - largest.leadingZeroBitCount
  }
  /// Width of the exact sum of squares: each x^2 is at most 2^62 and a
  /// vector has at most `maxLength` elements (and a beat `lanes` of 64-bit
  /// squares); 76 bits by default, as `Norms.sumOfSquares` notes.
  public var sumOfSquaresBits: Int {
    let bits = { (v: Int) in Int.bitWidth - v.leadingZeroBitCount }
    return Swift.max(62 + bits(maxLength), 64 + bits(lanes - 1))
  }
  /// Width of v = ss + epsTerm and of the normalizer behind every scale: one
  /// bit over the wider addend, rounded up to even so that an even shift of v
  /// is an even leading-zero count's complement.
  public var normalizerBits: Int {
    let bits = Swift.max(sumOfSquaresBits, 64) + 1
    return bits + bits % 2
  }
  /// Beats of a vector of `length` elements.
  public func beats(length: Int) -> Int { (length + lanes - 1) / lanes }

  public var description: String {
    "norm lanes \(lanes), max length \(maxLength), \(accumulatorWidth)-bit rescale accumulators"
  }
}
