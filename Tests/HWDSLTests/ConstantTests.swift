import HWDSL
import Testing

/// Named constants print as `localparam`s and by name where used.
@Suite struct ConstantTests {
  @Test func constantsPrintByName() throws {
    let m = ModuleBuilder("constants")
    let sel = m.input("sel", .uint(8))
    let y = m.output("y", .uint(4))
    let first = m.constant("AddrFirst", 0x10, .uint(8), comment: "the first")
    let second = m.constant("AddrSecond", 0x2c, .uint(8))
    let mask = m.constant("Mask", 0xa, .uint(4))
    m.comb {
      Assign(y, .zeros(.uint(4)))
      Switch(sel, labels: [(labels: [first], body: Statements { Assign(y, mask) })], default: Statements {
        If(sel.eq(second)) { Assign(y, .literal(1, .uint(4))) }
      })
    }
    let text = try Design(top: try m.finish()).files()[0].contents
    #expect(text.contains("  localparam logic [7:0] AddrFirst  = 8'h10;  // the first\n"))
    #expect(text.contains("  localparam logic [7:0] AddrSecond = 8'h2c;\n"))
    #expect(text.contains("  localparam logic [3:0] Mask       = 4'ha;\n"))
    #expect(text.contains("      AddrFirst: begin\n        y_o = Mask;"))
    #expect(text.contains("if (sel_i == AddrSecond) begin"))
  }

  @Test func badNamesAreReported() {
    let m = ModuleBuilder("constants")
    _ = m.constant("addr_first", 1, .uint(4))
    _ = m.constant("Same", 1, .uint(4))
    _ = m.constant("Same", 2, .uint(4))
    _ = m.constant("Wide", 16, .uint(4))
    #expect { _ = try m.finish() } throws: { error in
      let text = ((error as? DesignError)?.issues ?? []).map(\.description).joined(separator: "\n")
      return text.contains("not UpperCamelCase") && text.contains("two constants are named Same")
        && text.contains("does not fit")
    }
  }
}
