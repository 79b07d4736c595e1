import Foundation

/// Absmean ternarization of a latent weight matrix, as the reference's
/// `weight_quant` (mmfreelm/ops/fusedbitnet.py) computes it on a Float32 tensor:
///
///     scale = 1.0 / w.abs().mean().clamp_(min=1e-5)
///     u     = (w * scale).round().clamp_(-1, 1)
///
/// so beta = max(mean |W|, 1e-5) and Wt = clamp(round(W * (1 / beta)), -1, 1),
/// with `torch.round` rounding half to even. Two choices where torch leaves
/// the result to its reduction order: the mean of |W| is summed in Double
/// (row by row, rows in order, so it does not depend on threads) and rounded
/// once to Float32 -- the correctly rounded mean, which torch's Float32
/// reduction approximates; and 1 / beta and W * (1 / beta) are Float32
/// operations, exactly as torch executes them. `PackedTernary.beta` is beta.
public enum Ternarize {
  /// The floor the reference clamps the absmean to.
  public static let minBeta: Float = 1e-5

  /// beta from the sum of |W| (in Double) over `count` weights.
  public static func beta(absSum: Double, count: Int) -> Float {
    max(Float(absSum / Double(count)), minBeta)
  }

  /// One weight: round half to even of `w * scale` (Float32), clamped to -1...1.
  @inline(__always)
  public static func ternary(_ w: Float, scale: Float) -> Int8 {
    let q = (w * scale).rounded(.toNearestOrEven)
    return q >= 1 ? 1 : (q <= -1 ? -1 : 0)
  }

  /// Ternarizes a rows x cols matrix delivered row by row: `readRow(r, out)`
  /// writes row r's `cols` Float32 values to `out` (and may throw, e.g. on a
  /// NaN). Two passes over the rows (the absmean, then the weights), one row
  /// buffer: the matrix is never held in Float32.
  public static func matrix(rows: Int, cols: Int, readRow: (Int, UnsafeMutablePointer<Float>) throws -> Void) throws -> PackedTernary {
    precondition(rows >= 1 && cols >= 1, "matrix must have at least one row and column")
    let row = UnsafeMutablePointer<Float>.allocate(capacity: cols)
    defer { row.deallocate() }
    var absSum = 0.0
    for r in 0..<rows {
      try readRow(r, row)
      var rowSum = 0.0
      for c in 0..<cols { rowSum += Double(abs(row[c])) }
      absSum += rowSum
    }
    let beta = beta(absSum: absSum, count: rows * cols)
    let scale = 1 / beta
    let words = PackedTernary.wordsPerRow(cols: cols)
    var planes = [UInt64](repeating: 0, count: 2 * rows * words)
    for r in 0..<rows {
      try readRow(r, row)
      for k in 0..<words {
        var nz: UInt64 = 0, neg: UInt64 = 0
        for j in 0..<min(64, cols - 64 * k) {
          let t = ternary(row[64 * k + j], scale: scale)
          if t != 0 {
            nz |= UInt64(1) << UInt64(j)
            if t < 0 { neg |= UInt64(1) << UInt64(j) }
          }
        }
        planes[2 * (r * words + k)] = nz
        planes[2 * (r * words + k) + 1] = neg
      }
    }
    return PackedTernary(unchecked: rows, cols: cols, planes: planes, beta: beta)
  }

  /// Ternarizes a row-major Float32 matrix in memory.
  public static func matrix(_ values: [Float], rows: Int, cols: Int) -> PackedTernary {
    precondition(values.count == rows * cols, "\(values.count) values for a \(rows) x \(cols) matrix")
    return values.withUnsafeBufferPointer { v in
      // The closure cannot throw; `try!` only satisfies the signature.
      try! matrix(rows: rows, cols: cols) { r, out in out.update(from: v.baseAddress! + r * cols, count: cols) }
    }
  }
}
