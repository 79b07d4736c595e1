/// Printing of module parameters (`ModuleBuilder+Parameters.swift`): the
/// parameter list, symbolic widths and constants, and instance overrides.
extension SystemVerilogPrinter {
  /// The module's text with its parameters' default values left out: the
  /// same for every elaboration of a parameterized generator, or a number
  /// that depends on a parameter was printed instead of its expression.
  /// `DesignSet` writes modules with equal generic text once.
  public func genericText(_ module: Module) -> String {
    var out = ModuleText(module: module, names: NameTable(module), options: options)
    out.hidesParameterValues = true
    out.emit(header: header)
    return out.text
  }
}

extension ModuleText {
  /// `module name #(parameters) (`, or `module name (` without any.
  ///
  /// A `localparam` derived from the parameters sits in the parameter list
  /// too (as in OpenTitan's prim_fifo_sync) so that port widths can use it.
  /// `int unsigned` is the idiom, but Icarus 11 cannot parse it;
  /// `logic [31:0]` is the same type.
  mutating func emitModuleHeader() {
    let params = module.parameters
    guard !params.isEmpty else { return line(0, "module \(module.name) (") }
    line(0, "module \(module.name) #(")
    for (i, p) in params.enumerated() {
      let comma = i == params.count - 1 ? "" : ","
      if let derivation = p.derivation {
        line(1, "localparam logic [31:0] \(p.name) = \(derivation)" + comma)
      } else {
        line(1, "parameter  logic [31:0] \(p.name) = \(hidesParameterValues ? "?" : "32'd\(p.value)")" + comma)
      }
    }
    line(0, ") (")
  }

  /// `child #(.Width(64), .Depth(32)) name (`: a parameterized child gets
  /// every parameter it can take, its value in this elaboration unless the
  /// generator wrote it as an expression of the parent's parameters.
  mutating func emitInstanceHeader(_ child: Module, _ name: String, overrides: [String: ParamExpr], indent: Int) {
    let params = child.parameters.filter(\.isOverridable)
    guard !params.isEmpty else { return line(indent, "\(child.name) \(name) (") }
    line(indent, "\(child.name) #(")
    for (i, p) in params.enumerated() {
      let value = overrides[p.name]?.description ?? "\(p.value)"
      line(indent + 1, ".\(p.name)(\(value))" + (i == params.count - 1 ? "" : ","))
    }
    line(indent, ") \(name) (")
  }

  /// `logic [Width-1:0]` for a width that is a parameter expression.
  func symbolicTypeText(_ type: HWType, _ width: ParamExpr) -> String {
    "logic\(type.signed ? " signed" : "") [\(width.msbText):0]"
  }

  /// A constant whose value or type is a parameter expression, as a size
  /// cast: `AddrWidth'(Depth - 1)`, `CountWidth'(1'b1)` (OpenTitan's
  /// spelling; an unsized `1` would be a signed int, and slang warns about
  /// the signedness), or `'0`.
  func symbolicLiteral(_ l: Literal) -> String? {
    guard l.symbolicValue != nil || l.type.symbolicWidth != nil else { return nil }
    if let value = l.symbolicValue { return "\(sizeText(l.type))'(\(value))" }
    if l.isZero && !l.type.signed { return "'0" }
    let small = Literal(words: l.words, type: HWType(width: l.type.width, signed: l.type.signed))
    let bits = max(1, bitsToRepresent(Int(small.words[0]) & Int.max))
    let value = l.type.signed || l.words.count > 1 ? literal(small) : literal(Literal(Int(small.words[0]), .uint(bits)))
    return "\(sizeText(l.type))'(\(value))"
  }

  /// The width of a size cast: a number, a name, or a parenthesized expression.
  func sizeText(_ type: HWType) -> String {
    guard let w = type.symbolicWidth else { return "\(type.width)" }
    if case .parameter = w.node { return w.description }
    return "(\(w))"
  }
}

extension ModuleText {
  /// An operand of a product whose operands differ in width, extended to the
  /// product's width by a size cast: SystemVerilog extends both to the
  /// context's width anyway, so the value is the same, and slang sees the
  /// two operands of one type (no `arith-op-mismatch`). Yosys 0.23 infers the
  /// same multiplier (DSP blocks) from either spelling.
  ///
  /// A signed operand that is not a plain signal stays as it is: the
  /// printer sign-extends only signals (Verilator 5.006, see `.extend`).
  func productOperand(_ operand: Expr, _ product: Expr) -> Doc {
    let doc = expr(operand, context: 81)
    guard !operand.signed || operand.isSelectable else { return doc }
    return call("\(product.width)'(", expr(operand, context: 0))
  }
}
