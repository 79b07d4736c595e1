/// A dense ternary matrix, row-major, values in {-1, 0, +1}.
public struct TernaryMatrix: Hashable, Sendable {
  public let rows: Int
  public let cols: Int
  public let values: [Int8]

  public init(rows: Int, cols: Int, values: [Int8]) {
    precondition(rows >= 1 && cols >= 1 && values.count == rows * cols, "matrix shape and value count disagree")
    precondition(values.allSatisfy { $0 >= -1 && $0 <= 1 }, "ternary values must be -1, 0 or +1")
    self.rows = rows
    self.cols = cols
    self.values = values
  }

  public init(rows: Int, cols: Int, repeating value: Int8) {
    self.init(rows: rows, cols: cols, values: [Int8](repeating: value, count: rows * cols))
  }

  public subscript(row: Int, col: Int) -> Int8 { values[row * cols + col] }
}

/// How a mat-vec travels through the core's streams (see `TernaryCoreConfig`).
///
/// Rows are processed in groups of `lanes`, each group as `ceil(cols /
/// laneWidth)` beats; the last beat of a group carries `last`. Rows and
/// columns past the matrix are padded with zero weights and zero activations,
/// so any shape runs on any core, and padded lanes' results are dropped.
///
/// Weight beat, W = laneWidth: lane r holds bits `[2W*r +: 2W]`; inside it,
/// bit j is weight j's non-zero bit and bit W+j its negative bit (the two
/// bits of its `TernaryEncoding` code).
///
/// Activation beat: eight W-bit planes, plane b at bits `[W*b +: W]`; bit j of
/// plane b is bit b of activation j (two's complement, so plane 7 is the sign).
/// Whatever writes the activation buffer (the quantizer) writes this layout;
/// in hardware the transposition is only wiring.
public struct TernaryCoreLayout: Sendable {
  public let config: TernaryCoreConfig

  public init(_ config: TernaryCoreConfig) { self.config = config }

  public var weightWordsPerBeat: Int { (config.weightBeatBits + 31) / 32 }
  public var activationWordsPerBeat: Int { (config.activationBeatBits + 31) / 32 }
  public var resultWordsPerBeat: Int { (config.resultBeatBits + 31) / 32 }

  public func rowGroups(rows: Int) -> Int { (rows + config.lanes - 1) / config.lanes }
  public func beatsPerGroup(cols: Int) -> Int { (cols + config.laneWidth - 1) / config.laneWidth }

  /// All weight beats of `matrix`, group by group, as 32-bit little-endian words.
  public func weightBeats(_ matrix: TernaryMatrix) -> [UInt32] {
    let groups = rowGroups(rows: matrix.rows)
    let chunks = beatsPerGroup(cols: matrix.cols)
    let words = weightWordsPerBeat
    var out = [UInt32](repeating: 0, count: groups * chunks * words)
    let w = config.laneWidth
    matrix.values.withUnsafeBufferPointer { values in
      out.withUnsafeMutableBufferPointer { out in
        for row in 0..<matrix.rows {
          let (g, lane) = row.quotientAndRemainder(dividingBy: config.lanes)
          let rowValues = values.baseAddress! + row * matrix.cols
          for c in 0..<chunks {
            let beat = out.baseAddress! + (g * chunks + c) * words
            let laneBase = 2 * w * lane
            for j in 0..<min(w, matrix.cols - c * w) {
              let v = rowValues[c * w + j]
              if v == 0 { continue }
              let nonZero = laneBase + j
              beat[nonZero >> 5] |= 1 << UInt32(nonZero & 31)
              if v < 0 {
                let negative = nonZero + w
                beat[negative >> 5] |= 1 << UInt32(negative & 31)
              }
            }
          }
        }
      }
    }
    return out
  }

  /// The activation beats of one row group (the same for every group).
  public func activationBeats(_ activations: [Int8]) -> [UInt32] {
    let chunks = beatsPerGroup(cols: activations.count)
    let words = activationWordsPerBeat
    let w = config.laneWidth
    var out = [UInt32](repeating: 0, count: chunks * words)
    for (col, a) in activations.enumerated() {
      let base = (col / w) * words
      let bits = UInt32(UInt8(bitPattern: a))
      for b in 0..<ActivationFormat.bits where (bits >> UInt32(b)) & 1 == 1 {
        let bit = b * w + col % w
        out[base + bit / 32] |= 1 << UInt32(bit % 32)
      }
    }
    return out
  }

  /// The `lanes` signed accumulator values of one result beat.
  public func decodeResult(_ words: UnsafeBufferPointer<UInt32>) -> [Int64] {
    let width = config.accumulatorWidth
    return (0..<config.lanes).map { lane in
      var value: UInt64 = 0
      for b in 0..<width {
        let bit = lane * width + b
        value |= UInt64((words[bit / 32] >> UInt32(bit % 32)) & 1) << UInt64(b)
      }
      // Sign-extend from `width` bits.
      let shift = UInt64(64 - width)
      return Int64(bitPattern: value << shift) >> Int64(shift)
    }
  }
}
