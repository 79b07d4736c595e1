/// An integer expression of a module's parameters (`Depth - 1`,
/// `$clog2(Depth + 2)`), carried next to its value in this elaboration.
///
/// A generator elaborates at concrete numbers, so every check runs on
/// `value`; the printer prints the expression. A parameterized module's text
/// must therefore not depend on the numbers at all, which
/// `SystemVerilogPrinter.genericText` makes testable: two elaborations at
/// different parameter values print the same generic text, or a number
/// leaked into it.
public struct ParamExpr: Hashable, Sendable, CustomStringConvertible {
  public indirect enum Node: Hashable, Sendable {
    case constant(Int)
    case parameter(String)
    case add(ParamExpr, ParamExpr)
    case sub(ParamExpr, ParamExpr)
    case mul(ParamExpr, ParamExpr)
    /// `$clog2(x)`: ceil(log2(x)), 0 for x <= 1.
    case clog2(ParamExpr)
  }

  public let node: Node
  /// The value in this elaboration.
  public let value: Int

  init(_ node: Node, _ value: Int) {
    self.node = node
    self.value = value
  }

  public static func constant(_ value: Int) -> ParamExpr { ParamExpr(.constant(value), value) }
  /// The parameter (or localparam) `name`, worth `value` in this elaboration.
  public static func parameter(_ name: String, _ value: Int) -> ParamExpr { ParamExpr(.parameter(name), value) }

  public static func + (a: ParamExpr, b: ParamExpr) -> ParamExpr { ParamExpr(.add(a, b), a.value + b.value) }
  public static func - (a: ParamExpr, b: ParamExpr) -> ParamExpr { ParamExpr(.sub(a, b), a.value - b.value) }
  public static func * (a: ParamExpr, b: ParamExpr) -> ParamExpr { ParamExpr(.mul(a, b), a.value * b.value) }
  public static func + (a: ParamExpr, b: Int) -> ParamExpr { a + .constant(b) }
  public static func - (a: ParamExpr, b: Int) -> ParamExpr { a - .constant(b) }
  public static func * (a: ParamExpr, b: Int) -> ParamExpr { a * .constant(b) }
  /// `$clog2(x)`, SystemVerilog's ceiling log2 (`ceilLog2`; 0 for 0 and 1).
  public static func clog2(_ x: ParamExpr) -> ParamExpr { ParamExpr(.clog2(x), x.value <= 1 ? 0 : ceilLog2(x.value)) }

  /// Whether the expression names a parameter (a plain number needs none of this).
  public var isSymbolic: Bool {
    switch node {
    case .constant: return false
    case .parameter: return true
    case .add(let a, let b), .sub(let a, let b), .mul(let a, let b): return a.isSymbolic || b.isSymbolic
    case .clog2(let a): return a.isSymbolic
    }
  }

  /// The expression as SystemVerilog prints it, parenthesized where a
  /// looser operator sits under a tighter one.
  public var description: String { text(context: 0) }

  func text(context: Int) -> String {
    func wrap(_ s: String, _ precedence: Int) -> String { precedence < context ? "(\(s))" : s }
    switch node {
    case .constant(let v): return "\(v)"
    case .parameter(let name): return name
    case .add(let a, let b): return wrap("\(a.text(context: 70)) + \(b.text(context: 71))", 70)
    case .sub(let a, let b): return wrap("\(a.text(context: 70)) - \(b.text(context: 71))", 70)
    case .mul(let a, let b): return wrap("\(a.text(context: 80)) * \(b.text(context: 81))", 80)
    case .clog2(let a): return "$clog2(\(a.text(context: 0)))"
    }
  }

  /// The text of a `[msb:0]` range of this many bits, written tight as
  /// lowRISC does: `Width-1`, `Lanes*AccumulatorWidth-1`, `Width:0` for `Width + 1`.
  var msbText: String {
    switch node {
    case .constant(let v): return "\(v - 1)"
    case .parameter(let name): return "\(name)-1"
    // `Width + 1` bits are `[Width:0]`.
    case .add(let a, let b) where b.node == .constant(1): return a.text(context: 0).filter { $0 != " " }
    default: return text(context: 71).filter { $0 != " " } + "-1"
    }
  }
}

/// A width or count that may be a parameter expression: an `Int` literal
/// is a plain number, and a `ParamExpr` is symbolic.
public protocol ParamValue {
  var paramExpr: ParamExpr { get }
}

extension Int: ParamValue {
  public var paramExpr: ParamExpr { .constant(self) }
}

extension ParamExpr: ParamValue {
  public var paramExpr: ParamExpr { self }
}
