/// Parameters of the MLGRU unit: the element-wise datapath of the MLGRU token
/// mixer (sigmoid, lower bound, SiLU, the recurrence h = f * h + c with h kept
/// on chip for every layer) and of the GLU's SiLU(gate) * u. One value feeds
/// the generator, the testbench and the gate checks.
public struct MLGRUUnitConfig: Hashable, Sendable, Codable, CustomStringConvertible {
  /// Elements processed per cycle (one beat = `lanes` Q15.16 elements).
  public var lanes: Int
  /// Layers whose hidden state h the on-chip memory holds (32: the 2.7B model).
  public var maxLayers: Int
  /// Longest vector (2560: the 2.7B model's D; the accelerator's GLU gates I).
  public var maxHidden: Int
  /// h elements each layer holds, and the longest vector of an op on h (recur,
  /// recur-fresh, clear): the model's D. At most `maxHidden`; silu-mul takes up
  /// to `maxHidden`, so a unit that also gates the GLU's I keeps only D of h.
  public var stateLength: Int

  public static let defaultLanes = 16
  public static let defaultMaxLayers = 32
  public static let defaultMaxHidden = 2560

  /// Limits past which the RTL is unusable: a beat is `lanes` x 32 bits on
  /// three input ports, and the h memory is `maxLayers` x `maxHidden` words.
  public static let lanesRange = 1...256
  public static let maxLayersRange = 1...1024
  public static let maxHiddenRange = 1...65536
  public static let maxStateWords = 1 << 22  // 128 Mbit of h

  /// `stateLength` defaults to `maxHidden`.
  public init(
    lanes: Int = defaultLanes, maxLayers: Int = defaultMaxLayers, maxHidden: Int = defaultMaxHidden,
    stateLength: Int? = nil
  ) {
    self.lanes = lanes
    self.maxLayers = maxLayers
    self.maxHidden = maxHidden
    self.stateLength = stateLength ?? maxHidden
  }

  public struct Invalid: Error, CustomStringConvertible {
    public let description: String
  }

  /// Throws one line saying what is wrong and what is allowed.
  public func validate() throws {
    guard Self.lanesRange.contains(lanes) else {
      throw Invalid(description: "lanes must be between \(Self.lanesRange.lowerBound) and \(Self.lanesRange.upperBound), got \(lanes)")
    }
    guard Self.maxLayersRange.contains(maxLayers) else {
      throw Invalid(description: "max layers must be between \(Self.maxLayersRange.lowerBound) and \(Self.maxLayersRange.upperBound), got \(maxLayers)")
    }
    guard Self.maxHiddenRange.contains(maxHidden) else {
      throw Invalid(description: "max hidden must be between \(Self.maxHiddenRange.lowerBound) and \(Self.maxHiddenRange.upperBound), got \(maxHidden)")
    }
    guard (1...maxHidden).contains(stateLength) else {
      throw Invalid(description: "the h length must be between 1 and max hidden (\(maxHidden)), got \(stateLength)")
    }
    guard stateDepth * lanes <= Self.maxStateWords else {
      throw Invalid(description: "the h memory would hold \(stateDepth * lanes) words (\(maxLayers) layers x \(beatsPerLayer) beats x \(lanes) lanes); at most \(Self.maxStateWords) fit on chip")
    }
  }

  /// Bits of one element (Q15.16).
  public static let elementBits = 32
  /// Bits of one beat on each data port: `lanes` elements, lane 0 lowest.
  public var beatBits: Int { lanes * Self.elementBits }
  /// Beats of the longest op on h, and the h words each layer owns per lane.
  public var beatsPerLayer: Int { (stateLength + lanes - 1) / lanes }
  /// Whether ops on h are shorter than the longest vector (so the unit checks their length).
  public var shortState: Bool { stateLength < maxHidden }
  /// Depth of the h memory: every layer's h, beat by beat, layer l at [l * beatsPerLayer ..< (l + 1) * beatsPerLayer).
  public var stateDepth: Int { maxLayers * beatsPerLayer }
  /// Words in each lane's bank of the h memory: `stateDepth`, at least 2 (so
  /// that an address is at least one bit, as a one-word array would not need).
  public var memoryDepth: Int { Swift.max(2, stateDepth) }
  /// Width of an h memory address.
  public var addressWidth: Int { Self.bits(memoryDepth - 1) }
  /// Width of the layer index port.
  public var layerWidth: Int { Swift.max(1, Self.bits(maxLayers - 1)) }
  /// Width of the vector length port (0...maxHidden; 0 and larger values are protocol errors).
  public var lengthWidth: Int { Swift.max(1, Self.bits(maxHidden)) }

  static func bits(_ value: Int) -> Int { value <= 0 ? 0 : Int.bitWidth - value.leadingZeroBitCount }

  public var description: String {
    "lanes \(lanes), \(maxLayers) layers x \(stateLength) h elements"
      + (shortState ? ", vectors up to \(maxHidden)" : "")
  }
}

/// The operations of the MLGRU unit, as encoded on its `in_op_i` port.
public enum MLGRUOp: Int, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
  /// h = recur(yf, yi, lb, h_prev) with h_prev from the layer's on-chip h;
  /// h is written back and streamed out.
  case recur = 0
  /// The first token of a sequence: like `recur` with h_prev = 0 (the memory
  /// is not read), so h never needs clearing between sequences.
  case recurFresh = 1
  /// o = SiLU(a) * b, element-wise; h untouched.
  case siluMul = 2
  /// h = 0 for the vector's elements of the layer; the beats' data is ignored
  /// and zero beats are streamed out.
  case clear = 3

  /// Bits of the op code port.
  public static let bits = 2

  public var description: String {
    switch self {
    case .recur: return "recur"
    case .recurFresh: return "recur-fresh"
    case .siluMul: return "silu-mul"
    case .clear: return "clear"
    }
  }

  /// Whether the op reads the layer's h from memory.
  public var readsState: Bool { self == .recur }
  /// Whether the op writes the layer's h.
  public var writesState: Bool { self != .siluMul }
}
