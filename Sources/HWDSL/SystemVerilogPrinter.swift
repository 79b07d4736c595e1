import HWSupport

/// Prints checked modules as SystemVerilog in lowRISC style: `clk_i`/`rst_ni`
/// first, `logic` everywhere, registers as `_d`/`_q` pairs whose `always_ff`
/// holds only reset and `q <= d`, `always_comb` with defaults first, named
/// port connections, explicit literal widths, 2-space indent.
///
/// The printer is where Verilator 5.006's limits are handled, so generators
/// never see them: the only loops are generate loops of instances
/// (`Generate.swift`; no procedural loops), ROMs are one-line-an-arm case
/// tables (`ROM.swift` says why), every
/// memory write sits in its own clocked block with a scalar index, and
/// sign extension uses a size cast on a plain signal. Layout and spelling
/// (line length, parentheses, casts) are `PrinterOptions`.
public struct SystemVerilogPrinter {
  public var header: [String]
  public var options: PrinterOptions

  public init(header: [String] = [], options: PrinterOptions = .standard) {
    self.header = header
    self.options = options
  }

  public func print(_ module: Module) -> String {
    var out = ModuleText(module: module, names: NameTable(module), options: options)
    out.emit(header: header)
    return out.text
  }
}

struct ModuleText {
  let module: Module
  let names: NameTable
  let options: PrinterOptions
  var text = ""
  /// Print parameter defaults as `?` (`SystemVerilogPrinter.genericText`).
  var hidesParameterValues = false

  init(module: Module, names: NameTable, options: PrinterOptions) {
    self.module = module
    self.names = names
    self.options = options
  }

  mutating func line(_ indent: Int, _ s: String) {
    text += String(repeating: "  ", count: indent) + s + "\n"
  }

  /// A statement that breaks at its document's breaks when it is too long.
  mutating func line(_ indent: Int, _ doc: Doc) {
    text += String(repeating: "  ", count: indent) + doc.render(indent: 2 * indent, width: options.lineLength) + "\n"
  }

  /// `// text` lines, broken at spaces to fit.
  mutating func comment(_ indent: Int, _ s: String) {
    let room = max(20, options.lineLength - 2 * indent - 3)
    guard s.count > room else { return line(indent, s.isEmpty ? "//" : "// " + s) }
    var current = ""
    for word in s.split(separator: " ", omittingEmptySubsequences: false) {
      if !current.isEmpty && current.count + 1 + word.count > room {
        line(indent, "// " + current)
        current = String(word)
      } else {
        current += (current.isEmpty ? "" : " ") + word
      }
    }
    line(indent, current.isEmpty ? "//" : "// " + current)
  }

  /// A declaration with its trailing comment, or with the comment on the
  /// lines above when the two do not fit on one line.
  mutating func declaration(_ indent: Int, _ s: String, comment text: String?) {
    guard let text else { return line(indent, s) }
    if 2 * indent + s.count + 5 + text.count <= options.lineLength {
      line(indent, s + "  // " + text)
    } else {
      comment(indent, text)
      line(indent, s)
    }
  }

  /// The continuation of a broken statement.
  func continued(_ docs: [Doc]) -> Doc { .nest(options.continuationIndent, docs) }

  /// A signal's declared type: its enum's name, or `logic`. An enum declared
  /// inside the module cannot type a port (the typedef follows the port list).
  ///
  /// A package's enum types no signal: Icarus 11 crashes on a signal of a
  /// package type, so those print as `logic` and compare with the values.
  func typeText(_ s: Signal) -> String {
    if let e = s.enumType, e.package == nil, s.kind != .input && s.kind != .output { return e.name }
    return typeText(s.type)
  }

  /// The right-hand side of an assignment to `target` (`EnumChecks` keeps
  /// enum signals to enum values, so no cast is ever needed).
  func value(_ e: Expr, for target: SignalID) -> Doc { expr(e, context: 0) }

  /// A package's values are spelled with the package (`mmfree_pkg::OpNorm`):
  /// Yosys 0.23 parses no `import`, neither in a module header nor in its body.
  func enumValueName(_ v: EnumType.Value, of t: EnumType) -> String {
    t.package.map { "\($0)::\(v.name)" } ?? v.name
  }

  /// `typedef enum logic [W-1:0] { ... } name_e;` for each enum the module
  /// declares itself (package enums come with the import).
  mutating func emitEnumTypedefs() {
    for t in module.enumTypes where t.package == nil { emitTypedef(t, indent: 1) }
  }

  mutating func emitTypedef(_ t: EnumType, indent: Int) {
    line(0, "")
    for l in EnumTypedefText.lines(t, indent: indent, width: options.lineLength) { text += l + "\n" }
  }

  func typeText(_ type: HWType) -> String {
    if let w = type.symbolicWidth { return symbolicTypeText(type, w) }
    let sign = type.signed ? " signed" : ""
    return type.width == 1 && !type.signed ? "logic" : "logic\(sign) [\(type.width - 1):0]"
  }

  mutating func emit(header: [String]) {
    for h in header { comment(0, h) }
    for c in module.comment { comment(0, c) }
    let ports = module.ports
    emitModuleHeader()
    let decls = ports.map { p in (p.kind == .input ? "input " : "output") + " " + typeText(p) }
    let declWidth = decls.map(\.count).max() ?? 0
    for (i, p) in ports.enumerated() {
      let comma = i == ports.count - 1 ? "" : ","
      declaration(1, decls[i].rightPadded(to: declWidth) + " " + names.signals[p.id.index] + comma, comment: p.comment)
    }
    line(0, ");")
    emitEnumTypedefs()
    emitConstants()
    emitDeclarations()
    emitAssigns()
    emitROMReads()
    for block in module.combBlocks { emitComb(block) }
    emitRegisters()
    emitMemoryWrites()
    for (i, instance) in module.instances.enumerated() { emitInstance(instance, names.instances[i]) }
    emitGenerateLoops()
    emitAssertions()
    line(0, "")
    line(0, "endmodule")
  }

  mutating func emitDeclarations() {
    let internals = module.signals.filter { $0.kind != .input && $0.kind != .output }
    if internals.isEmpty && module.memories.isEmpty { return }
    line(0, "")
    let width = internals.map { typeText($0).count }.max() ?? 0
    for s in internals {
      // A register's comment is printed once, on its state half.
      let shown = s.kind == .registerNext ? nil : s.comment
      declaration(1, typeText(s).rightPadded(to: width) + " " + names.signals[s.id.index] + ";", comment: shown)
    }
    for (i, m) in module.memories.enumerated() {
      line(1, "\(typeText(m.type)) \(names.memories[i]) [\(m.symbolicDepth?.description ?? "\(m.depth)")];")
    }
  }

  mutating func emitAssigns() {
    guard !module.assigns.isEmpty else { return }
    line(0, "")
    for a in module.assigns {
      line(1, .seq([.text("assign \(names.signals[a.target.index]) = "), continued([value(a.value, for: a.target)]), .text(";")]))
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
        line(indent, .seq([.text("\(names.signals[target.index]) = "), continued([self.value(value, for: target)]), .text(";")]))
      case .ifElse(let condition, let thenBody, var elseBody, _):
        line(indent, .seq([.text("if ("), continued([expr(condition, context: 0)]), .text(") begin")]))
        emitStatements(thenBody, indent: indent + 1)
        // Print `else if` chains flat.
        while elseBody.count == 1, case .ifElse(let c, let t, let e, _) = elseBody[0] {
          line(indent, .seq([.text("end else if ("), continued([expr(c, context: 0)]), .text(") begin")]))
          emitStatements(t, indent: indent + 1)
          elseBody = e
        }
        if !elseBody.isEmpty {
          line(indent, "end else begin")
          emitStatements(elseBody, indent: indent + 1)
        }
        line(indent, "end")
      case .caseOf(let subject, let items, let defaultBody, _):
        line(indent, .seq([.text("unique case ("), continued([expr(subject, context: 0)]), .text(")")]))
        let subjectEnum = module.enumType(of: subject)
        for item in items {
          let labels = Doc.fill(item.values.map { .text(literal($0, as: subjectEnum)) }, separator: ",")
          line(indent + 1, .seq([continued([labels]), .text(": begin")]))
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
          let stateEnum = module.signal(r.state).enumType
          let value = r.resetValue.isZero && stateEnum == nil ? "'0" : literal(r.resetValue, as: stateEnum)
          line(3, "\(names.signals[r.state.index]) <= \(value);")
        }
        line(2, "end else begin")
        for r in regs { line(3, "\(names.signals[r.state.index]) <= \(names.signals[r.next.index]);") }
        line(2, "end")
      }
      line(1, "end")
    }
  }

  /// The module's `Assertion`s, simulation only. Immediate assertions in a
  /// plain `always @(posedge ...)`: Icarus 11 has no concurrent assertions,
  /// rejects labels on immediate ones, and warns about `$error` in an
  /// `always_ff`; the label goes into the message instead.
  mutating func emitAssertions() {
    guard !module.assertions.isEmpty, let clock = module.clock, let reset = module.reset else { return }
    let clk = names.signals[clock.index], rst = names.signals[reset.index]
    line(0, "")
    line(0, "`ifndef SYNTHESIS")
    let oneHotBits = module.assertionOneHotBits
    if !oneHotBits.isEmpty {
      line(1, "// The bits of the one-hot assertions.")
      let width = oneHotBits.map { typeText($0.bits.type.asUnsigned).count }.max() ?? 0
      for o in oneHotBits { line(1, typeText(o.bits.type.asUnsigned).rightPadded(to: width) + " " + o.name + ";") }
      for o in oneHotBits {
        line(1, .seq([.text("assign \(o.name) = "), continued([expr(o.bits, context: 0)]), .text(";")]))
      }
      line(0, "")
    }
    let history = module.assertionHistory
    if !history.isEmpty {
      // The value is kept only at an edge the next one checks, and compared only then: the
      // simulator copies and compares the (often wide) payload on stalls alone.
      line(1, "// The last edge's values, for the assertions about stability.")
      let width = history.map { typeText($0.type).count }.max() ?? 0
      for h in history {
        line(1, typeText(.bit).rightPadded(to: width) + " " + h.afterNow + ";")
        line(1, typeText(.bit).rightPadded(to: width) + " " + h.after + ";")
        line(1, typeText(h.type).rightPadded(to: width) + " " + h.value + ";")
      }
      for h in history {
        guard case .stable(_, let after) = h.assertion.check else { continue }
        line(1, .seq([.text("assign \(h.afterNow) = "), continued([expr(after, context: 0)]), .text(";")]))
      }
      line(0, "")
      line(1, "always_ff @(posedge \(clk) or negedge \(rst)) begin")
      line(2, "if (!\(rst)) begin")
      for h in history { line(3, "\(h.after) <= 1'b0;") }
      line(2, "end else begin")
      for h in history { line(3, "\(h.after) <= \(h.afterNow);") }
      line(2, "end")
      line(1, "end")
      line(0, "")
      line(1, "always_ff @(posedge \(clk)) begin")
      for h in history {
        guard case .stable(let value, _) = h.assertion.check else { continue }
        line(2, "if (\(h.afterNow)) begin")
        line(3, .seq([.text("\(h.value) <= "), continued([expr(value, context: 0)]), .text(";")]))
        line(2, "end")
      }
      line(1, "end")
      line(0, "")
    }
    line(1, "always @(posedge \(clk)) begin")
    line(2, "if (\(rst)) begin")
    for a in module.assertions {
      let condition: Doc
      var guardedBy: String?
      switch a.check {
      case .always(let c): condition = expr(c, context: 0)
      case .oneHot(_, let allowingNone, let when):
        let bits = oneHotBits.first { $0.assertion == a }!.name
        let check = Doc.text((allowingNone ? "$onehot0(" : "$onehot(") + bits + ")")
        condition = when.map { .seq([.text("!"), expr($0, context: 100), .text(" || "), check]) } ?? check
      case .stable(let value, _):
        let h = history.first { $0.assertion == a }!
        guardedBy = h.after
        condition = .seq([expr(value, context: 41), .text(" == \(h.value)")])
      }
      let indent = guardedBy == nil ? 3 : 4
      if let guardedBy { line(3, "if (\(guardedBy)) begin") }
      line(indent, .seq([.text("assert ("), continued([condition]), .text(")")]))
      line(indent + 1, "else $error(\"\(a.label): \(a.message)\");")
      if guardedBy != nil { line(3, "end") }
    }
    line(2, "end")
    line(1, "end")
    line(0, "`endif")
  }

  mutating func emitMemoryWrites() {
    guard let clock = module.clock else { return }
    for w in module.memoryWrites {
      line(0, "")
      line(1, "always_ff @(posedge \(names.signals[clock.index])) begin")
      line(2, .seq([.text("if ("), continued([expr(w.enable, context: 0)]), .text(") begin")]))
      let target = Doc.seq([.text(names.memories[w.memory.index] + "["), expr(w.address, context: 0), .text("] <= ")])
      line(3, .seq([target, continued([expr(w.data, context: 0)]), .text(";")]))
      line(2, "end")
      line(1, "end")
    }
  }

  mutating func emitInstance(_ instance: Instance, _ name: String) {
    line(0, "")
    emitInstanceHeader(instance.module, name, overrides: instance.parameterOverrides, indent: 1)
    // Connections print in the child's port order, whatever order the generator gave.
    let byPort = Dictionary(instance.connections.map { ($0.port, $0.expr) }, uniquingKeysWith: { a, _ in a })
    let ports = instance.module.ports.filter { byPort[$0.name] != nil }
    let width = ports.map(\.name.count).max() ?? 0
    for (i, p) in ports.enumerated() {
      let comma = i == ports.count - 1 ? "" : ","
      line(2, .seq([.text(".\(p.name.rightPadded(to: width)) ("), continued([expr(byPort[p.name]!, context: 0)]), .text(")\(comma)")]))
    }
    line(1, ");")
  }

  // MARK: Expressions

  /// A constant, by its enum value's name when it is one (or is compared with one).
  func literal(_ l: Literal, as enumType: EnumType?) -> String {
    if let name = l.constantName { return name }
    if let t = l.enumType ?? enumType, let v = t.value(Int(l.words[0])), l.type.width == t.width {
      return enumValueName(v, of: t)
    }
    return literal(l)
  }

  func literal(_ l: Literal) -> String {
    if let name = l.constantName { return name }
    if let symbolic = symbolicLiteral(l) { return symbolic }
    if let t = l.enumType, let v = t.value(Int(l.words[0])) { return enumValueName(v, of: t) }
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

  /// Hex digits, grouped by four from the right when there are more than
  /// eight. The options may drop the leading zeros of literals wider than 64
  /// bits (a sized literal zero-extends); narrower ones keep every digit, so
  /// tables of them stay aligned.
  func hexDigits(_ l: Literal) -> String {
    let digits = (l.type.width + 3) / 4
    func nibble(_ i: Int) -> UInt64 { (l.words[(i * 4) / 64] >> UInt64((i * 4) % 64)) & 0xF }
    var top = digits - 1
    if options.trimLiteralZeros && l.type.width > 64 {
      while top > 0 && nibble(top) == 0 { top -= 1 }
    }
    var s = ""
    for i in stride(from: top, through: 0, by: -1) {
      s += String(nibble(i), radix: 16)
      if i > 0 && i % 4 == 0 && digits > 8 { s += "_" }
    }
    return s
  }

  /// Signed extension and population count print as `W'(...)`.
  static func printsAsSizeCast(_ e: Expr) -> Bool {
    switch e.node {
    case .extend(let a, _): return a.signed || e.type.symbolicWidth != nil
    case .literal(let l): return l.symbolicValue != nil || l.type.symbolicWidth != nil
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

  /// The operator kinds whose mixing `PrinterOptions.parenthesizeMixedOperators` spells out.
  enum OperatorKind { case logical, bitwise, comparison, arithmetic }

  static func kind(_ op: BinaryOp) -> OperatorKind {
    if op.isLogical { return .logical }
    if op.isComparison { return .comparison }
    switch op {
    case .and, .or, .xor: return .bitwise
    default: return .arithmetic
    }
  }

  /// Whether an operand built with `inner` under `outer` reads ambiguously:
  /// `&&` in `||`, `&` in `|` or `&&`, a comparison or sum in `&`, `a < b == c`.
  static func mixes(_ inner: BinaryOp, under outer: BinaryOp) -> Bool {
    guard inner != outer else { return false }
    switch (kind(outer), kind(inner)) {
    case (.logical, .logical), (.logical, .bitwise), (.bitwise, _), (.comparison, .comparison): return true
    default: return false
    }
  }

  func parenthesized(_ d: Doc) -> Doc { .seq([.text("("), .nest(2, [d]), .text(")")]) }

  /// `prefix` + `d` + `suffix`, the inside nested as a continuation.
  func call(_ prefix: String, _ d: Doc, _ suffix: String = ")") -> Doc { .seq([.text(prefix), .nest(2, [d]), .text(suffix)]) }

  /// One operand of a binary operator.
  func operand(_ e: Expr, of op: BinaryOp, context: Int) -> Doc {
    if options.parenthesizeMixedOperators, case .binary(let inner, _, _) = e.node, Self.mixes(inner, under: op) {
      return parenthesized(expr(e, context: 0))
    }
    return expr(e, context: context)
  }

  /// A shift amount: sized to index the operand (`5'd3` for 32 bits) unless the options say otherwise.
  func shiftAmount(_ amount: Int, operandWidth: Int) -> String {
    guard options.sizedShiftAmounts else { return "\(amount)" }
    func bits(_ v: Int) -> Int { v <= 1 ? 1 : Int.bitWidth - (v - 1).leadingZeroBitCount }
    let width = max(bits(operandWidth), bits(amount + 1))
    return "\(width)'d\(amount)"
  }

  /// Prints `e` for a position of binding strength `context`; parentheses go
  /// in where the operator would otherwise bind wrongly, and where operators
  /// of different kinds meet when the options ask for it.
  func expr(_ e: Expr, context: Int) -> Doc {
    func wrap(_ d: Doc, _ precedence: Int) -> Doc { precedence < context ? parenthesized(d) : d }
    switch e.node {
    case .signal(let id): return .text(names.signals[id.index])
    case .parameter(let name): return .text(name)
    case .literal(let l): return .text(literal(l))
    case .unary(let op, let a):
      // Yosys 0.23 reads `-9'(x)` as a cast to size -9: parenthesize the
      // operands that print as size casts.
      let operand = expr(a, context: 100)
      return Self.printsAsSizeCast(a) ? call("\(op.rawValue)(", operand) : .seq([.text(op.rawValue), operand])
    case .binary(.mul, let a, let b) where a.width != b.width:
      return wrap(.seq([productOperand(a, e), .group([.space, .text("* "), productOperand(b, e)])]), 80)
    case .binary(let op, let a, let b):
      let p = Self.precedence(op)
      // A left-associative chain of one operator prints flat, breaking before an operator.
      var operands = [b]
      var head = a
      while case .binary(let inner, let x, let y) = head.node, inner == op {
        operands.append(y)
        head = x
      }
      var docs = [operand(head, of: op, context: p)]
      for o in operands.reversed() {
        // Left-associative: the right operand needs parentheses at equal strength.
        docs.append(.group([.space, .text(op.rawValue + " "), operand(o, of: op, context: p + 1)]))
      }
      return wrap(.seq(docs), p)
    case .shift(let op, let a, let amount):
      let value = expr(a, context: options.parenthesizeMixedOperators ? 100 : 61)
      return wrap(.seq([value, .text(" \(op.rawValue) \(shiftAmount(amount, operandWidth: a.width))")]), 60)
    case .slice(let a, let high, let low):
      if let n = e.sliceNames { return .seq([expr(a, context: 100), .text("[\(n.low) +: \(n.width)]")]) }
      return .seq([expr(a, context: 100), .text(high == low ? "[\(high)]" : "[\(high):\(low)]")])
    case .concat(let parts):
      return call("{", .fill(parts.map { expr($0, context: 0) }, separator: ","), "}")
    case .replicate(let count, let a):
      return call("{\(count){", expr(a, context: 0), "}}")
    case .mux(let c, let a, let b):
      return wrap(.seq([
        expr(c, context: 11), .group([.space, .text("? "), expr(a, context: 11)]),
        .group([.space, .text(": "), expr(b, context: 10)]),
      ]), 10)
    case .reinterpret(let a, let signed):
      return call(signed ? "$signed(" : "$unsigned(", expr(a, context: 0))
    case .extend(let a, let width):
      if e.type.symbolicWidth != nil { return call("\(sizeText(e.type))'(", expr(a, context: 0)) }
      if a.signed { return call("\(width)'(", expr(a, context: 0)) }
      return call("{", .fill([.text("\(width - a.width)'d0"), expr(a, context: 0)], separator: ","), "}")
    case .memoryRead(let id, let address):
      return .seq([.text(names.memories[id.index] + "["), expr(address, context: 0), .text("]")])
    case .countOnes(let a):
      // $countones returns a 32-bit int; the size cast states the real width,
      // and the options cast it to unsigned first (it counts, it is never negative).
      let count = call("$countones(", expr(a, context: 0))
      return call("\(e.width)'(", options.unsignedCountOnes ? call("$unsigned(", count) : count)
    }
  }
}
