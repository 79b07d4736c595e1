import Dispatch
import HWSpec
import HWSupport

/// A ternary weight matrix packed the way the core consumes it: per row, the
/// weights in 64-weight words, each word as two `UInt64` bit planes -- bit j of
/// the non-zero plane is weight j's `TernaryEncoding` bit 0, bit j of the
/// negative plane its bit 1 (so +1 = nz, -1 = nz & neg, 0 = neither). The same
/// two-plane idea as `TernaryCoreLayout`'s weight beats, at 2 bits a weight.
///
/// Invariants: a negative bit is only set where the non-zero bit is (the
/// reserved code 0b10 never occurs) and bits past `cols` in a row's last word
/// are zero, so padded columns contribute nothing.
///
/// `beta` is the matrix's absmean scale (`max(mean |W|, 1e-5)` of the latent
/// weights, docs/model.md); the real-valued weight is `beta * Wt`.
public struct PackedTernary: Hashable, Sendable {
  public let rows: Int
  public let cols: Int
  /// 64-weight words per row: ceil(cols / 64).
  public let wordsPerRow: Int
  /// Row r, word k: non-zero plane at `planes[2 * (r * wordsPerRow + k)]`, negative plane right after it.
  public let planes: [UInt64]
  /// The absmean scale of the latent weights.
  public var beta: Float

  public static let wordBits = 64

  public static func wordsPerRow(cols: Int) -> Int { (cols + wordBits - 1) / wordBits }

  /// Packs row-major ternary `values` (each -1, 0 or +1).
  public init(rows: Int, cols: Int, values: [Int8], beta: Float) {
    precondition(rows >= 1 && cols >= 1 && values.count == rows * cols, "matrix shape and value count disagree")
    let words = Self.wordsPerRow(cols: cols)
    var planes = [UInt64](repeating: 0, count: 2 * rows * words)
    for r in 0..<rows {
      for c in 0..<cols {
        let v = values[r * cols + c]
        precondition(v >= -1 && v <= 1, "ternary values must be -1, 0 or +1, got \(v) at (\(r), \(c))")
        guard v != 0 else { continue }
        let word = 2 * (r * words + c / 64)
        let bit = UInt64(1) << UInt64(c % 64)
        planes[word] |= bit
        if v < 0 { planes[word + 1] |= bit }
      }
    }
    self.init(rows: rows, cols: cols, planes: planes, beta: beta)
  }

  public init(_ matrix: TernaryMatrix, beta: Float) {
    self.init(rows: matrix.rows, cols: matrix.cols, values: matrix.values, beta: beta)
  }

  /// Adopts already packed planes (layout as `planes`); checks the invariants.
  public init(rows: Int, cols: Int, planes: [UInt64], beta: Float) {
    let words = Self.wordsPerRow(cols: cols)
    precondition(rows >= 1 && cols >= 1 && planes.count == 2 * rows * words, "matrix shape and plane count disagree")
    let tailMask: UInt64 = cols % 64 == 0 ? ~0 : (UInt64(1) << UInt64(cols % 64)) - 1
    for r in 0..<rows {
      for k in 0..<words {
        let nz = planes[2 * (r * words + k)], neg = planes[2 * (r * words + k) + 1]
        precondition(neg & ~nz == 0, "row \(r) word \(k): negative bit without non-zero bit (reserved code)")
        precondition(k < words - 1 || nz & ~tailMask == 0, "row \(r): weights past column \(cols)")
      }
    }
    self.rows = rows
    self.cols = cols
    self.wordsPerRow = words
    self.planes = planes
    self.beta = beta
  }

  /// Trusted construction for generators that already guarantee the invariants.
  init(unchecked rows: Int, cols: Int, planes: [UInt64], beta: Float) {
    self.rows = rows
    self.cols = cols
    self.wordsPerRow = Self.wordsPerRow(cols: cols)
    self.planes = planes
    self.beta = beta
  }

  public subscript(row: Int, col: Int) -> Int8 {
    precondition(row >= 0 && row < rows && col >= 0 && col < cols, "(\(row), \(col)) outside \(rows) x \(cols)")
    let word = 2 * (row * wordsPerRow + col / 64)
    let shift = UInt64(col % 64)
    let nz = (planes[word] >> shift) & 1, neg = (planes[word + 1] >> shift) & 1
    return nz == 0 ? 0 : (neg == 0 ? 1 : -1)
  }

  /// The weights as a dense matrix (for the slow reference and the core's beat layout).
  public var matrix: TernaryMatrix {
    var values = [Int8](repeating: 0, count: rows * cols)
    for r in 0..<rows { for c in 0..<cols { values[r * cols + c] = self[r, c] } }
    return TernaryMatrix(rows: rows, cols: cols, values: values)
  }

  /// Number of non-zero weights.
  public var nonZeroCount: Int { stride(from: 0, to: planes.count, by: 2).reduce(0) { $0 + planes[$1].nonzeroBitCount } }

  /// Number of -1 weights.
  public var negativeCount: Int { stride(from: 1, to: planes.count, by: 2).reduce(0) { $0 + planes[$1].nonzeroBitCount } }

  // MARK: Seeded generation

  /// Rows generated from one RNG sub-stream. Fixed, so the weights depend only
  /// on the seed, never on how many threads generate them.
  public static let rowsPerStream = 64

  /// A seeded random matrix: each weight independently non-zero with
  /// probability `nonZeroFraction` (rounded down to a multiple of 1/256), and a
  /// non-zero weight equally likely +1 or -1. Whole 64-weight words come from
  /// the generator: nine draws per word (`randomNonZeroWord` and one sign word),
  /// not one per weight. Row block b (`rowsPerStream` rows) uses `rng.fork(b)`;
  /// large matrices are generated on all cores with the same result.
  public static func random(
    rows: Int, cols: Int, nonZeroFraction: Double = 2.0 / 3.0, beta: Float, rng: SeededRandom
  ) -> PackedTernary {
    precondition(rows >= 1 && cols >= 1, "matrix must have at least one row and column")
    let words = wordsPerRow(cols: cols)
    let threshold = nonZeroThreshold(nonZeroFraction)
    let tailMask: UInt64 = cols % 64 == 0 ? ~0 : (UInt64(1) << UInt64(cols % 64)) - 1
    let blocks = (rows + rowsPerStream - 1) / rowsPerStream
    let planes = [UInt64](unsafeUninitializedCapacity: 2 * rows * words) { buffer, count in
      let base = ParallelWritePointer(buffer.baseAddress!)
      let fill: @Sendable (Int) -> Void = { block in
        var stream = rng.fork(UInt64(block))
        let out = base.pointer
        for r in block * rowsPerStream..<min(rows, (block + 1) * rowsPerStream) {
          for k in 0..<words {
            var nz = randomNonZeroWord(threshold: threshold, using: &stream)
            if k == words - 1 { nz &= tailMask }
            let neg = nz & stream.next()
            out[2 * (r * words + k)] = nz
            out[2 * (r * words + k) + 1] = neg
          }
        }
      }
      if rows * words >= parallelWords && blocks > 1 {
        DispatchQueue.concurrentPerform(iterations: blocks, execute: fill)
      } else {
        for b in 0..<blocks { fill(b) }
      }
      count = 2 * rows * words
    }
    return PackedTernary(unchecked: rows, cols: cols, planes: planes, beta: beta)
  }

  /// `nonZeroFraction` as an 8-bit binary fraction (0...256).
  static func nonZeroThreshold(_ fraction: Double) -> Int {
    precondition(fraction >= 0 && fraction <= 1, "non-zero fraction must be in 0...1, got \(fraction)")
    return Int((fraction * 256).rounded(.down))
  }

  /// 64 independent bits, each 1 with probability threshold/256: a bitwise
  /// comparison of 64 random 8-bit numbers U (one random word per bit of U)
  /// against the constant threshold T, evaluated from U's least significant
  /// bit up: where T has a 1, `r = u | r`, where it has a 0, `r = u & r`. The
  /// result is U < T lane by lane.
  @inline(__always)
  static func randomNonZeroWord(threshold: Int, using rng: inout SeededRandom) -> UInt64 {
    if threshold >= 256 { return ~0 }
    if threshold <= 0 { return 0 }
    var r: UInt64 = 0
    for i in 0..<8 {
      let u = rng.next()
      r = (threshold >> i) & 1 == 1 ? (u | r) : (u & r)
    }
    // Bit i of T weighs 2^(i-8): the loop above saw bit 0 (least significant) first.
    return r
  }

  // MARK: Exact integer mat-vec

  /// Work (rows x words) above which a mat-vec or a generator splits its rows
  /// across cores.
  public static let parallelWords = 1 << 14

  /// y[r] = sum_c W[r][c] * a[c], exactly, for int8 activations.
  public func multiply(_ activations: [Int8]) -> [Int32] {
    multiply(ActivationPlanes(activations))
  }

  /// The mat-vec against activations already transposed into bit planes. Per
  /// 64-weight word, with A_b the activations' bit planes and x = a ^ neg the
  /// one's complement of the activations under -1 weights (-a = ~a + 1):
  ///
  ///     sum = sum_{b=0..6} 2^b popcount(nz & (A_b ^ neg))
  ///           - 128 popcount(nz & (A_7 ^ neg)) + popcount(nz & neg)
  ///
  /// -- nine popcounts a word, no per-weight branch. The per-plane counts are
  /// accumulated over the row and weighted once at the end. Rows are split
  /// across cores when the matrix is large.
  public func multiply(_ activations: ActivationPlanes) -> [Int32] {
    precondition(activations.count == cols, "activation length \(activations.count) != matrix columns \(cols)")
    precondition(cols <= Int(Int32.max) / 128, "a \(cols)-column dot product may overflow Int32")
    let words = wordsPerRow
    let rows = rows
    return [Int32](unsafeUninitializedCapacity: rows) { out, count in
      planes.withUnsafeBufferPointer { w in
        activations.planes.withUnsafeBufferPointer { a in
          let wp = w.baseAddress!, ap = a.baseAddress!
          let op = ParallelWritePointer(out.baseAddress!)
          let shared = (weights: ParallelReadPointer(wp), acts: ParallelReadPointer(ap))
          let part: @Sendable (Int, Int) -> Void = { part, parts in
            let lo = rows * part / parts, hi = rows * (part + 1) / parts
            for r in lo..<hi {
              op.pointer[r] = Self.dotRow(shared.weights.pointer + 2 * r * words, shared.acts.pointer, words: words)
            }
          }
          if rows * words >= Self.parallelWords && rows >= 2 {
            DispatchQueue.concurrentPerform(iterations: 2) { part($0, 2) }
          } else {
            part(0, 1)
          }
        }
      }
      count = rows
    }
  }

  @inline(__always)
  static func dotRow(_ w: UnsafePointer<UInt64>, _ a: UnsafePointer<UInt64>, words: Int) -> Int32 {
    var c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0, cn = 0
    for k in 0..<words {
      let nz = w[2 * k], neg = w[2 * k + 1]
      let p = a + 8 * k
      c0 &+= (nz & (p[0] ^ neg)).nonzeroBitCount
      c1 &+= (nz & (p[1] ^ neg)).nonzeroBitCount
      c2 &+= (nz & (p[2] ^ neg)).nonzeroBitCount
      c3 &+= (nz & (p[3] ^ neg)).nonzeroBitCount
      c4 &+= (nz & (p[4] ^ neg)).nonzeroBitCount
      c5 &+= (nz & (p[5] ^ neg)).nonzeroBitCount
      c6 &+= (nz & (p[6] ^ neg)).nonzeroBitCount
      c7 &+= (nz & (p[7] ^ neg)).nonzeroBitCount
      cn &+= (nz & neg).nonzeroBitCount
    }
    let planes = c0 &+ 2 &* c1 &+ 4 &* c2 &+ 8 &* c3 &+ 16 &* c4 &+ 32 &* c5 &+ 64 &* c6 &- 128 &* c7
    return Int32(truncatingIfNeeded: planes &+ cn)
  }
}

/// An int8 activation vector transposed once into eight bit planes per
/// 64-activation word: `planes[8 * k + b]` bit j is bit b of activation
/// 64k + j (two's complement, plane 7 the sign). Activations past `count` are
/// zero. The software image of `TernaryCoreLayout`'s activation beat.
public struct ActivationPlanes: Hashable, Sendable {
  public let count: Int
  public let planes: [UInt64]

  public init(_ activations: [Int8]) {
    let words = PackedTernary.wordsPerRow(cols: activations.count)
    var planes = [UInt64](repeating: 0, count: 8 * words)
    activations.withUnsafeBufferPointer { a in
      for k in 0..<words {
        var p = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        for j in 0..<min(64, a.count - 64 * k) {
          let v = UInt64(UInt8(bitPattern: a[64 * k + j]))
          p.0 |= (v & 1) << UInt64(j)
          p.1 |= ((v >> 1) & 1) << UInt64(j)
          p.2 |= ((v >> 2) & 1) << UInt64(j)
          p.3 |= ((v >> 3) & 1) << UInt64(j)
          p.4 |= ((v >> 4) & 1) << UInt64(j)
          p.5 |= ((v >> 5) & 1) << UInt64(j)
          p.6 |= ((v >> 6) & 1) << UInt64(j)
          p.7 |= ((v >> 7) & 1) << UInt64(j)
        }
        planes[8 * k] = p.0
        planes[8 * k + 1] = p.1
        planes[8 * k + 2] = p.2
        planes[8 * k + 3] = p.3
        planes[8 * k + 4] = p.4
        planes[8 * k + 5] = p.5
        planes[8 * k + 6] = p.6
        planes[8 * k + 7] = p.7
      }
    }
    self.count = activations.count
    self.planes = planes
  }
}

/// A raw pointer handed to `concurrentPerform` workers that write disjoint
/// ranges of one buffer.
struct ParallelWritePointer<T>: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<T>
  init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

struct ParallelReadPointer<T>: @unchecked Sendable {
  let pointer: UnsafePointer<T>
  init(_ pointer: UnsafePointer<T>) { self.pointer = pointer }
}
