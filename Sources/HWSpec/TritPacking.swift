/// How the accelerator's ternary weights lie in off-chip memory.
public enum WeightPacking: String, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
  /// 2 bits a weight: each core lane's (non-zero, negative) 64-bit plane pair
  /// (`TernaryEncoding`), so memory serves the core's beats as they are.
  case planes
  /// 1.6 bits a weight: five weights a byte in base 3 (`TritPacking`),
  /// unpacked on chip in front of the core (`weight_unpack`).
  case base3

  public var description: String { rawValue }

  /// Bits a weight takes in memory (before a matrix's padding to whole memory beats).
  public var bitsPerWeight: Double {
    switch self {
    case .planes: return Double(TernaryEncoding.bitsPerWeight)
    case .base3: return 8 / Double(TritPacking.tritsPerByte)
    }
  }
}

/// Base-3 weight bytes: five ternary weights (trits) in one byte, 3^5 = 243 <= 256.
///
/// A weight w in {-1, 0, +1} is the digit d = w mod 3 (0 -> 0, +1 -> 1, -1 -> 2), and
/// trit i of a byte weighs 3^i:
///
///     byte = d0 + 3 d1 + 9 d2 + 27 d3 + 81 d4        (0 ... 242)
///
/// Bytes 243 to 255 are never written; the unpacker reads them as five zeros and
/// its `ReservedByte` assertion fires. A matrix is one trit stream in the core's
/// beat order -- per weight beat (row group g, 64-column word k), lane l's 64
/// weights, column 0 first -- so trit t of beat n is weight (g*lanes + l, 64k + j)
/// with t = n*lanes*64 + l*64 + j; byte b carries trits 5b ..< 5b+5. The stream is
/// padded with zero bytes to whole memory beats (`AcceleratorConfig.weightBeatBytes`,
/// port 0's slice lowest), and port p holds bytes `[p*P, (p+1)*P)` of every memory
/// beat, P its data bytes.
public enum TritPacking {
  public static let tritsPerByte = 5
  /// Codes below this are valid bytes.
  public static let codes = 243
  /// What digit i weighs in a byte: 3^i.
  public static let placeValues = [1, 3, 9, 27, 81]

  /// The digit of a weight given by its `TernaryEncoding` bits (non-zero, negative).
  public static func digit(nonZero: Bool, negative: Bool) -> Int { nonZero ? (negative ? 2 : 1) : 0 }

  /// The byte of five weights (each -1, 0 or +1), weight 0 in the lowest digit.
  public static func pack(_ weights: some Collection<Int8>) -> UInt8 {
    precondition(weights.count == tritsPerByte, "a base-3 byte holds \(tritsPerByte) weights, got \(weights.count)")
    var value = 0
    for (w, place) in zip(weights, placeValues) {
      precondition((-1...1).contains(w), "ternary weight out of range: \(w)")
      value += digit(nonZero: w != 0, negative: w < 0) * place
    }
    return UInt8(value)
  }

  /// The five weights of `byte`, weight 0 first; nil for a reserved byte (243 ... 255).
  public static func unpack(_ byte: UInt8) -> [Int8]? {
    guard Int(byte) < codes else { return nil }
    var value = Int(byte)
    return (0..<tritsPerByte).map { _ in
      defer { value /= 3 }
      return [0, 1, -1][value % 3]
    }
  }

  /// The byte's five weights as the core's two planes: bit i of `nonZero` and
  /// `negative` are weight i's `TernaryEncoding` bits 0 and 1. A reserved byte is
  /// five zeros.
  public static func planes(_ byte: UInt8) -> (nonZero: UInt8, negative: UInt8) {
    let weights = unpack(byte) ?? [Int8](repeating: 0, count: tritsPerByte)
    var nonZero: UInt8 = 0, negative: UInt8 = 0
    for (i, w) in weights.enumerated() {
      let code = TernaryEncoding.encode(w)
      nonZero |= (code & 1) << UInt8(i)
      negative |= (code >> 1) << UInt8(i)
    }
    return (nonZero, negative)
  }

  /// Packs a trit stream (each -1, 0 or +1), padding with zero weights to whole bytes.
  public static func pack(stream: [Int8]) -> [UInt8] {
    let bytes = (stream.count + tritsPerByte - 1) / tritsPerByte
    return (0..<bytes).map { b in
      let start = b * tritsPerByte
      let chunk = stream[start..<min(start + tritsPerByte, stream.count)]
      return pack(Array(chunk) + [Int8](repeating: 0, count: tritsPerByte - chunk.count))
    }
  }
}
