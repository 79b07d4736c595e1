/// SplitMix64: a tiny, fast, fully deterministic generator. Every workload in
/// hwgen is derived from one of these and a printed seed, on every platform.
public struct SeededRandom: RandomNumberGenerator, Sendable {
  public private(set) var state: UInt64

  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// True with probability `p`: always for p >= 1 (without drawing), else one draw as a
  /// 53-bit fraction below `p`. The testbenches' random valid, ready and hold.
  public mutating func chance(_ p: Double) -> Bool {
    p >= 1 || Double(next() >> 11) / Double(1 << 53) < p
  }

  /// A generator for a sub-stream, so adding draws to one part of a workload
  /// does not shift the values of another.
  public func fork(_ stream: UInt64) -> SeededRandom {
    var copy = SeededRandom(seed: state ^ (stream &* 0xD1B5_4A32_D192_ED03))
    _ = copy.next()
    return copy
  }
}
