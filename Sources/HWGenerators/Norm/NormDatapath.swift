import HWDSL
import HWSpec

/// Helpers the norm unit and the accelerator top share. The `Scale`
/// arithmetic is in `ScaleRTL`, the `Fixed` operations in `FixedPointRTL`.
enum NormDatapath {
  /// Ties off bits dropped on purpose (lowRISC's `unused_*` idiom): known-zero
  /// high bits, or low bits no rounding rule looks at.
  static func discard(_ m: ModuleBuilder, _ name: String, _ bits: Expr, file: StaticString = #fileID, line: UInt = #line) {
    _ = m.wire("unused_" + name, bits.width == 1 ? bits : bits.reduceXor(), file: file, line: line)
  }

  /// A balanced tree of 2:1 reductions, each node a named wire.
  static func tree(_ m: ModuleBuilder, _ name: String, _ leaves: [Expr], _ combine: (Expr, Expr) -> Expr) -> Expr {
    var level = leaves
    var depth = 0
    while level.count > 1 {
      depth += 1
      level = stride(from: 0, to: level.count, by: 2).map { i in
        i + 1 < level.count ? m.wire("\(name)_l\(depth)_\(i / 2)", combine(level[i], level[i + 1])) : level[i]
      }
    }
    return level[0]
  }
}
