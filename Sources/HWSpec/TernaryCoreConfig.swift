/// Parameters of the ternary accumulate-only matrix core. One value feeds the
/// generator, the golden model and the testbench.
public struct TernaryCoreConfig: Hashable, Sendable, Codable, CustomStringConvertible {
  /// Output rows computed in parallel.
  public var lanes: Int
  /// Packed ternary weights each lane consumes per cycle.
  public var laneWidth: Int
  /// Longest dot product the accumulators must hold without overflow. The
  /// default, 11264 inputs, covers every projection of every preset with
  /// margin: the longest reduction is the 2.7B down projection over I = 6912.
  public var maxInputs: Int
  /// How each lane reduces its `laneWidth` ternary products.
  public var reduction: Reduction

  /// The two lane datapaths. Both are multiplier-free and bit-exact; they
  /// differ in logic shape and in how fast Verilator simulates them.
  public enum Reduction: String, Hashable, Sendable, Codable, CaseIterable {
    /// Per bit plane b of the (sign-adjusted) activations, one popcount of
    /// the non-zero weights: sum = sum_b 2^b * popcount(nz & (A_b ^ neg))
    /// (plane 7 weighs -128) + popcount(nz & neg). Compressor trees on an FPGA.
    case popcount
    /// A 9-bit ternary product per weight (a, -a or 0) and a balanced adder tree.
    case adderTree = "adder-tree"
  }

  public static let defaultLanes = 16
  public static let defaultLaneWidth = 64
  public static let defaultMaxInputs = 11264

  /// Limits past which the generated RTL is unusable: the weight port alone
  /// is `2 * lanes * laneWidth` bits wide, and no FPGA routes more than a few
  /// tens of thousands of bits into one core per cycle.
  public static let lanesRange = 1...256
  public static let laneWidthRange = 1...1024
  public static let maxWeightsPerCycle = 16384
  public static let maxInputsRange = 1...(1 << 24)

  public init(
    lanes: Int = defaultLanes, laneWidth: Int = defaultLaneWidth, maxInputs: Int = defaultMaxInputs,
    reduction: Reduction = .popcount
  ) {
    self.lanes = lanes
    self.laneWidth = laneWidth
    self.maxInputs = maxInputs
    self.reduction = reduction
  }

  public struct Invalid: Error, CustomStringConvertible {
    public let description: String
  }

  /// Throws one line saying what is wrong and what is allowed.
  public func validate() throws {
    guard Self.lanesRange.contains(lanes) else {
      throw Invalid(description: "lanes must be between \(Self.lanesRange.lowerBound) and \(Self.lanesRange.upperBound), got \(lanes)")
    }
    guard Self.laneWidthRange.contains(laneWidth) else {
      throw Invalid(description: "lane width must be between \(Self.laneWidthRange.lowerBound) and \(Self.laneWidthRange.upperBound), got \(laneWidth)")
    }
    guard lanes * laneWidth <= Self.maxWeightsPerCycle else {
      throw Invalid(description: "lanes x lane width is \(lanes * laneWidth) weights per cycle; at most \(Self.maxWeightsPerCycle) make usable RTL")
    }
    guard Self.maxInputsRange.contains(maxInputs) else {
      throw Invalid(description: "max inputs must be between 1 and \(Self.maxInputsRange.upperBound), got \(maxInputs)")
    }
  }

  public var weightsPerCycle: Int { lanes * laneWidth }
  /// Bits of one weight beat: per lane (lane 0 lowest) a non-zero plane and a negative plane.
  public var weightBeatBits: Int { lanes * laneWidth * TernaryEncoding.bitsPerWeight }
  /// Bits of one activation beat: eight `laneWidth`-bit planes, bit 0's plane lowest.
  public var activationBeatBits: Int { laneWidth * ActivationFormat.bits }
  /// Width of one lane's per-beat partial sum: 9-bit products plus one bit per
  /// level of a balanced adder tree (>= the exact bound of 128 * laneWidth).
  public var partialSumWidth: Int {
    let levels = laneWidth == 1 ? 0 : Int.bitWidth - (laneWidth - 1).leadingZeroBitCount
    return ActivationFormat.bits + 1 + levels
  }
  /// Width of each accumulator and result.
  public var accumulatorWidth: Int { signedAccumulatorWidth(terms: max(maxInputs, laneWidth)) }
  /// Bits of one result beat: `lanes` accumulators, lane 0 lowest.
  public var resultBeatBits: Int { lanes * accumulatorWidth }

  public var description: String {
    "lanes \(lanes) x laneWidth \(laneWidth), \(reduction.rawValue) lanes, \(accumulatorWidth)-bit accumulators"
  }
}
