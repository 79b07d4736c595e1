/// A top module with its whole hierarchy, ready to write out: one `.sv` file
/// per module (file name = module name, as Verilator's DECLFILENAME expects)
/// and a filelist in dependency order. A parameterized module instantiated at
/// several sizes (`stream_fifo`) is one file, with the first elaboration's
/// defaults; every instance passes its own values.
public struct Design: Sendable {
  public let top: Module
  public let modules: [Module]
  /// The packages the modules import, written before any module.
  public let packages: [Package]

  /// `packages` must hold every package a module imports (see `Package`).
  public init(top: Module, packages: [Package] = []) throws {
    self.top = top
    self.packages = try DesignPackages.check(top.hierarchy, packages)
    var byName: [String: Module] = [:]
    var order: [Module] = []
    for m in top.hierarchy {
      if let existing = byName[m.name] {
        // A parameterized module is one module whatever its instances' values.
        if DesignSet.identity(existing) != DesignSet.identity(m) {
          throw DesignError(issues: [DesignIssue(
            kind: .structure, module: m.name,
            message: "two different modules are both named \(m.name)", location: m.location)])
        }
        continue
      }
      byName[m.name] = m
      order.append(m)
    }
    modules = order
  }

  /// `(file name, text)` for every module, children first.
  public func files(header: [String] = [], options: PrinterOptions = .standard) -> [(name: String, contents: String)] {
    let printer = SystemVerilogPrinter(header: header, options: options)
    return packages.map { (name: "\($0.name).sv", contents: printer.print($0)) }
      + modules.map { (name: "\($0.name).sv", contents: printer.print($0)) }
  }

  /// A Verilator/Icarus filelist naming every file relative to the list.
  public var fileList: String {
    (packages.map(\.name) + modules.map(\.name)).map { "\($0).sv\n" }.joined()
  }
}
