/// A top module with its whole hierarchy, ready to write out: one `.sv` file
/// per module (file name = module name, as Verilator's DECLFILENAME expects)
/// and a filelist in dependency order.
public struct Design: Sendable {
  public let top: Module
  public let modules: [Module]

  public init(top: Module) throws {
    self.top = top
    var byName: [String: Module] = [:]
    var order: [Module] = []
    for m in top.hierarchy {
      if let existing = byName[m.name] {
        if existing != m {
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
    return modules.map { (name: "\($0.name).sv", contents: printer.print($0)) }
  }

  /// A Verilator/Icarus filelist naming every file relative to the list.
  public var fileList: String {
    modules.map { "\($0.name).sv\n" }.joined()
  }
}
