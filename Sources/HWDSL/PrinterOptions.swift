/// How `SystemVerilogPrinter` lays out and spells its output, in one place
/// (like CIRCT's `LoweringOptions`). Every option changes text only: two
/// printers with different options print the same hardware.
///
/// The defaults are what the committed RTL uses and what the RTL gates
/// (`verible-verilog-lint` with `lint/verible.rules`, slang `-Weverything`)
/// check: lowRISC's 100 columns, parentheses wherever operators of different
/// kinds meet, sized shift amounts, `$countones` results cast to unsigned,
/// wide hex literals without leading zeros.
public struct PrinterOptions: Hashable, Sendable {
  /// Lines longer than this are broken (long concatenations at their commas,
  /// operator chains before an operator, `?:` before `?` and `:`, case labels
  /// at their commas, comments at spaces). A single token longer than the
  /// limit stays whole.
  public var lineLength: Int
  /// Extra indentation of a broken statement's continuation lines.
  public var continuationIndent: Int
  /// Parenthesize an operand whose operator differs in kind from the one that
  /// applies to it: `(a && b) || c`, `(a & b) | c`, `(a + b) >> 2`,
  /// `(a == b) & c`. Off, parentheses go in only where precedence needs them.
  public var parenthesizeMixedOperators: Bool
  /// Print shift amounts as sized unsigned literals (`x >> 5'd3`) rather than
  /// unsized integers (`x >> 3`).
  public var sizedShiftAmounts: Bool
  /// Cast `$countones` (an `int`, signed) to unsigned before sizing it, so an
  /// unsigned target sees no signedness conversion.
  public var unsignedCountOnes: Bool
  /// Print hex literals wider than 64 bits without leading zero digits
  /// (`512'h0`, `66'sh7fff`); a sized literal zero-extends, so the value is the same.
  public var trimLiteralZeros: Bool

  public init(
    lineLength: Int = 100, continuationIndent: Int = 4, parenthesizeMixedOperators: Bool = true,
    sizedShiftAmounts: Bool = true, unsignedCountOnes: Bool = true, trimLiteralZeros: Bool = true
  ) {
    self.lineLength = lineLength
    self.continuationIndent = continuationIndent
    self.parenthesizeMixedOperators = parenthesizeMixedOperators
    self.sizedShiftAmounts = sizedShiftAmounts
    self.unsignedCountOnes = unsignedCountOnes
    self.trimLiteralZeros = trimLiteralZeros
  }

  /// What the committed RTL and the gates use.
  public static let standard = PrinterOptions()
  /// One statement a line, parentheses only where precedence needs them.
  public static let unwrapped = PrinterOptions(
    lineLength: .max, parenthesizeMixedOperators: false, sizedShiftAmounts: false, unsignedCountOnes: false,
    trimLiteralZeros: false)
}
