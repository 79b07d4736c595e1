import HWSpec
import HWSupport

extension NumPyArray {
  /// Q15.16 logits (`Fixed`, docs/numerics.md), one row per position, as
  /// Float32: each value / 65536, exact for |logit| < 256 (24 significant
  /// bits), rounded to nearest beyond. What `--logits FILE.npy` writes.
  public init(logits rows: [[Int32]]) {
    let columns = rows.first?.count ?? 0
    precondition(rows.allSatisfy { $0.count == columns }, "logit rows of different lengths")
    self.init(rows: rows.count, columns: columns, values: rows.flatMap { $0.map { Float($0) * 0x1p-16 } })
  }
}
