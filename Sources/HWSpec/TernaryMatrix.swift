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

/// How a mat-vec travels through the core's streams (see `TernaryCoreConfig`):
/// rows are processed in groups of `lanes`, each group as `ceil(cols /
/// laneWidth)` beats; the last beat of a group carries `last`. Rows and
/// columns past the matrix are padded with zero weights and zero activations,
/// so any shape runs on any core, and padded lanes' results are dropped.
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
    for g in 0..<groups {
      for c in 0..<chunks {
        let base = (g * chunks + c) * words
        for lane in 0..<config.lanes {
          let row = g * config.lanes + lane
          guard row < matrix.rows else { continue }
          for j in 0..<w {
            let col = c * w + j
            guard col < matrix.cols else { break }
            let code = UInt32(TernaryEncoding.encode(matrix[row, col]))
            let bit = (lane * w + j) * TernaryEncoding.bitsPerWeight
            out[base + bit / 32] |= code << UInt32(bit % 32)
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
    var out = [UInt32](repeating: 0, count: chunks * words)
    for (col, a) in activations.enumerated() {
      let c = col / config.laneWidth
      let bit = (col % config.laneWidth) * ActivationFormat.bits
      out[c * words + bit / 32] |= UInt32(UInt8(bitPattern: a)) << UInt32(bit % 32)
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
