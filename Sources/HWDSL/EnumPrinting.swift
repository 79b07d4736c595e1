/// What the printer needs to know about the enums a module uses.
extension Module {
  /// Enum types of the module's signals and constants, in first-use order.
  var enumTypes: [EnumType] {
    var seen: Set<String> = []
    var out: [EnumType] = []
    func note(_ t: EnumType?) {
      guard let t, seen.insert(t.name).inserted else { return }
      out.append(t)
    }
    for s in signals { note(s.enumType) }
    func visit(_ e: Expr) {
      switch e.node {
      case .literal(let l): note(l.enumType)
      case .signal, .parameter: break
      case .unary(_, let a), .shift(_, let a, _), .slice(let a, _, _), .replicate(_, let a), .reinterpret(let a, _),
        .extend(let a, _), .memoryRead(_, let a), .countOnes(let a):
        visit(a)
      case .binary(_, let a, let b): visit(a); visit(b)
      case .concat(let parts): parts.forEach(visit)
      case .mux(let c, let a, let b): visit(c); visit(a); visit(b)
      }
    }
    func visit(_ statements: [Statement]) {
      for s in statements {
        switch s {
        case .assign(_, let v, _): visit(v)
        case .ifElse(let c, let t, let e, _): visit(c); visit(t); visit(e)
        case .caseOf(let subject, let items, let d, _):
          visit(subject)
          for item in items {
            item.values.forEach { note($0.enumType) }
            visit(item.body)
          }
          visit(d)
        }
      }
    }
    for a in assigns { visit(a.value) }
    for b in combBlocks { visit(b.statements) }
    for w in memoryWrites { visit(w.enable); visit(w.address); visit(w.data) }
    for i in instances { i.connections.forEach { visit($0.expr) } }
    return out
  }

  /// Packages whose enums the module uses, for `import pkg::*;` in its header.
  var importedPackages: [String] {
    var out: [String] = []
    for t in enumTypes { if let p = t.package, !out.contains(p) { out.append(p) } }
    return out
  }

  /// The enum `e` carries as a value: an enum signal or an enum constant.
  /// (Icarus 11 types `c ? A : B` as its base type, so a choice between
  /// values is no enum value: write it as `if`.)
  func enumType(of e: Expr) -> EnumType? {
    switch e.node {
    case .signal(let id): return signals.indices.contains(id.index) ? signal(id).enumType : nil
    case .literal(let l): return l.enumType
    default: return nil
    }
  }
}

enum EnumChecks {
  /// A signal of a module-local enum is assigned only that enum's values and
  /// signals: anything else would need a cast, which Icarus 11 cannot do.
  static func check(_ module: Module) throws {
    var issues: [DesignIssue] = []
    func check(_ target: SignalID, _ value: Expr, _ location: SourceLocation) {
      guard module.signals.indices.contains(target.index), let t = module.signal(target).enumType, t.package == nil,
        module.enumType(of: value) != t
      else { return }
      issues.append(DesignIssue(
        kind: .width, module: module.name,
        message: "\(module.signal(target).name) is a \(t.name); assign it a value of the enum (use if/case, not ?:)",
        location: location))
    }
    func visit(_ statements: [Statement]) {
      for s in statements {
        switch s {
        case .assign(let target, let value, let location): check(target, value, location)
        case .ifElse(_, let t, let e, _): visit(t); visit(e)
        case .caseOf(_, let items, let d, _): items.forEach { visit($0.body) }; visit(d)
        }
      }
    }
    for a in module.assigns { check(a.target, a.value, a.location) }
    for b in module.combBlocks { visit(b.statements) }
    if !issues.isEmpty { throw DesignError(issues: issues) }
  }
}
