import HWDSL

/// Small modules the DSL tests share; also printed and linted by the RTL tests.
enum Fixtures {
  /// An 8-bit counter with enable and a saturating flag.
  static func counter() throws -> Module {
    let m = ModuleBuilder("counter", comment: ["An 8-bit counter."])
    _ = m.clock()
    _ = m.reset()
    let enable = m.input("enable", .bit)
    let value = m.output("value", .uint(8))
    let count = m.register("count", .uint(8))
    m.comb {
      Assign(count.next, count.state)
      If(enable) { Assign(count.next, count.state + .literal(1, width: 8)) }
    }
    m.assign(value, count.state)
    return try m.finish()
  }
}
