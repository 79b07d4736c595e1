import HWSpec
import HWSupport

/// The golden model of the ternary core: the exact integer mat-vec the RTL
/// must reproduce, y[i] = sum_j W[i][j] * a[j] with W in {-1,0,+1} and int8 a.
/// Sums are exact in Int64 and then checked against the accumulator width, so
/// a workload that would overflow the hardware is rejected, not wrapped.
public enum TernaryMatVec {
  public struct Overflow: Error, CustomStringConvertible {
    public let row: Int
    public let value: Int64
    public let accumulatorWidth: Int
    public var description: String {
      "row \(row) sums to \(value), which does not fit a \(accumulatorWidth)-bit accumulator"
    }
  }

  public static func multiply(_ matrix: TernaryMatrix, _ activations: [Int8], accumulatorWidth: Int) throws -> [Int64] {
    precondition(activations.count == matrix.cols, "activation length \(activations.count) != matrix columns \(matrix.cols)")
    let limit = Int64(1) << Int64(accumulatorWidth - 1)
    var result = [Int64](repeating: 0, count: matrix.rows)
    matrix.values.withUnsafeBufferPointer { w in
      activations.withUnsafeBufferPointer { a in
        for row in 0..<matrix.rows {
          let base = row * matrix.cols
          // Branch-free multiply-add; the compiler vectorizes it.
          var sum: Int64 = 0
          for col in 0..<matrix.cols { sum &+= Int64(w[base + col]) &* Int64(a[col]) }
          result[row] = sum
        }
      }
    }
    if let bad = result.firstIndex(where: { $0 < -limit || $0 >= limit }) {
      throw Overflow(row: bad, value: result[bad], accumulatorWidth: accumulatorWidth)
    }
    return result
  }
}

/// Seeded workloads for the core: random, and the directed corners.
public enum TernaryWorkload {
  /// Random ternary weights with the given probability of a non-zero weight
  /// (trained BitNet-style checkpoints have roughly a third zeros).
  public static func randomMatrix(rows: Int, cols: Int, nonZero: Double = 2.0 / 3.0, using rng: inout SeededRandom) -> TernaryMatrix {
    let threshold = UInt64(nonZero * Double(UInt64.max >> 11)) 
    let values = (0..<rows * cols).map { _ -> Int8 in
      let r = rng.next()
      guard (r >> 11) < threshold else { return 0 }
      return r & 1 == 0 ? 1 : -1
    }
    return TernaryMatrix(rows: rows, cols: cols, values: values)
  }

  public static func randomActivations(_ count: Int, using rng: inout SeededRandom) -> [Int8] {
    (0..<count).map { _ in Int8(truncatingIfNeeded: rng.next()) }
  }
}
