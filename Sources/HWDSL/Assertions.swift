import HWSupport

/// A property the design must keep, checked in simulation only (like
/// OpenTitan's `prim_assert`): the printer puts every assertion of a module
/// in one `` `ifndef SYNTHESIS `` block (Yosys defines `SYNTHESIS`), as
/// immediate assertions in a clocked block, checked out of reset. Verilator
/// checks them with `--assert` (a failure stops the model: a Swift
/// `SimulationError`); Icarus checks them too.
///
/// Immediate rather than concurrent assertions because Icarus 11 has no
/// concurrent ones; a property about the last cycle (`stable`) keeps that
/// cycle's values in simulation-only registers inside the same block.
public struct Assertion: Hashable, Sendable {
  public enum Check: Hashable, Sendable {
    /// `condition` holds at every clock edge out of reset.
    case always(Expr)
    /// At an edge after one where `after` held, `value` is what it was at that edge.
    case stable(Expr, after: Expr)
    /// At most one bit of `bits` is set (exactly one unless `allowingNone`), at every edge
    /// where `when` holds (every edge without it).
    case oneHot(Expr, allowingNone: Bool, when: Expr?)
  }

  /// UpperCamelCase; printed with OpenTitan's `_A` suffix (`InStable_A`).
  public let name: String
  public let check: Check
  /// What a failure means, printed by `$error`.
  public let message: String
  public let location: SourceLocation

  public var label: String { name + "_A" }
}

extension ModuleBuilder {
  /// `condition` (1 bit) holds at every clock edge out of reset.
  public func assertAlways(
    _ name: String, _ condition: Expr, _ message: String, file: StaticString = #fileID, line: UInt = #line
  ) {
    precondition(condition.width == 1, "assertion \(name): the condition is \(condition.width) bits")
    addAssertion(Assertion(name: name, check: .always(condition), message: message, location: SourceLocation(file, line)))
  }

  /// After an edge where `after` (1 bit) held, `value` is unchanged at the next edge.
  public func assertStable(
    _ name: String, _ value: Expr, after: Expr, _ message: String, file: StaticString = #fileID, line: UInt = #line
  ) {
    precondition(after.width == 1, "assertion \(name): the condition is \(after.width) bits")
    addAssertion(
      Assertion(name: name, check: .stable(value, after: after), message: message, location: SourceLocation(file, line)))
  }

  /// The valid/ready rule: once `valid` is high and `ready` low, `valid` stays
  /// high and `payload` does not change until the transfer.
  public func assertValidReady(
    _ name: String, valid: Expr, ready: Expr, payload: [Expr], file: StaticString = #fileID, line: UInt = #line
  ) {
    assertStable(
      name, .concat([valid] + payload), after: valid && !ready,
      "valid or payload changed while stalled", file: file, line: line)
  }

  /// Exactly one bit of `bits` is set (at most one with `allowingNone`), in every cycle or, with
  /// `when`, in the cycles it holds.
  public func assertOneHot(
    _ name: String, _ bits: Expr, allowingNone: Bool = false, when: Expr? = nil, file: StaticString = #fileID,
    line: UInt = #line
  ) {
    precondition(when.map { $0.width == 1 } ?? true, "assertion \(name): the condition is not 1 bit")
    addAssertion(
      Assertion(
        name: name, check: .oneHot(bits, allowingNone: allowingNone, when: when),
        message: allowingNone ? "more than one bit set" : "not exactly one bit set", location: SourceLocation(file, line)))
  }

  /// `value` (of `E`'s width) names a value of `E`.
  public func assertLegal<E: HardwareEnum>(
    _ name: String, _ value: Expr, _ type: E.Type, file: StaticString = #fileID, line: UInt = #line
  ) {
    let legal = E.allCases.map { value.eq($0) }.reduce(Expr.low) { $0 || $1 }
    assertAlways(name, legal, "\(value.width)-bit value names no \(E.enumType.name) value", file: file, line: line)
  }
}

// MARK: Printing

extension Module {
  /// Simulation-only wires of the `oneHot` assertions: the bits, assigned continuously, so
  /// `$onehot` reads a plain signal (Icarus 11 miscounts an expression in a procedural block).
  var assertionOneHotBits: [(assertion: Assertion, name: String, bits: Expr)] {
    assertions.compactMap { a in
      guard case .oneHot(let bits, _, _) = a.check else { return nil }
      return (a, "sva_" + Naming.snakeCase(a.name) + "_bits", bits)
    }
  }

  /// Simulation-only signals of the `stable` assertions: the `after` condition now (a wire) and
  /// at the last edge (a register), and the value at the last edge where `after` held.
  var assertionHistory: [(assertion: Assertion, afterNow: String, after: String, value: String, type: HWType)] {
    assertions.compactMap { a in
      guard case .stable(let value, _) = a.check else { return nil }
      let base = "sva_" + Naming.snakeCase(a.name)
      return (a, base + "_after", base + "_after_q", base + "_value_q", value.type.asUnsigned)
    }
  }
}

enum AssertionChecks {
  /// A module with assertions needs the clock and reset they are checked on,
  /// distinct names, and expressions over its own signals.
  static func check(_ module: Module) throws {
    var issues: [DesignIssue] = []
    func report(_ message: String, _ location: SourceLocation) {
      issues.append(DesignIssue(kind: .structure, module: module.name, message: message, location: location))
    }
    var names: Set<String> = []
    for a in module.assertions {
      if module.clock == nil || module.reset == nil { report("assertion \(a.name) needs clk_i and rst_ni", a.location) }
      if !names.insert(a.name).inserted { report("two assertions are named \(a.name)", a.location) }
      if a.name.first?.isUppercase != true || a.name.contains("_") {
        report("assertion name \(a.name) is not UpperCamelCase", a.location)
      }
      let exprs: [Expr]
      switch a.check {
      case .always(let c): exprs = [c]
      case .stable(let v, let after): exprs = [v, after]
      case .oneHot(let bits, _, let when): exprs = [bits] + (when.map { [$0] } ?? [])
      }
      for e in exprs where !reads(e).allSatisfy({ module.signals.indices.contains($0.index) }) {
        report("assertion \(a.name) reads a signal of another module", a.location)
      }
    }
    if !issues.isEmpty { throw DesignError(issues: issues) }
  }

  static func reads(_ e: Expr) -> [SignalID] {
    switch e.node {
    case .signal(let id): return [id]
    case .parameter, .literal: return []
    case .unary(_, let a), .shift(_, let a, _), .slice(let a, _, _), .replicate(_, let a), .reinterpret(let a, _),
      .extend(let a, _), .memoryRead(_, let a), .countOnes(let a):
      return reads(a)
    case .binary(_, let a, let b): return reads(a) + reads(b)
    case .concat(let parts): return parts.flatMap(reads)
    case .mux(let c, let a, let b): return reads(c) + reads(a) + reads(b)
    }
  }
}
