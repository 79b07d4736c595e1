import HWDSL
import HWSpec

/// The `unused_*` tie-off that the norm unit, `ScaleRTL` and the accelerator
/// top share. The `Scale` arithmetic is in `ScaleRTL`, the `Fixed`
/// operations in `FixedPointRTL`, reduction trees in `ReductionTree`.
enum NormDatapath {
  /// Ties off bits dropped on purpose (lowRISC's `unused_*` idiom): known-zero
  /// high bits, or low bits no rounding rule looks at.
  static func discard(_ m: ModuleBuilder, _ name: String, _ bits: Expr, file: StaticString = #fileID, line: UInt = #line) {
    _ = m.wire("unused_" + name, bits.width == 1 ? bits : bits.reduceXor(), file: file, line: line)
  }
}
