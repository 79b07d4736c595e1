import HWSupport

/// Prints checked modules as SystemVerilog in lowRISC style: `clk_i`/`rst_ni`
/// first, `logic` everywhere, registers as `_d`/`_q` pairs whose `always_ff`
/// holds only reset and `q <= d`, `always_comb` with defaults first, named
/// port connections, explicit literal widths, 2-space indent.
///
/// The printer is where Verilator 5.006's limits are handled, so generators
/// never see them: no loops are printed (replication is done in Swift), every
/// memory write sits in its own clocked block with a scalar index, and
/// sign extension uses a size cast on a plain signal.
public struct SystemVerilogPrinter {
  public var header: [String]

  public init(header: [String] = []) { self.header = header }

  public func print(_ module: Module) -> String {
    var out = ModuleText(module: module, names: NameTable(module))
    out.emit(header: header)
    return out.text
  }
}

private struct ModuleText {
  let module: Module
  let names: NameTable
  var text = ""

  init(module: Module, names: NameTable) {
    self.module = module
    self.names = names
  }

  mutating func line(_ indent: Int, _ s: String) {
    text += String(repeating: "  ", count: indent) + s + "\n"
  }

  func typeText(_ type: HWType) -> String {
    let sign = type.signed ? " signed" : ""
    return type.width == 1 && !type.signed ? "logic" : "logic\(sign) [\(type.width - 1):0]"
  }

  mutating func emit(header: [String]) {
    for h in header { line(0, "// \(h)") }
    for c in module.comment { line(0, c.isEmpty ? "//" : "// \(c)") }
    let ports = module.ports
    let params = module.parameters
    if params.isEmpty {
      line(0, "module \(module.name) (")
    } else {
      line(0, "module \(module.name) #(")
      for (i, p) in params.enumerated() {
        // `int unsigned` is the idiom, but Icarus 11 cannot parse it; this is the same type.
        line(1, "parameter logic [31:0] \(p.name) = 32'd\(p.value)" + (i == params.count - 1 ? "" : ","))
      }
      line(0, ") (")
    }
    let decls = ports.map { p in (p.kind == .input ? "input " : "output") + " " + typeText(p.type) }
    let declWidth = decls.map(\.count).max() ?? 0
    for (i, p) in ports.enumerated() {
      let comma = i == ports.count - 1 ? "" : ","
      let comment = p.comment.map { "  // \($0)" } ?? ""
      line(1, decls[i].rightPadded(to: declWidth) + " " + names.signals[p.id.index] + comma + comment)
    }
    line(0, ");")
    emitDeclarations()
    emitAssigns()
    for block in module.combBlocks { emitComb(block) }
    emitRegisters()
    emitMemoryWrites()
    for (i, instance) in module.instances.enumerated() { emitInstance(instance, names.instances[i]) }
    line(0, "")
    line(0, "endmodule")
  }

  mutating func emitDeclarations() {
    let internals = module.signals.filter { $0.kind != .input && $0.kind != .output }
    if internals.isEmpty && module.memories.isEmpty { return }
    line(0, "")
    let width = internals.map { typeText($0.type).count }.max() ?? 0
    for s in internals {
      let comment = s.comment.map { "  // \($0)" } ?? ""
      // A register's comment is printed once, on its state half.
      let shown = s.kind == .registerNext ? "" : comment
      line(1, typeText(s.type).rightPadded(to: width) + " " + names.signals[s.id.index] + ";" + shown)
    }
    for (i, m) in module.memories.enumerated() {
      line(1, "\(typeText(m.type)) \(names.memories[i]) [\(m.depth)];")
    }
  }

  mutating func emitAssigns() {
    guard !module.assigns.isEmpty else { return }
    line(0, "")
    for a in module.assigns {
      line(1, "assign \(names.signals[a.target.index]) = \(expr(a.value, context: 0));")
    }
  }

  mutating func emitComb(_ block: CombBlock) {
    line(0, "")
    line(1, "always_comb begin")
    emitStatements(block.statements, indent: 2)
    line(1, "end")
  }

  mutating func emitStatements(_ statements: [Statement], indent: Int) {
    for statement in statements {
      switch statement {
      case .assign(let target, let value, _):
        line(indent, "\(names.signals[target.index]) = \(expr(value, context: 0));")
      case .ifElse(let condition, let thenBody, var elseBody, _):
        line(indent, "if (\(expr(condition, context: 0))) begin")
        emitStatements(thenBody, indent: indent + 1)
        // Print `else if` chains flat.
        while elseBody.count == 1, case .ifElse(let c, let t, let e, _) = elseBody[0] {
          line(indent, "end else if (\(expr(c, context: 0))) begin")
          emitStatements(t, indent: indent + 1)
          elseBody = e
        }
        if !elseBody.isEmpty {
          line(indent, "end else begin")
          emitStatements(elseBody, indent: indent + 1)
        }
        line(indent, "end")
      case .caseOf(let subject, let items, let defaultBody, _):
        line(indent, "unique case (\(expr(subject, context: 0)))")
        for item in items {
          line(indent + 1, item.values.map(literal).joined(separator: ", ") + ": begin")
          emitStatements(item.body, indent: indent + 2)
          line(indent + 1, "end")
        }
        line(indent + 1, "default: begin")
        emitStatements(defaultBody, indent: indent + 2)
        line(indent + 1, "end")
        line(indent, "endcase")
      }
    }
  }

  mutating func emitRegisters() {
    for style in [ResetStyle.asynchronous, .synchronous, .none] {
      let regs = module.registers.filter { $0.reset == style }
      guard !regs.isEmpty, let clock = module.clock else { continue }
      let clk = names.signals[clock.index]
      let rst = module.reset.map { names.signals[$0.index] } ?? "rst_ni"
      line(0, "")
      switch style {
      case .asynchronous: line(1, "always_ff @(posedge \(clk) or negedge \(rst)) begin")
      case .synchronous, .none: line(1, "always_ff @(posedge \(clk)) begin")
      }
      if style == .none {
        for r in regs { line(2, "\(names.signals[r.state.index]) <= \(names.signals[r.next.index]);") }
      } else {
        line(2, "if (!\(rst)) begin")
        for r in regs {
          let value = r.resetValue.isZero ? "'0" : literal(r.resetValue)
          line(3, "\(names.signals[r.state.index]) <= \(value);")
        }
        line(2, "end else begin")
        for r in regs { line(3, "\(names.signals[r.state.index]) <= \(names.signals[r.next.index]);") }
        line(2, "end")
      }
      line(1, "end")
    }
  }

  mutating func emitMemoryWrites() {
    guard let clock = module.clock else { return }
    for w in module.memoryWrites {
      line(0, "")
      line(1, "always_ff @(posedge \(names.signals[clock.index])) begin")
      line(2, "if (\(expr(w.enable, context: 0))) begin")
      line(3, "\(names.memories[w.memory.index])[\(expr(w.address, context: 0))] <= \(expr(w.data, context: 0));")
      line(2, "end")
      line(1, "end")
    }
  }

  mutating func emitInstance(_ instance: Instance, _ name: String) {
    line(0, "")
    line(1, "\(instance.module.name) \(name) (")
    // Connections print in the child's port order, whatever order the generator gave.
    let byPort = Dictionary(instance.connections.map { ($0.port, $0.expr) }, uniquingKeysWith: { a, _ in a })
    let ports = instance.module.ports.filter { byPort[$0.name] != nil }
    let width = ports.map(\.name.count).max() ?? 0
    for (i, p) in ports.enumerated() {
      let comma = i == ports.count - 1 ? "" : ","
      line(2, ".\(p.name.rightPadded(to: width)) (\(expr(byPort[p.name]!, context: 0)))\(comma)")
    }
    line(1, ");")
  }

  // MARK: Expressions

  func literal(_ l: Literal) -> String {
    let w = l.type.width
    if l.type.signed {
      // Negative values print as a negated positive literal: -9'sd5.
      let negative = w <= 64 && (l.words[0] >> UInt64(w - 1)) & 1 == 1
      if negative && w <= 64 {
        let magnitude = w == 64 ? (~l.words[0] &+ 1) : ((~l.words[0] &+ 1) & ((UInt64(1) << UInt64(w)) - 1))
        if magnitude == UInt64(1) << UInt64(w - 1) && w < 64 {
          return "\(w)'sh" + String(l.words[0], radix: 16)  // the most negative value has no positive twin
        }
        return "-\(w)'sd\(magnitude)"
      }
      if w <= 64 { return "\(w)'sd\(l.words[0])" }
      return "\(w)'sh" + hexDigits(l)
    }
    if w == 1 { return "1'b\(l.words[0])" }
    if w <= 64 && l.words[0] < 1024 { return "\(w)'d\(l.words[0])" }
    return "\(w)'h" + hexDigits(l)
  }

  func hexDigits(_ l: Literal) -> String {
    let digits = (l.type.width + 3) / 4
    var s = ""
    for i in stride(from: digits - 1, through: 0, by: -1) {
      let nibble = (l.words[(i * 4) / 64] >> UInt64((i * 4) % 64)) & 0xF
      s += String(nibble, radix: 16)
      if i > 0 && i % 4 == 0 && digits > 8 { s += "_" }
    }
    return s
  }

  /// Signed extension and population count print as `W'(...)`.
  static func printsAsSizeCast(_ e: Expr) -> Bool {
    switch e.node {
    case .extend(let a, _): return a.signed
    case .countOnes: return true
    default: return false
    }
  }

  static func precedence(_ op: BinaryOp) -> Int {
    switch op {
    case .mul: return 80
    case .add, .sub: return 70
    case .lt, .le, .gt, .ge: return 50
    case .eq, .ne: return 40
    case .and: return 35
    case .xor: return 30
    case .or: return 25
    case .logicalAnd: return 20
    case .logicalOr: return 15
    }
  }

  /// Prints `e` for a position of binding strength `context`; parentheses go
  /// in only where the operator would otherwise bind wrongly.
  func expr(_ e: Expr, context: Int) -> String {
    func wrap(_ s: String, _ precedence: Int) -> String { precedence < context ? "(\(s))" : s }
    switch e.node {
    case .signal(let id): return names.signals[id.index]
    case .parameter(let name): return name
    case .literal(let l): return literal(l)
    case .unary(let op, let a):
      // Yosys 0.23 reads `-9'(x)` as a cast to size -9: parenthesize the
      // operands that print as size casts.
      let operand = expr(a, context: 100)
      return Self.printsAsSizeCast(a) ? "\(op.rawValue)(\(operand))" : "\(op.rawValue)\(operand)"
    case .binary(let op, let a, let b):
      let p = Self.precedence(op)
      // Left-associative: the right operand needs parentheses at equal strength.
      return wrap("\(expr(a, context: p)) \(op.rawValue) \(expr(b, context: p + 1))", p)
    case .shift(let op, let a, let amount):
      return wrap("\(expr(a, context: 61)) \(op.rawValue) \(amount)", 60)
    case .slice(let a, let high, let low):
      return high == low ? "\(expr(a, context: 100))[\(high)]" : "\(expr(a, context: 100))[\(high):\(low)]"
    case .concat(let parts):
      return "{" + parts.map { expr($0, context: 0) }.joined(separator: ", ") + "}"
    case .replicate(let count, let a):
      return "{\(count){\(expr(a, context: 0))}}"
    case .mux(let c, let a, let b):
      return wrap("\(expr(c, context: 11)) ? \(expr(a, context: 11)) : \(expr(b, context: 10))", 10)
    case .reinterpret(let a, let signed):
      return "\(signed ? "$signed" : "$unsigned")(\(expr(a, context: 0)))"
    case .extend(let a, let width):
      if a.signed { return "\(width)'(\(expr(a, context: 0)))" }
      return "{\(width - a.width)'d0, \(expr(a, context: 0))}"
    case .memoryRead(let id, let address):
      return "\(names.memories[id.index])[\(expr(address, context: 0))]"
    case .countOnes(let a):
      // $countones returns a 32-bit int; the size cast states the real width.
      return "\(e.width)'($countones(\(expr(a, context: 0))))"
    }
  }
}
