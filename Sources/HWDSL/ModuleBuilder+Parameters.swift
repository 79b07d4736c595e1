/// Module parameters (`parameter logic [31:0] Width = 32`) and the widths,
/// depths and constants written in them.
///
/// A generator still elaborates at concrete numbers: `parameter` returns a
/// `ParamExpr` that is the parameter's name for the printer and its value
/// for the checks. Types built from it (`.uint(width)`) print as
/// `logic [Width-1:0]`, constants (`.literal(depth - 1, type)`) as
/// `AddrWidth'(Depth - 1)`; the printed module must read the same whatever
/// the values (`SystemVerilogPrinter.genericText`).
extension ModuleBuilder {
  /// A parameter an instance may override, `value` in this elaboration.
  /// Names are UpperCamelCase (lowRISC).
  public func parameter(_ name: String, default value: Int, file: StaticString = #fileID, line: UInt = #line) -> ParamExpr {
    parameters.append(Parameter(name: name, value: value, location: SourceLocation(file, line)))
    return .parameter(name, value)
  }

  /// A `localparam` derived from the parameters (`AddrWidth = $clog2(Depth)`).
  public func localparam(_ name: String, _ value: ParamExpr, file: StaticString = #fileID, line: UInt = #line) -> ParamExpr {
    parameters.append(Parameter(name: name, value: value.value, derivation: value, location: SourceLocation(file, line)))
    return .parameter(name, value.value)
  }

  /// A memory whose depth is a parameter expression (`mem [Depth]`).
  public func memory(_ name: String, depth: ParamExpr, _ type: HWType, file: StaticString = #fileID, line: UInt = #line) -> MemoryHandle {
    let handle = memory(name, depth: depth.value, type, file: file, line: line)
    if depth.isSymbolic { memories[handle.id.index].symbolicDepth = depth }
    return handle
  }
}

extension Expr {
  /// The constant `value` (an expression of parameters) in `type`, printed
  /// as a size cast: `AddrWidth'(Depth - 1)`.
  public static func literal(_ value: ParamExpr, _ type: HWType) -> Expr {
    precondition(Literal.fits(value.value, type), "\(value) = \(value.value) does not fit \(type)")
    var l = Literal(value.value, type)
    if value.isSymbolic { l.symbolicValue = value }
    return .init(.literal(l), type)
  }

  /// Compare with a parameter expression in this expression's own type.
  public func eq(_ value: ParamExpr) -> Expr { eq(.literal(value, type)) }
  public func ne(_ value: ParamExpr) -> Expr { ne(.literal(value, type)) }
  public func le(_ value: ParamExpr) -> Expr { le(.literal(value, type)) }

  /// Extends to `type`'s width (sign extension for signed values), printed
  /// as a size cast when the width is a parameter expression.
  public func extended(to type: HWType) -> Expr {
    guard type.symbolicWidth != nil else { return extended(to: type.width) }
    return .init(.extend(self, width: type.width), HWType(width: type.symbolicWidth!, signed: signed))
  }
}

extension ParamExpr {
  /// Whether the expression reads the parameter `name`.
  public func mentions(_ name: String) -> Bool {
    switch node {
    case .constant: return false
    case .parameter(let p): return p == name
    case .add(let a, let b), .sub(let a, let b), .mul(let a, let b): return a.mentions(name) || b.mentions(name)
    case .clog2(let a): return a.mentions(name)
    }
  }
}
