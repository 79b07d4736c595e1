import HWSupport

/// A SystemVerilog package: enums and named constants shared by the modules
/// that `import` it (and by the Swift code it is made from). Modules import
/// a package by using one of its enums (`EnumType.package`); `Design` takes
/// the packages its modules import and writes them first.
public struct Package: Hashable, Sendable {
  /// A `localparam int Name = value;` (UpperCamelCase, as lowRISC names constants).
  public struct Constant: Hashable, Sendable {
    public let name: String
    public let value: Int
    public let comment: String?
    public init(_ name: String, _ value: Int, comment: String? = nil) {
      self.name = name
      self.value = value
      self.comment = comment
    }
  }

  /// `_pkg`-suffixed, as is the file (`mmfree_pkg.sv`).
  public let name: String
  public let comment: [String]
  public let enums: [EnumType]
  /// Groups of constants, each printed as a block after its comment.
  public let constants: [(comment: String?, constants: [Constant])]

  public init(name: String, comment: [String] = [], enums: [EnumType], constants: [(comment: String?, constants: [Constant])]) {
    precondition(name.hasSuffix("_pkg"), "package names end in _pkg: \(name)")
    precondition(enums.allSatisfy { $0.package == name }, "an enum of \(name) names another package")
    self.name = name
    self.comment = comment
    self.enums = enums
    self.constants = constants
  }

  public static func == (a: Package, b: Package) -> Bool {
    a.name == b.name && a.comment == b.comment && a.enums == b.enums
      && a.constants.map(\.comment) == b.constants.map(\.comment) && a.constants.map(\.constants) == b.constants.map(\.constants)
  }
  public func hash(into h: inout Hasher) {
    h.combine(name)
    h.combine(enums)
  }
}

extension SystemVerilogPrinter {
  /// `package name; ... endpackage`: the enums' typedefs, then the constants.
  public func print(_ package: Package) -> String {
    var lines: [String] = []
    let width = options.lineLength
    func comment(_ indent: String, _ text: String) {
      lines.append(indent + (text.isEmpty ? "//" : "// " + text))
    }
    for h in header { comment("", h) }
    for c in package.comment { comment("", c) }
    lines.append("package \(package.name);")
    // Enum typedefs print as a module's do; borrow that layout through a module-less printer.
    for e in package.enums {
      lines.append("")
      lines += EnumTypedefText.lines(e, indent: 1, width: width)
    }
    for group in package.constants {
      lines.append("")
      if let c = group.comment { comment("  ", c) }
      let nameWidth = group.constants.map(\.name.count).max() ?? 0
      let entries = group.constants.map { "localparam int \($0.name.rightPadded(to: nameWidth)) = \($0.value);" }
      let entryWidth = entries.map(\.count).max() ?? 0
      for (entry, c) in zip(entries, group.constants) {
        if let text = c.comment, 2 + entryWidth + 5 + text.count <= width {
          lines.append("  " + entry.rightPadded(to: entryWidth) + "  // " + text)
        } else {
          if let text = c.comment { comment("  ", text) }
          lines.append("  " + entry)
        }
      }
    }
    lines.append("")
    lines.append("endpackage")
    return lines.joined(separator: "\n") + "\n"
  }
}

/// The text of `typedef enum logic [W-1:0] { ... } name_e;`, shared by
/// modules and packages.
enum EnumTypedefText {
  static func lines(_ t: EnumType, indent: Int, width: Int) -> [String] {
    let pad = String(repeating: "  ", count: indent)
    var out = [pad + "typedef enum \(t.width == 1 ? "logic" : "logic [\(t.width - 1):0]") {"]
    let nameWidth = t.values.map(\.name.count).max() ?? 0
    let entries = t.values.enumerated().map { i, v in
      "\(v.name.rightPadded(to: nameWidth)) = \(t.width)'d\(v.value)" + (i == t.values.count - 1 ? "" : ",")
    }
    let entryWidth = entries.map(\.count).max() ?? 0
    for (entry, v) in zip(entries, t.values) {
      guard let c = v.comment else {
        out.append(pad + "  " + entry)
        continue
      }
      if pad.count + 2 + entryWidth + 5 + c.count <= width {
        out.append(pad + "  " + entry.rightPadded(to: entryWidth) + "  // " + c)
      } else {
        out.append(pad + "  // " + c)
        out.append(pad + "  " + entry)
      }
    }
    out.append(pad + "} \(t.name);")
    return out
  }
}

enum DesignPackages {
  /// The packages of `modules`' imports, in import order; throws for an
  /// import no package given satisfies.
  static func check(_ modules: [Module], _ packages: [Package]) throws -> [Package] {
    var used: [Package] = []
    for m in modules {
      for name in m.importedPackages where !used.contains(where: { $0.name == name }) {
        guard let p = packages.first(where: { $0.name == name }) else {
          throw DesignError(issues: [DesignIssue(
            kind: .structure, module: m.name, message: "imports \(name), which the design was not given",
            location: m.location)])
        }
        used.append(p)
      }
    }
    // A package given but imported by no module is still written: the design asked for it.
    return used + packages.filter { p in !used.contains { $0.name == p.name } }
  }
}

extension Expr {
  /// Bits `[low + width - 1 : low]`, printed with the names of the constants
  /// that give the bounds: `instr_q[mmfree_pkg::InstrOpcodeLsb +: mmfree_pkg::InstrOpcodeWidth]`.
  public func field(low: Int, width: Int, names: SliceNames) -> Expr {
    var e = self[low + width - 1, low]
    e.sliceNames = names
    return e
  }
}
