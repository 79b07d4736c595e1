/// Several designs in one file set, so that two configurations (say an 8-lane
/// and a 16-lane core) elaborate together from one filelist.
///
/// A module whose text is the same in every design (a lane that does not
/// depend on the lane count, the sigmoid) is written once under its own name.
/// A name that would mean two different modules is given each design's tag
/// (`ternary_core_l8`, `ternary_core_l16`), and so, in turn, is every module
/// that instantiates a renamed one. Names therefore carry the configuration
/// exactly where the text depends on it.
///
/// A parameterized module (`stream_fifo #(.Width, .Depth)`) is one module
/// whatever its parameters' values: two elaborations whose text differs only
/// in the defaults (`SystemVerilogPrinter.genericText`) share one file, and
/// every instance passes its values. Modules whose widths are elaborated in
/// Swift (a port `logic [351:0]`) carry their configuration in the name.
public struct DesignSet: Sendable {
  /// Each design's top after renaming, in the order given.
  public let tops: [Module]
  /// Every distinct module, children first.
  public let modules: [Module]
  /// The packages the designs import, each once (written before any module).
  public let packages: [Package]

  /// `variants` pairs a short tag (`"l8"`) with each design; tags must differ.
  public init(_ variants: [(tag: String, design: Design)]) throws {
    precondition(Set(variants.map(\.tag)).count == variants.count, "every design needs its own tag")
    var renames = [[Module: String]](repeating: [:], count: variants.count)
    var tops: [Module] = []
    while true {
      tops = variants.indices.map { v in
        var memo: [Module: Module] = [:]
        return Self.rebuild(variants[v].design.top, renames[v], &memo)
      }
      // Which names mean more than one module now?
      var byName: [String: Set<Identity>] = [:]
      for top in tops { for m in top.hierarchy { byName[m.name, default: []].insert(Self.identity(m)) } }
      let conflicts = Set(byName.filter { $0.value.count > 1 }.keys)
      if conflicts.isEmpty { break }
      for v in variants.indices {
        for original in variants[v].design.modules {
          let current = renames[v][original] ?? original.name
          if conflicts.contains(current) { renames[v][original] = current + "_" + variants[v].tag }
        }
      }
    }
    var packages: [Package] = []
    for variant in variants {
      for p in variant.design.packages {
        if let existing = packages.first(where: { $0.name == p.name }) {
          guard existing == p else {
            throw DesignError(issues: [DesignIssue(
              kind: .structure, module: p.name,
              message: "the designs give two different packages named \(p.name)", location: variant.design.top.location)])
          }
        } else {
          packages.append(p)
        }
      }
    }
    var seen: Set<String> = []
    var order: [Module] = []
    for top in tops {
      for m in try Design(top: top, packages: packages).modules where seen.insert(m.name).inserted { order.append(m) }
    }
    self.tops = tops
    self.packages = packages
    modules = order
  }

  /// What makes two modules of one name the same module: their text, but
  /// for the values of their parameters.
  static func identity(_ module: Module) -> Identity {
    module.parameters.isEmpty ? .module(module) : .generic(SystemVerilogPrinter().genericText(module))
  }

  enum Identity: Hashable {
    case module(Module)
    case generic(String)
  }

  /// `module` with every module in its hierarchy renamed by `renames`.
  static func rebuild(_ module: Module, _ renames: [Module: String], _ memo: inout [Module: Module]) -> Module {
    if let done = memo[module] { return done }
    let instances = module.instances.map { i in
      var renamed = Instance(
        name: i.name, module: rebuild(i.module, renames, &memo), connections: i.connections, location: i.location)
      renamed.parameterOverrides = i.parameterOverrides
      return renamed
    }
    let loops = module.generateLoops.map { loop in
      var renamed = GenerateLoop(
        label: loop.label, genvar: loop.genvar, count: loop.count, wires: loop.wires, assigns: loop.assigns,
        instances: loop.instances.map { i in
          LoopInstance(name: i.name, module: rebuild(i.module, renames, &memo), connections: i.connections, location: i.location)
        },
        location: loop.location)
      renamed.symbolicCount = loop.symbolicCount
      return renamed
    }
    var rebuilt = module
    rebuilt.name = renames[module] ?? module.name
    rebuilt.instances = instances
    rebuilt.generateLoops = loops
    memo[module] = rebuilt
    return rebuilt
  }

  /// `(file name, text)` for every module, children first.
  public func files(header: [String] = [], options: PrinterOptions = .standard) -> [(name: String, contents: String)] {
    let printer = SystemVerilogPrinter(header: header, options: options)
    return packages.map { (name: "\($0.name).sv", contents: printer.print($0)) }
      + modules.map { (name: "\($0.name).sv", contents: printer.print($0)) }
  }

  /// One filelist for all the designs, packages first.
  public var fileList: String { (packages.map(\.name) + modules.map(\.name)).map { "\($0).sv\n" }.joined() }
}
