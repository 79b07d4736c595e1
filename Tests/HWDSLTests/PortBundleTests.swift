import HWDSL
import Testing

/// A registered adder's interface, declared once for the child and the parent.
struct AdderPorts: PortBundle {
  var clk = Expr.unconnected, rst = Expr.unconnected
  var a = Expr.unconnected, b = Expr.unconnected, sum = Expr.unconnected

  static func ports(_ width: Int) -> [PortSpec<AdderPorts>] {
    [
      .clock(\.clk), .reset(\.rst),
      .input("a", .uint(width), \.a, comment: "first addend"), .input("b", .uint(width), \.b),
      .output("sum", .uint(width), \.sum, comment: "a + b, one cycle later"),
    ]
  }
}

/// A table that lists one field twice.
struct TwiceListedPorts: PortBundle {
  var a = Expr.unconnected, y = Expr.unconnected
  static func ports(_: Void) -> [PortSpec<TwiceListedPorts>] {
    [.input("a", .bit, \.a), .input("a_again", .bit, \.a), .output("y", .bit, \.y)]
  }
}

@Suite("Typed port bundles: one interface for the child's ports and the parent's connections")
struct PortBundleTests {
  static func adder(width: Int = 8) throws -> Module {
    let m = ModuleBuilder("adder")
    let io = m.ports(AdderPorts.self, width)
    let sum = m.register("sum", .uint(width))
    m.assign(sum.next, io.a + io.b)
    m.assign(io.sum, sum.state)
    return try m.finish()
  }

  /// The parent's wires, and the builder, before the instance is added.
  static func parent() -> (m: ModuleBuilder, clk: Expr, rst: Expr, a: Expr, sum: Expr) {
    let m = ModuleBuilder("parent")
    let clk = m.clock(), rst = m.reset()
    let a = m.input("a", .uint(8))
    let sum = m.output("sum", .uint(8))
    return (m, clk, rst, a, sum)
  }

  @Test func theChildDeclaresItsPortsFromTheTableInOrder() throws {
    let adder = try Self.adder()
    #expect(adder.ports.map(\.name) == ["clk_i", "rst_ni", "a_i", "b_i", "sum_o"])
    #expect(adder.ports.map(\.type.width) == [1, 1, 8, 8, 8])
    let text = SystemVerilogPrinter().print(adder)
    #expect(text.contains("input  logic [7:0] a_i,  // first addend"))
    #expect(text.contains("output logic [7:0] sum_o  // a + b, one cycle later"))
  }

  @Test func aBundlePrintsTheSameInstanceAsTheStringList() throws {
    let adder = try Self.adder()
    func build(_ connect: (ModuleBuilder, Expr, Expr, Expr, Expr) -> Void) throws -> String {
      let p = Self.parent()
      connect(p.m, p.clk, p.rst, p.a, p.sum)
      return SystemVerilogPrinter().print(try p.m.finish())
    }
    let typed = try build { m, clk, rst, a, sum in
      m.instance(adder, "u_adder", AdderPorts(clk: clk, rst: rst, a: a, b: a, sum: sum), 8)
    }
    let strings = try build { m, clk, rst, a, sum in
      m.instance(adder, "u_adder", [("clk_i", clk), ("rst_ni", rst), ("a_i", a), ("b_i", a), ("sum_o", sum)])
    }
    #expect(typed == strings)
    #expect(typed.contains(".b_i    (a_i)"))
  }

  @Test func aFieldLeftUnconnectedIsAnErrorAtTheInstanceLine() throws {
    let adder = try Self.adder()
    let p = Self.parent()
    let line = #line + 1
    p.m.instance(adder, "u_adder", AdderPorts(clk: p.clk, rst: p.rst, a: p.a, sum: p.sum), 8)
    let error = try #require(throws: DesignError.self) { try p.m.finish() }
    #expect(error.issues.map(\.message) == ["port b_i of u_adder is not connected"])
    #expect(error.issues.map(\.location.line) == [line])
  }

  @Test func aWrongWidthIsAnErrorAtTheInstanceLine() throws {
    let adder = try Self.adder(width: 4)
    let p = Self.parent()
    let line = #line + 1
    p.m.instance(adder, "u_adder", AdderPorts(clk: p.clk, rst: p.rst, a: p.a, b: p.a, sum: p.sum), 4)
    let error = try #require(throws: DesignError.self) { try p.m.finish() }
    #expect(error.has(.width))
    #expect(error.issues.allSatisfy { $0.location.line == line })
    #expect(error.issues.contains { $0.message == "u_adder.a_i is 4-bit, connected to 8-bit" })
  }

  @Test func aFieldListedTwiceIsAnErrorAtTheDeclaringLine() throws {
    let m = ModuleBuilder("twice")
    let line = #line + 1
    let io = m.ports(TwiceListedPorts.self, ())
    m.assign(io.y, io.a)
    let error = try #require(throws: DesignError.self) { try m.finish() }
    #expect(error.issues.map(\.location.line) == [line])
    #expect(error.issues[0].message.contains("a_again_i"))
  }

  @Test func aPortConnectedTwiceIsAnErrorAtTheInstanceLine() throws {
    let adder = try Self.adder()
    let p = Self.parent()
    let line = #line + 2
    let connections = [("clk_i", p.clk), ("rst_ni", p.rst), ("a_i", p.a), ("a_i", p.a), ("b_i", p.a), ("sum_o", p.sum)]
    p.m.instance(adder, "u_adder", connections)
    let error = try #require(throws: DesignError.self) { try p.m.finish() }
    #expect(error.issues.map(\.message) == ["port a_i of u_adder connected twice"])
    #expect(error.issues.map(\.location.line) == [line])
  }
}
