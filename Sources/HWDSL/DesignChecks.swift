/// A problem found in a module, located at the generator line that made it.
public struct DesignIssue: Hashable, Sendable, CustomStringConvertible {
  public enum Kind: String, Hashable, Sendable {
    case width = "width mismatch"
    case undriven = "undriven"
    case multipleDrivers = "multiple drivers"
    case latch = "latch"
    case combinationalLoop = "combinational loop"
    case blockFeedback = "always_comb feedback"
    case unused = "unused"
    case structure = "invalid structure"
  }
  public let kind: Kind
  public let module: String
  public let message: String
  public let location: SourceLocation
  public var description: String { "\(location): \(kind.rawValue) in module \(module): \(message)" }
}

/// Every issue a module has; the first is the one-line summary.
public struct DesignError: Error, CustomStringConvertible {
  public let issues: [DesignIssue]
  public var description: String {
    issues.count == 1 ? issues[0].description : "\(issues[0].description) (and \(issues.count - 1) more)"
  }
  public func has(_ kind: DesignIssue.Kind) -> Bool { issues.contains { $0.kind == kind } }
}

/// The passes that run before a module may be printed: types and widths,
/// drivers, latches, combinational loops and unused declarations.
enum DesignChecks {
  static func run(_ module: Module) throws -> [String: [String]] {
    var checker = Checker(module: module)
    checker.checkTypes()
    checker.checkDrivers()
    checker.checkLatches()
    let edges = checker.combinationalEdges()
    let paths = checker.checkLoopsAndSummarize(edges)
    checker.checkBlockFeedback(edges)
    checker.checkUnused()
    if !checker.issues.isEmpty { throw DesignError(issues: checker.issues) }
    return paths
  }
}

struct Checker {
  let module: Module
  var issues: [DesignIssue] = []

  init(module: Module) { self.module = module }

  mutating func report(_ kind: DesignIssue.Kind, _ message: String, _ location: SourceLocation) {
    issues.append(DesignIssue(kind: kind, module: module.name, message: message, location: location))
  }

  func name(_ id: SignalID) -> String { module.signals.indices.contains(id.index) ? module.signal(id).name : "<not a signal>" }

  // MARK: Types and widths

  mutating func checkTypes() {
    for a in module.assigns { checkAssignment(a.target, a.value, a.location) }
    for block in module.combBlocks { checkStatements(block.statements, inComb: true) }
    for w in module.memoryWrites {
      let memory = module.memories[w.memory.index]
      checkExpr(w.enable, w.location)
      checkExpr(w.address, w.location)
      checkExpr(w.data, w.location)
      if w.enable.width != 1 { report(.width, "write enable of \(memory.name) is \(w.enable.width) bits, expected 1", w.location) }
      let addressWidth = max(1, ceilLog2(memory.depth))
      if w.address.width != addressWidth {
        report(.width, "write address of \(memory.name) is \(w.address.width) bits, expected \(addressWidth)", w.location)
      }
      if w.data.type != memory.type {
        report(.width, "write data of \(memory.name) is \(w.data.type), memory holds \(memory.type)", w.location)
      }
    }
    for register in module.registers where !Literal.fits(0, module.signal(register.state).type) {
      report(.structure, "register \(name(register.state)) has no valid width", register.location)
    }
    if !module.registers.isEmpty {
      if module.clock == nil {
        report(.structure, "module has registers but no clock; call clock()", module.registers[0].location)
      }
      if let a = module.registers.first(where: { $0.reset == .asynchronous }),
        module.registers.contains(where: { $0.reset == .synchronous })
      {
        report(.structure, "one reset cannot be both synchronous and asynchronous; register \(name(a.state)) is asynchronous", a.location)
      }
      if module.reset == nil, let r = module.registers.first(where: { $0.reset != .none }) {
        report(.structure, "register \(name(r.state)) needs a reset; call reset()", r.location)
      }
    }
    for s in module.signals where s.type.width < 1 {
      report(.width, "\(s.name) has width \(s.type.width); widths start at 1", s.location)
    }
    checkInstances()
    checkGenerateLoopsAndROMs()
  }

  mutating func checkInstances() {
    var instanceNames: Set<String> = []
    for instance in module.instances {
      if !instanceNames.insert(instance.name).inserted {
        report(.structure, "two instances named \(instance.name)", instance.location)
      }
      let child = instance.module
      var connected: Set<String> = []
      for (port, expr) in instance.connections {
        guard let p = child.port(named: port) else {
          report(.structure, "\(child.name) has no port \(port)", instance.location)
          continue
        }
        if !connected.insert(port).inserted { report(.structure, "port \(port) of \(instance.name) connected twice", instance.location) }
        checkExpr(expr, instance.location)
        if p.type != expr.type {
          report(.width, "\(instance.name).\(port) is \(p.type), connected to \(expr.type)", instance.location)
        }
        if p.kind == .output {
          guard case .signal(let id) = expr.node, module.signal(id).kind == .wire || module.signal(id).kind == .output else {
            report(.structure, "output \(instance.name).\(port) must connect to a wire or an output", instance.location)
            continue
          }
        }
      }
      for p in child.ports where !connected.contains(p.name) {
        report(.structure, "port \(p.name) of \(instance.name) is not connected", instance.location)
      }
    }
  }

  mutating func checkAssignment(_ target: SignalID, _ value: Expr, _ location: SourceLocation) {
    checkExpr(value, location)
    checkProductsAreAssignedWhole(value, root: true, location)
    guard module.signals.indices.contains(target.index) else {
      report(.structure, "the left side of an assignment must be a signal", location)
      return
    }
    let t = module.signal(target)
    switch t.kind {
    case .input: report(.multipleDrivers, "\(t.name) is an input and cannot be assigned", location)
    case .registerState: report(.structure, "\(t.name) is a register's state; assign its next value instead", location)
    default: break
    }
    if t.type != value.type {
      report(.width, "\(t.name) is \(t.type) but is assigned a \(value.type) value", location)
    }
  }

  /// SystemVerilog sizes `a * b` by its context, so a product is only full
  /// width when it is the whole right side of an assignment to a signal of its
  /// width; anywhere else it would be silently truncated.
  mutating func checkProductsAreAssignedWhole(_ e: Expr, root: Bool, _ location: SourceLocation) {
    switch e.node {
    case .binary(.mul, let a, let b):
      if !root { report(.structure, "a product must be assigned whole to a wire of its width before further use", location) }
      checkProductsAreAssignedWhole(a, root: false, location)
      checkProductsAreAssignedWhole(b, root: false, location)
    case .signal, .parameter, .literal: break
    case .unary(_, let a), .shift(_, let a, _), .slice(let a, _, _), .replicate(_, let a), .reinterpret(let a, _),
      .extend(let a, _), .memoryRead(_, let a), .countOnes(let a):
      checkProductsAreAssignedWhole(a, root: false, location)
    case .binary(_, let a, let b):
      checkProductsAreAssignedWhole(a, root: false, location)
      checkProductsAreAssignedWhole(b, root: false, location)
    case .concat(let parts): for p in parts { checkProductsAreAssignedWhole(p, root: false, location) }
    case .mux(let c, let a, let b):
      checkProductsAreAssignedWhole(c, root: false, location)
      checkProductsAreAssignedWhole(a, root: false, location)
      checkProductsAreAssignedWhole(b, root: false, location)
    }
  }

  mutating func checkStatements(_ statements: [Statement], inComb: Bool) {
    for statement in statements {
      switch statement {
      case .assign(let target, let value, let location):
        checkAssignment(target, value, location)
      case .ifElse(let condition, let thenBody, let elseBody, let location):
        checkExpr(condition, location)
        if condition.width != 1 { report(.width, "if condition is \(condition.width) bits, expected 1", location) }
        checkStatements(thenBody, inComb: inComb)
        checkStatements(elseBody, inComb: inComb)
      case .caseOf(let subject, let items, let defaultBody, let location):
        checkExpr(subject, location)
        var seen: Set<Literal> = []
        for item in items {
          for value in item.values where !seen.insert(value).inserted {
            report(.structure, "case value listed twice", location)
          }
          checkStatements(item.body, inComb: inComb)
        }
        checkStatements(defaultBody, inComb: inComb)
      }
    }
  }

  mutating func checkExpr(_ e: Expr, _ location: SourceLocation) {
    switch e.node {
    case .signal(let id):
      if !module.signals.indices.contains(id.index) { report(.structure, "reference to a signal of another module", location) }
    case .parameter(let p):
      if !module.parameters.contains(where: { $0.name == p }) { report(.structure, "unknown parameter \(p)", location) }
    case .literal(let literal):
      if literal.type.width < 1 { report(.width, "literal of width \(literal.type.width)", location) }
    case .unary(let op, let a):
      checkExpr(a, location)
      if op == .logicalNot && a.width != 1 { report(.width, "! needs a 1-bit operand, got \(a.width) bits", location) }
    case .binary(let op, let a, let b):
      checkExpr(a, location)
      checkExpr(b, location)
      if op.isLogical {
        if a.width != 1 || b.width != 1 { report(.width, "\(op.rawValue) needs 1-bit operands, got \(a.width) and \(b.width)", location) }
      } else if op == .mul {
        if a.signed != b.signed { report(.width, "* mixes signed and unsigned operands", location) }
      } else if a.type != b.type {
        report(.width, "operands of \(op.rawValue) differ: \(a.type) and \(b.type)", location)
      }
    case .shift(_, let a, let amount):
      checkExpr(a, location)
      if amount < 0 || amount >= a.width { report(.width, "shift by \(amount) of a \(a.width)-bit value", location) }
    case .slice(let a, let high, let low):
      checkExpr(a, location)
      if !a.isSelectable { report(.structure, "SystemVerilog can only slice a signal; assign the value to a wire first", location) }
      if low < 0 || high < low || high >= a.width { report(.width, "slice [\(high):\(low)] of a \(a.width)-bit value", location) }
    case .concat(let parts):
      for part in parts { checkExpr(part, location) }
      if parts.isEmpty { report(.width, "empty concatenation", location) }
    case .replicate(let count, let a):
      checkExpr(a, location)
      if count < 1 { report(.width, "replication count \(count)", location) }
    case .mux(let c, let a, let b):
      checkExpr(c, location)
      checkExpr(a, location)
      checkExpr(b, location)
      if c.width != 1 { report(.width, "mux select is \(c.width) bits, expected 1", location) }
      if a.type != b.type { report(.width, "mux arms differ: \(a.type) and \(b.type)", location) }
    case .reinterpret(let a, _):
      checkExpr(a, location)
    case .extend(let a, let width):
      checkExpr(a, location)
      if a.signed && !a.isSelectable {
        report(.structure, "sign extension needs a signal; assign the value to a wire first", location)
      }
      if width < a.width { report(.width, "extending a \(a.width)-bit value to \(width) bits", location) }
    case .countOnes(let a):
      checkExpr(a, location)
    case .memoryRead(let id, let address):
      checkExpr(address, location)
      let memory = module.memories[id.index]
      let addressWidth = max(1, ceilLog2(memory.depth))
      if address.width != addressWidth {
        report(.width, "read address of \(memory.name) is \(address.width) bits, expected \(addressWidth)", location)
      }
    }
  }

  // MARK: Drivers

  mutating func checkDrivers() {
    var drivers: [SignalID: [SourceLocation]] = [:]
    for a in module.assigns where module.signals.indices.contains(a.target.index) {
      drivers[a.target, default: []].append(a.location)
    }
    for block in module.combBlocks {
      for id in assigned(in: block.statements).sorted() { drivers[id, default: []].append(block.location) }
    }
    for instance in module.instances {
      for (port, expr) in instance.connections {
        if instance.module.port(named: port)?.kind == .output, case .signal(let id) = expr.node {
          drivers[id, default: []].append(instance.location)
        }
      }
    }
    addGenerateAndROMDrivers(&drivers)
    for s in module.signals {
      let count = drivers[s.id]?.count ?? 0
      switch s.kind {
      case .input, .registerState:
        continue
      case .output, .wire, .registerNext:
        if count == 0 {
          let what = s.kind == .registerNext ? "register \(s.name.dropLast(2)) has no next-state assignment" : "\(s.name) is never driven"
          report(.undriven, what, s.location)
        } else if count > 1 {
          let places = drivers[s.id]!.map(\.description).joined(separator: ", ")
          report(.multipleDrivers, "\(s.name) is driven from \(count) places (\(places))", drivers[s.id]![1])
        }
      }
    }
  }

  func assigned(in statements: [Statement]) -> Set<SignalID> {
    var result: Set<SignalID> = []
    for statement in statements {
      switch statement {
      case .assign(let target, _, _): if target.index >= 0 { result.insert(target) }
      case .ifElse(_, let t, let e, _): result.formUnion(assigned(in: t)); result.formUnion(assigned(in: e))
      case .caseOf(_, let items, let d, _):
        for item in items { result.formUnion(assigned(in: item.body)) }
        result.formUnion(assigned(in: d))
      }
    }
    return result
  }

  // MARK: Latches

  /// Signals assigned on every path through `statements`.
  func definitelyAssigned(_ statements: [Statement]) -> Set<SignalID> {
    var result: Set<SignalID> = []
    for statement in statements {
      switch statement {
      case .assign(let target, _, _): result.insert(target)
      case .ifElse(_, let t, let e, _): result.formUnion(definitelyAssigned(t).intersection(definitelyAssigned(e)))
      case .caseOf(_, let items, let d, _):
        var all = definitelyAssigned(d)
        for item in items { all.formIntersection(definitelyAssigned(item.body)) }
        result.formUnion(all)
      }
    }
    return result
  }

  func firstAssignment(of id: SignalID, in statements: [Statement]) -> SourceLocation? {
    for statement in statements {
      switch statement {
      case .assign(let target, _, let location): if target == id { return location }
      case .ifElse(_, let t, let e, _):
        if let l = firstAssignment(of: id, in: t) ?? firstAssignment(of: id, in: e) { return l }
      case .caseOf(_, let items, let d, _):
        for item in items { if let l = firstAssignment(of: id, in: item.body) { return l } }
        if let l = firstAssignment(of: id, in: d) { return l }
      }
    }
    return nil
  }

  mutating func checkLatches() {
    for block in module.combBlocks {
      let partial = assigned(in: block.statements).subtracting(definitelyAssigned(block.statements))
      for id in partial.sorted() {
        report(.latch, "\(name(id)) is not assigned on every path of its always_comb block; give it a default first",
               firstAssignment(of: id, in: block.statements) ?? block.location)
      }
    }
  }

  // MARK: Combinational loops

  func reads(_ e: Expr, into set: inout Set<SignalID>) {
    switch e.node {
    case .signal(let id): set.insert(id)
    case .parameter, .literal: break
    case .unary(_, let a), .shift(_, let a, _), .slice(let a, _, _), .replicate(_, let a), .reinterpret(let a, _),
      .extend(let a, _), .memoryRead(_, let a), .countOnes(let a):
      reads(a, into: &set)
    case .binary(_, let a, let b): reads(a, into: &set); reads(b, into: &set)
    case .concat(let parts): for p in parts { reads(p, into: &set) }
    case .mux(let c, let a, let b): reads(c, into: &set); reads(a, into: &set); reads(b, into: &set)
    }
  }

  /// Edges from each signal to the signals computed combinationally from it,
  /// with the location that made the edge.
  func combinationalEdges() -> [SignalID: [(SignalID, SourceLocation)]] {
    var edges: [SignalID: [(SignalID, SourceLocation)]] = [:]
    func add(_ from: Set<SignalID>, _ to: SignalID, _ location: SourceLocation) {
      for f in from.sorted() { edges[f, default: []].append((to, location)) }
    }
    for a in module.assigns where a.target.index >= 0 {
      var r: Set<SignalID> = []
      reads(a.value, into: &r)
      add(r, a.target, a.location)
    }
    func walk(_ statements: [Statement], _ context: Set<SignalID>) {
      for statement in statements {
        switch statement {
        case .assign(let target, let value, let location):
          guard target.index >= 0 else { continue }
          var r = context
          reads(value, into: &r)
          add(r, target, location)
        case .ifElse(let c, let t, let e, _):
          var r = context
          reads(c, into: &r)
          walk(t, r)
          walk(e, r)
        case .caseOf(let s, let items, let d, _):
          var r = context
          reads(s, into: &r)
          for item in items { walk(item.body, r) }
          walk(d, r)
        }
      }
    }
    for block in module.combBlocks { walk(block.statements, []) }
    for instance in module.instances {
      let byPort = Dictionary(instance.connections.map { ($0.port, $0.expr) }, uniquingKeysWith: { a, _ in a })
      for (output, inputs) in instance.module.combinationalPaths.sorted(by: { $0.key < $1.key }) {
        guard let outExpr = byPort[output], case .signal(let target) = outExpr.node else { continue }
        var r: Set<SignalID> = []
        for input in inputs { if let e = byPort[input] { reads(e, into: &r) } }
        add(r, target, instance.location)
      }
    }
    addGenerateAndROMEdges(&edges)
    return edges
  }

  mutating func checkLoopsAndSummarize(_ edges: [SignalID: [(SignalID, SourceLocation)]]) -> [String: [String]] {
    // Iterative three-colour DFS; a grey successor closes a loop.
    var colour = [Int](repeating: 0, count: module.signals.count)
    var reported: Set<SignalID> = []
    for start in module.signals.map(\.id) where colour[start.index] == 0 {
      var stack: [(SignalID, Int)] = [(start, 0)]
      var path: [SignalID] = [start]
      colour[start.index] = 1
      while let (node, next) = stack.last {
        let successors = edges[node] ?? []
        if next < successors.count {
          stack[stack.count - 1].1 += 1
          let (succ, location) = successors[next]
          if colour[succ.index] == 1 {
            if !reported.contains(succ) {
              reported.insert(succ)
              let cycle = path[path.firstIndex(of: succ)!...].map(name) + [name(succ)]
              report(.combinationalLoop, cycle.joined(separator: " -> "), location)
            }
          } else if colour[succ.index] == 0 {
            colour[succ.index] = 1
            stack.append((succ, 0))
            path.append(succ)
          }
        } else {
          colour[node.index] = 2
          stack.removeLast()
          path.removeLast()
        }
      }
    }
    // Which inputs reach each output combinationally.
    var summary: [String: [String]] = [:]
    var reverse: [SignalID: [SignalID]] = [:]
    for (from, tos) in edges { for (to, _) in tos { reverse[to, default: []].append(from) } }
    for output in module.signals where output.kind == .output {
      var seen: Set<SignalID> = [output.id]
      var work = [output.id]
      var inputs: [String] = []
      while let s = work.popLast() {
        for prev in reverse[s] ?? [] where seen.insert(prev).inserted {
          if module.signal(prev).kind == .input { inputs.append(module.signal(prev).name) }
          work.append(prev)
        }
      }
      if !inputs.isEmpty { summary[output.name] = inputs.sorted() }
    }
    return summary
  }

  // MARK: A block reading its own results

  /// Every signal an `always_comb` block assigns and every one it reads.
  func footprint(_ statements: [Statement]) -> (writes: Set<SignalID>, reads: Set<SignalID>) {
    var writes: Set<SignalID> = []
    var r: Set<SignalID> = []
    func walk(_ statements: [Statement]) {
      for statement in statements {
        switch statement {
        case .assign(let target, let value, _):
          if target.index >= 0 { writes.insert(target) }
          reads(value, into: &r)
        case .ifElse(let c, let t, let e, _): reads(c, into: &r); walk(t); walk(e)
        case .caseOf(let s, let items, let d, _):
          reads(s, into: &r)
          for item in items { walk(item.body) }
          walk(d)
        }
      }
    }
    walk(statements)
    return (writes, r)
  }

  /// An `always_comb` block must not read a signal computed, outside the block, from one the
  /// block assigns (`a = ...; y_d = f(a)` with `f` a continuous assignment or an instance).
  /// That is no loop signal by signal, but the block has to run twice to settle, and an
  /// event-driven simulator that does not wake a process on changes it caused itself (Icarus)
  /// keeps the first, stale value. Such a block is split in two: the signals it feeds forward
  /// in one, what reads them back in another.
  mutating func checkBlockFeedback(_ edges: [SignalID: [(SignalID, SourceLocation)]]) {
    for block in module.combBlocks {
      let (writes, readSet) = footprint(block.statements)
      var reached: Set<SignalID> = []
      var via: [SignalID: SignalID] = [:]
      var work = writes.sorted()
      for w in work { via[w] = w }
      while let s = work.popLast() {
        for (next, _) in edges[s] ?? [] where !writes.contains(next) && reached.insert(next).inserted {
          via[next] = via[s]
          work.append(next)
        }
      }
      if let fed = readSet.intersection(reached).min(), let source = via[fed] {
        report(
          .blockFeedback,
          "the block assigns \(name(source)) and reads \(name(fed)), computed from it outside the block; "
            + "split the block so each half reads only what the other computes",
          block.location)
      }
    }
  }

  // MARK: Unused declarations

  mutating func checkUnused() {
    var used: Set<SignalID> = []
    for a in module.assigns { reads(a.value, into: &used) }
    for block in module.combBlocks { used.formUnion(footprint(block.statements).reads) }
    for w in module.memoryWrites {
      reads(w.enable, into: &used)
      reads(w.address, into: &used)
      reads(w.data, into: &used)
    }
    for instance in module.instances {
      for (port, expr) in instance.connections where instance.module.port(named: port)?.kind == .input {
        reads(expr, into: &used)
      }
    }
    addGenerateAndROMReads(&used)
    for r in module.registers { used.insert(r.next) }
    if let clock = module.clock, !module.registers.isEmpty || !module.memoryWrites.isEmpty { used.insert(clock) }
    if let reset = module.reset, module.registers.contains(where: { $0.reset != .none }) { used.insert(reset) }
    // A wire named `unused_*` collects bits dropped on purpose (lowRISC's idiom,
    // e.g. `assign unused_p = ^p[65:64];`); Verilator's lint exempts such names too.
    for s in module.signals where s.kind != .output && !used.contains(s.id) {
      if s.kind == .wire && s.name.hasPrefix("unused_") { continue }
      report(.unused, "\(s.name) is declared but never read", s.location)
    }
    for p in module.parameters {
      if !parameterUsed(p.name) { report(.unused, "parameter \(p.name) is never used", p.location) }
    }
  }

  func parameterUsed(_ name: String) -> Bool {
    func uses(_ e: Expr) -> Bool {
      if e.type.symbolicWidth?.mentions(name) == true { return true }
      switch e.node {
      case .parameter(let p): return p == name
      case .literal(let l): return l.symbolicValue?.mentions(name) == true
      case .signal: return false
      case .unary(_, let a), .shift(_, let a, _), .slice(let a, _, _), .replicate(_, let a), .reinterpret(let a, _),
        .extend(let a, _), .memoryRead(_, let a), .countOnes(let a):
        return uses(a)
      case .binary(_, let a, let b): return uses(a) || uses(b)
      case .concat(let parts): return parts.contains(where: uses)
      case .mux(let c, let a, let b): return uses(c) || uses(a) || uses(b)
      }
    }
    func inStatements(_ statements: [Statement]) -> Bool {
      statements.contains { statement in
        switch statement {
        case .assign(_, let value, _): return uses(value)
        case .ifElse(let c, let t, let e, _): return uses(c) || inStatements(t) || inStatements(e)
        case .caseOf(let s, let items, let d, _): return uses(s) || items.contains { inStatements($0.body) } || inStatements(d)
        }
      }
    }
    return module.assigns.contains { uses($0.value) } || module.combBlocks.contains { inStatements($0.statements) }
      || module.instances.contains { $0.connections.contains { uses($0.expr) } }
      || generateLoopsAndROMsUse(uses) || declarationsUse(name)
  }
}
