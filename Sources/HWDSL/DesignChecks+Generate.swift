/// The checks of generate loops and ROM reads, read as their unrolled form:
/// a loop's instance in iteration i connects to bits `[i*W +: W]` of each
/// sliced vector, so the vector must be exactly `count * W` bits (every bit
/// driven or read by one iteration), an output slice drives its whole vector
/// once, and the child's combinational paths join the vectors an iteration
/// reads to the vector it drives, exactly as `count` separate instances on
/// separate wires would.
extension Checker {
  /// The parent expressions `value` reads in one iteration, through the loop's wires.
  func parentExprs(_ value: LoopValue, in loop: GenerateLoop) -> [Expr] {
    switch value {
    case .shared(let e), .slice(let e, _): return [e]
    case .local(let i, _):
      // A wire an instance drives reads nothing of the parent itself.
      guard loop.wires.indices.contains(i), let v = loop.wires[i].value else { return [] }
      return parentExprs(v, in: loop)
    case .reinterpret(let v, _): return parentExprs(v, in: loop)
    }
  }

  func reads(_ value: LoopValue, in loop: GenerateLoop, into set: inout Set<SignalID>) {
    for e in parentExprs(value, in: loop) { reads(e, into: &set) }
  }

  /// The parent signal an output connection drives.
  func drivenSignal(_ value: LoopValue) -> SignalID? {
    switch value {
    case .shared(let e), .slice(let e, _): if case .signal(let id) = e.node { return id }
    case .local, .reinterpret: break
    }
    return nil
  }

  /// The parent signals an instance output reaches: its own, or those of the
  /// block's assignments that read the wire it drives.
  func drivenSignals(_ value: LoopValue, in loop: GenerateLoop) -> [SignalID] {
    if let id = drivenSignal(value) { return [id] }
    guard case .local(let i, _) = value else { return [] }
    func readsLocal(_ v: LoopValue) -> Bool {
      switch v {
      case .local(let j, _): return j == i
      case .reinterpret(let inner, _): return readsLocal(inner)
      case .shared, .slice: return false
      }
    }
    return loop.assigns.filter { readsLocal($0.value) }.compactMap { a in
      if case .signal(let id) = a.vector.node { return id }
      return nil
    }
  }

  /// A loop vector: a signal of the parent that `count` slices of `width` tile exactly.
  mutating func checkTiling(_ e: Expr, width: Int, in loop: GenerateLoop, _ location: SourceLocation) {
    guard case .signal(let id) = e.node else {
      report(.structure, "\(loop.label) can only slice a signal; assign the value to a wire first", location)
      return
    }
    if width < 1 || e.width != loop.count * width {
      report(.width, "\(loop.label) slices \(name(id)) (\(e.width) bits) into \(loop.count) x \(width) bits; "
        + "the iterations must tile it exactly (\(loop.count * width) bits)", location)
    }
  }

  mutating func checkLoopValue(_ value: LoopValue, in loop: GenerateLoop, upTo wireCount: Int, _ location: SourceLocation) {
    switch value {
    case .shared(let e):
      checkExpr(e, location)
    case .slice(let e, let width):
      checkExpr(e, location)
      checkTiling(e, width: width, in: loop, location)
    case .local(let i, let type):
      if i < 0 || i >= wireCount || loop.wires[i].type != type {
        report(.structure, "\(loop.label) reads a wire declared after it or in another loop", location)
      }
    case .reinterpret(let v, _):
      checkLoopValue(v, in: loop, upTo: wireCount, location)
    }
  }

  mutating func checkGenerateLoopsAndROMs() {
    var labels = Set(module.instances.map(\.name))
    for loop in module.generateLoops {
      if !labels.insert(loop.label).inserted { report(.structure, "two instances or loops named \(loop.label)", loop.location) }
      if loop.count < 1 { report(.structure, "\(loop.label) has \(loop.count) iterations", loop.location) }
      for (i, w) in loop.wires.enumerated() {
        if let v = w.value { checkLoopValue(v, in: loop, upTo: i, w.location) }
      }
      var localDrivers = [Int](repeating: 0, count: loop.wires.count)
      var localsRead: Set<Int> = []
      func noteLocals(_ v: LoopValue) {
        switch v {
        case .local(let i, _): localsRead.insert(i)
        case .reinterpret(let inner, _): noteLocals(inner)
        case .shared, .slice: break
        }
      }
      for w in loop.wires { if let v = w.value { noteLocals(v) } }
      for a in loop.assigns {
        checkLoopValue(a.value, in: loop, upTo: loop.wires.count, a.location)
        checkExpr(a.vector, a.location)
        checkTiling(a.vector, width: a.width, in: loop, a.location)
        noteLocals(a.value)
        if a.value.type != .uint(a.width) {
          report(.width, "\(loop.label) assigns a \(a.value.type) value to a \(a.width)-bit slice", a.location)
        }
        if case .signal(let id) = a.vector.node, module.signals.indices.contains(id.index),
          module.signal(id).kind != .wire && module.signal(id).kind != .output
        {
          report(.structure, "\(loop.label) can only assign slices of wires and outputs", a.location)
        }
      }
      var instanceNames: Set<String> = []
      for instance in loop.instances {
        let where_ = "\(loop.label)[i].\(instance.name)"
        if !instanceNames.insert(instance.name).inserted {
          report(.structure, "two instances named \(instance.name) in \(loop.label)", instance.location)
        }
        var connected: Set<String> = []
        for c in instance.connections {
          guard let p = instance.module.port(named: c.port) else {
            report(.structure, "\(instance.module.name) has no port \(c.port)", instance.location)
            continue
          }
          if !connected.insert(c.port).inserted { report(.structure, "port \(c.port) of \(where_) connected twice", instance.location) }
          checkLoopValue(c.value, in: loop, upTo: loop.wires.count, instance.location)
          noteLocals(c.value)
          if p.type != c.value.type {
            report(.width, "\(where_).\(c.port) is \(p.type), connected to \(c.value.type)", instance.location)
          }
          guard p.kind == .output else { continue }
          if case .local(let j, _) = c.value, loop.wires.indices.contains(j), loop.wires[j].value == nil {
            localDrivers[j] += 1
            continue
          }
          guard let id = drivenSignal(c.value), module.signals.indices.contains(id.index),
            module.signal(id).kind == .wire || module.signal(id).kind == .output
          else {
            report(.structure, "output \(where_).\(c.port) must connect to a wire or an output, or a slice of one", instance.location)
            continue
          }
          if case .shared = c.value, loop.count > 1 {
            report(.multipleDrivers, "\(name(id)) is driven by all \(loop.count) iterations of \(loop.label); "
              + "connect a slice", instance.location)
          }
        }
        for p in instance.module.ports where !connected.contains(p.name) {
          report(.structure, "port \(p.name) of \(where_) is not connected", instance.location)
        }
      }
      for (i, w) in loop.wires.enumerated() {
        if !localsRead.contains(i) { report(.unused, "\(loop.label) declares \(w.name) but never reads it", w.location) }
        if w.value == nil && localDrivers[i] != 1 {
          report(localDrivers[i] == 0 ? .undriven : .multipleDrivers,
                 "\(loop.label)'s \(w.name) is driven by \(localDrivers[i]) instance outputs, expected 1", w.location)
        }
      }
    }
    for read in module.romReads {
      checkExpr(read.address, read.location)
      guard module.roms.indices.contains(read.rom) else {
        report(.structure, "a read of a ROM of another module", read.location)
        continue
      }
      let rom = module.roms[read.rom]
      if module.signals.indices.contains(read.target.index), module.signal(read.target).type != rom.type {
        report(.width, "\(name(read.target)) is \(module.signal(read.target).type) but \(rom.name) holds \(rom.type)", read.location)
      }
      if read.address.width != rom.addressWidth {
        report(.width, "address of \(rom.name) is \(read.address.width) bits, expected \(rom.addressWidth)", read.location)
      }
    }
    for (i, rom) in module.roms.enumerated() {
      if rom.entries.count < 2 || rom.entries.count & (rom.entries.count - 1) != 0 {
        report(.structure, "\(rom.name) has \(rom.entries.count) entries; pad it to a power of two so every address "
          + "reads an entry", rom.location)
      }
      if !module.romReads.contains(where: { $0.rom == i }) { report(.unused, "\(rom.name) is never read", rom.location) }
    }
  }

  func addGenerateAndROMDrivers(_ drivers: inout [SignalID: [SourceLocation]]) {
    for loop in module.generateLoops {
      for a in loop.assigns { if case .signal(let id) = a.vector.node { drivers[id, default: []].append(a.location) } }
      for instance in loop.instances {
        for c in instance.connections where instance.module.port(named: c.port)?.kind == .output {
          guard let id = drivenSignal(c.value) else { continue }
          drivers[id, default: []].append(instance.location)
        }
      }
    }
    for read in module.romReads where read.target.index >= 0 { drivers[read.target, default: []].append(read.location) }
  }

  func addGenerateAndROMEdges(_ edges: inout [SignalID: [(SignalID, SourceLocation)]]) {
    for loop in module.generateLoops {
      for instance in loop.instances {
        let byPort = Dictionary(instance.connections.map { ($0.port, $0.value) }, uniquingKeysWith: { a, _ in a })
        for (output, inputs) in instance.module.combinationalPaths.sorted(by: { $0.key < $1.key }) {
          guard let outValue = byPort[output] else { continue }
          var r: Set<SignalID> = []
          for input in inputs { if let v = byPort[input] { reads(v, in: loop, into: &r) } }
          for target in drivenSignals(outValue, in: loop) {
            for f in r.sorted() { edges[f, default: []].append((target, instance.location)) }
          }
        }
      }
    }
    for read in module.romReads where read.target.index >= 0 {
      var r: Set<SignalID> = []
      reads(read.address, into: &r)
      for f in r.sorted() { edges[f, default: []].append((read.target, read.location)) }
    }
  }

  func addGenerateAndROMReads(_ used: inout Set<SignalID>) {
    for loop in module.generateLoops {
      for w in loop.wires { if let v = w.value { reads(v, in: loop, into: &used) } }
      for a in loop.assigns { reads(a.value, in: loop, into: &used) }
      for instance in loop.instances {
        for c in instance.connections where instance.module.port(named: c.port)?.kind == .input {
          reads(c.value, in: loop, into: &used)
        }
      }
    }
    for read in module.romReads { reads(read.address, into: &used) }
  }

  func generateLoopsAndROMsUse(_ uses: (Expr) -> Bool) -> Bool {
    module.generateLoops.contains { loop in
      loop.wires.contains { $0.value.map { parentExprs($0, in: loop).contains(where: uses) } ?? false }
        || loop.instances.contains { $0.connections.contains { parentExprs($0.value, in: loop).contains(where: uses) } }
    } || module.romReads.contains { uses($0.address) }
  }
}

extension Checker {
  /// Whether a declaration reads the parameter `name`: a signal's width, a
  /// memory's depth, another parameter's derivation, an instance's override
  /// or a generate loop's count.
  func declarationsUse(_ name: String) -> Bool {
    module.signals.contains { $0.type.symbolicWidth?.mentions(name) == true }
      || module.memories.contains { $0.symbolicDepth?.mentions(name) == true }
      || module.parameters.contains { $0.derivation?.mentions(name) == true }
      || module.instances.contains { $0.parameterOverrides.contains { $0.value.mentions(name) } }
      || module.generateLoops.contains { $0.symbolicCount?.mentions(name) == true }
  }
}
