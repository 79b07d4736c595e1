/// Printing of ROMs (`ROM.swift`) and generate loops (`Generate.swift`).
extension ModuleText {
  // MARK: ROMs

  mutating func emitROMs() {
    for rom in module.roms {
      line(0, "")
      if let comment = rom.comment { self.comment(1, comment) }
      let w = rom.type.width
      line(1, "localparam int \(rom.widthName) = \(w);")
      if rom.stride != w { line(1, "localparam int \(rom.strideName) = \(rom.stride);") }
      line(1, "localparam logic [\(rom.entries.count)*\(rom.strideName)-1:0] \(rom.name) = {")
      // Entries from the highest address down (a concatenation lists its MSBs
      // first), runs of four or more equal entries as one replication, each
      // line with the address range it holds.
      var tokens: [(text: String, high: Int, low: Int)] = []
      var k = rom.entries.count - 1
      while k >= 0 {
        var low = k
        while low > 0 && rom.entries[low - 1] == rom.entries[k] { low -= 1 }
        let run = k - low + 1
        let value = romLiteral(rom.entries[k], width: rom.stride)
        if run >= 4 {
          tokens.append(("{\(run){\(value)}}", k, low))
          k = low - 1
        } else {
          tokens.append((value, k, k))
          k -= 1
        }
      }
      let room = options.lineLength - 4 - "  // 255:248".count
      var i = 0
      while i < tokens.count {
        var text = ""
        var j = i
        while j < tokens.count {
          let piece = tokens[j].text + (j == tokens.count - 1 ? "" : ",")
          if !text.isEmpty && text.count + 1 + piece.count > room { break }
          text += (text.isEmpty ? "" : " ") + piece
          j += 1
        }
        let range = tokens[i].high == tokens[j - 1].low ? "\(tokens[i].high)" : "\(tokens[i].high):\(tokens[j - 1].low)"
        line(2, text + "  // " + range)
        i = j
      }
      line(1, "};")
    }
  }

  /// An entry in hex with every digit, so the columns of a table line up;
  /// grouped by four from the right beyond eight digits, like other literals.
  func romLiteral(_ l: Literal, width: Int) -> String {
    let digits = (width + 3) / 4
    var s = ""
    for i in stride(from: digits - 1, through: 0, by: -1) {
      let word = (i * 4) / 64
      s += String(word < l.words.count ? (l.words[word] >> UInt64((i * 4) % 64)) & 0xF : 0, radix: 16)
      if i > 0 && i % 4 == 0 && digits > 8 { s += "_" }
    }
    return "\(width)'h" + s
  }

  mutating func emitROMReads() {
    guard !module.romReads.isEmpty else { return }
    line(0, "")
    for read in module.romReads {
      let rom = module.roms[read.rom]
      let select = Doc.seq([
        .text("\(rom.name)["), expr(read.address, context: 81), .text("*\(rom.strideName) +: \(rom.widthName)]"),
      ])
      line(1, .seq([.text("assign \(names.signals[read.target.index]) = "), continued([select]), .text(";")]))
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
          // One iteration takes the whole vector (a 1-bit logic has no bit select).
          if loop.count == 1 { return base }
          return .seq([base, .text(width == 1 ? "[\(genvar)]" : "[\(genvar)*\(width) +: \(width)]")])
        case .local(let i, _): return .text(locals[i])
        case .reinterpret(let inner, let signed): return call(signed ? "$signed(" : "$unsigned(", value(inner))
        }
      }
      line(0, "")
      line(1, "for (genvar \(genvar) = 0; \(genvar) < \(loop.count); \(genvar)++) begin : \(loop.label)")
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
        line(2, "\(instance.module.name) \(instance.name) (")
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
