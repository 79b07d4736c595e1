/// Printing of ROMs (`ROM.swift`) and generate loops (`Generate.swift`).
extension ModuleText {
  // MARK: ROMs

  /// A table entry in hex with every digit, so the arms of a table line up;
  /// grouped by four from the right beyond eight digits, like other literals.
  func romLiteral(_ l: Literal) -> String {
    let digits = (l.type.width + 3) / 4
    var s = ""
    for i in stride(from: digits - 1, through: 0, by: -1) {
      s += String((l.words[(i * 4) / 64] >> UInt64((i * 4) % 64)) & 0xF, radix: 16)
      if i > 0 && i % 4 == 0 && digits > 8 { s += "_" }
    }
    return "\(l.type.width)'h" + s
  }

  /// Each ROM read as an `always_comb` case, one arm a line: every address
  /// holding the same entry shares one arm, and zero entries fall to the
  /// default (ROM.swift says why a case).
  mutating func emitROMReads() {
    for read in module.romReads {
      let rom = module.roms[read.rom]
      let target = names.signals[read.target.index]
      let addressType = HWType.uint(rom.addressWidth)
      var arms: [(labels: [Int], value: Literal)] = []
      var armOf: [Literal: Int] = [:]
      for (k, entry) in rom.entries.enumerated() {
        if let a = armOf[entry] { arms[a].labels.append(k) } else {
          armOf[entry] = arms.count
          arms.append(([k], entry))
        }
      }
      line(0, "")
      if let comment = rom.comment { self.comment(1, comment) }
      line(1, "always_comb begin")
      line(2, .seq([.text("unique case ("), continued([expr(read.address, context: 0)]), .text(")")]))
      // Zero entries are the default's.
      for arm in arms where !arm.value.isZero {
        let labels = Doc.fill(arm.labels.map { .text(literal(Literal($0, addressType))) }, separator: ",")
        line(3, .seq([continued([labels]), .text(": \(target) = \(romLiteral(arm.value));")]))
      }
      line(3, "default: \(target) = \(literal(Literal(0, rom.type)));")
      line(2, "endcase")
      line(1, "end")
    }
  }

  // MARK: Generate loops

  mutating func emitGenerateLoops() {
    let parentNames = Set(names.signals)
    for loop in module.generateLoops {
      let genvar = parentNames.contains(loop.genvar) ? loop.genvar + "_" : loop.genvar
      // Wires inside the block must not shadow a parent signal the block reads.
      var taken = parentNames.union([genvar])
      let locals = loop.wires.map { w -> String in
        var candidate = systemVerilogKeywords.contains(w.name) ? w.name + "_" : w.name
        while taken.contains(candidate) { candidate += "_l" }
        taken.insert(candidate)
        return candidate
      }
      func value(_ v: LoopValue) -> Doc {
        switch v {
        case .shared(let e): return expr(e, context: 0)
        case .slice(let e, let width):
          let base = expr(e, context: 100)
          // One iteration takes the whole vector (a 1-bit logic has no bit select),
          // unless the count is a parameter that may be overridden.
          if loop.count == 1 && loop.symbolicCount == nil { return base }
          return .seq([base, .text(width == 1 ? "[\(genvar)]" : "[\(genvar)*\(width) +: \(width)]")])
        case .local(let i, _): return .text(locals[i])
        case .reinterpret(let inner, let signed): return call(signed ? "$signed(" : "$unsigned(", value(inner))
        }
      }
      line(0, "")
      let count = loop.symbolicCount?.description ?? "\(loop.count)"
      line(1, "for (genvar \(genvar) = 0; \(genvar) < \(count); \(genvar)++) begin : \(loop.label)")
      if !loop.wires.isEmpty {
        let width = loop.wires.map { typeText($0.type).count }.max() ?? 0
        for (i, w) in loop.wires.enumerated() { line(2, typeText(w.type).rightPadded(to: width) + " " + locals[i] + ";") }
        for (i, w) in loop.wires.enumerated() {
          guard let v = w.value else { continue }
          line(2, .seq([.text("assign \(locals[i]) = "), continued([value(v)]), .text(";")]))
        }
      }
      for (n, instance) in loop.instances.enumerated() {
        if n > 0 || !loop.wires.isEmpty { line(0, "") }
        emitInstanceHeader(instance.module, instance.name, overrides: [:], indent: 2)
        let byPort = Dictionary(instance.connections.map { ($0.port, $0.value) }, uniquingKeysWith: { a, _ in a })
        let ports = instance.module.ports.filter { byPort[$0.name] != nil }
        let width = ports.map(\.name.count).max() ?? 0
        for (i, p) in ports.enumerated() {
          let comma = i == ports.count - 1 ? "" : ","
          line(3, .seq([.text(".\(p.name.rightPadded(to: width)) ("), continued([value(byPort[p.name]!)]), .text(")\(comma)")]))
        }
        line(2, ");")
      }
      if !loop.assigns.isEmpty { line(0, "") }
      for a in loop.assigns {
        let target = value(.slice(a.vector, width: a.width))
        line(2, .seq([.text("assign "), target, .text(" = "), continued([value(a.value)]), .text(";")]))
      }
      line(1, "end")
    }
  }
}
