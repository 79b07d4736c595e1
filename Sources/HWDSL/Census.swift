/// Multipliers read from the IR rather than kept by hand: each `*` operator,
/// by operand widths, over a module and everything it instantiates, an
/// instance array counting once per iteration. (Port lists need no census:
/// `Module.ports` is what simulators and benches bind to.)
public struct MultiplierCensus: Hashable, Sendable, CustomStringConvertible {
  /// Operand widths (wider first) to how many multipliers of that shape.
  public internal(set) var shapes: [Shape: Int] = [:]

  public struct Shape: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let a: Int
    public let b: Int
    public init(_ x: Int, _ y: Int) {
      a = Swift.max(x, y)
      b = Swift.min(x, y)
    }
    public static func < (l: Shape, r: Shape) -> Bool { (l.a, l.b) < (r.a, r.b) }
    public var description: String { "\(a)x\(b)" }
  }

  public var total: Int { shapes.values.reduce(0, +) }
  public func count(_ a: Int, _ b: Int) -> Int { shapes[Shape(a, b)] ?? 0 }

  mutating func add(_ other: MultiplierCensus, times n: Int) {
    for (shape, count) in other.shapes { shapes[shape, default: 0] += count * n }
  }

  public var description: String {
    shapes.keys.sorted(by: >).map { "\(shapes[$0]!) x \($0)" }.joined(separator: ", ")
  }
}

extension Module {
  /// The multipliers of this module and its whole hierarchy.
  public var multipliers: MultiplierCensus {
    var census = MultiplierCensus()
    func visit(_ e: Expr) {
      switch e.node {
      case .binary(let op, let a, let b):
        if op == .mul { census.shapes[.init(a.width, b.width), default: 0] += 1 }
        visit(a)
        visit(b)
      case .signal, .parameter, .literal: break
      case .unary(_, let a), .shift(_, let a, _), .slice(let a, _, _), .replicate(_, let a), .reinterpret(let a, _),
        .extend(let a, _), .memoryRead(_, let a), .countOnes(let a):
        visit(a)
      case .concat(let parts): parts.forEach(visit)
      case .mux(let c, let a, let b): visit(c); visit(a); visit(b)
      }
    }
    func visit(_ statements: [Statement]) {
      for s in statements {
        switch s {
        case .assign(_, let value, _): visit(value)
        case .ifElse(let c, let t, let e, _): visit(c); visit(t); visit(e)
        case .caseOf(let subject, let items, let d, _):
          visit(subject)
          for item in items { visit(item.body) }
          visit(d)
        }
      }
    }
    func visit(_ value: LoopValue) {
      switch value {
      case .shared(let e), .slice(let e, _): visit(e)
      case .local: break
      case .reinterpret(let v, _): visit(v)
      }
    }
    for a in assigns { visit(a.value) }
    for block in combBlocks { visit(block.statements) }
    for w in memoryWrites { visit(w.enable); visit(w.address); visit(w.data) }
    for read in romReads { visit(read.address) }
    for instance in instances {
      instance.connections.forEach { visit($0.expr) }
      census.add(instance.module.multipliers, times: 1)
    }
    for loop in generateLoops {
      for w in loop.wires { if let v = w.value { visit(v) } }
      for instance in loop.instances {
        instance.connections.forEach { visit($0.value) }
        census.add(instance.module.multipliers, times: loop.count)
      }
    }
    return census
  }
}
