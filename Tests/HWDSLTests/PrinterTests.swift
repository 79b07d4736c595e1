import HWDSL
import Testing

@Suite struct PrinterTests {
  @Test func counterPrintsAsHandWrittenRTL() throws {
    let text = SystemVerilogPrinter().print(try Fixtures.counter())
    let expected = """
      // An 8-bit counter.
      module counter (
        input  logic       clk_i,
        input  logic       rst_ni,
        input  logic       enable_i,
        output logic [7:0] value_o
      );

        logic [7:0] count_d;
        logic [7:0] count_q;

        assign value_o = count_q;

        always_comb begin
          count_d = count_q;
          if (enable_i) begin
            count_d = count_q + 8'd1;
          end
        end

        always_ff @(posedge clk_i or negedge rst_ni) begin
          if (!rst_ni) begin
            count_q <= '0;
          end else begin
            count_q <= count_d;
          end
        end

      endmodule

      """
    #expect(text == expected)
  }

  @Test func printingIsDeterministic() throws {
    let a = SystemVerilogPrinter().print(try Fixtures.counter())
    let b = SystemVerilogPrinter().print(try Fixtures.counter())
    #expect(a == b)
  }

  @Test func keywordsAndCollisionsAreRenamed() throws {
    let m = ModuleBuilder("names")
    let a = m.input("a", .uint(4))
    let reg = m.wire("reg", ~a)
    let first = m.wire("x", reg + a)
    let second = m.wire("x", first ^ a)
    let out = m.output("y", .uint(4))
    m.assign(out, second)
    let text = SystemVerilogPrinter().print(try m.finish())
    #expect(text.contains("logic [3:0] reg_;"))
    #expect(text.contains("assign reg_ = ~a_i;"))
    #expect(text.contains("assign x = reg_ + a_i;"))
    #expect(text.contains("assign x_1 = x ^ a_i;"))
    #expect(text.contains("assign y_o = x_1;"))
  }

  @Test func literalsCarryExplicitWidths() throws {
    let m = ModuleBuilder("literals")
    let a = m.input("a", .sint(12))
    let b = m.input("b", .uint(70))
    let y = m.output("y", .sint(12))
    let z = m.output("z", .uint(70))
    let k = m.output("k", .sint(12))
    m.assign(y, a + .literal(-5, .sint(12)))
    m.assign(z, b ^ Expr(.literal(Literal(words: [0xFFFF_0000_0000_0001, 0x3F], type: .uint(70))), .uint(70)))
    m.assign(k, .mux(a.lt(.literal(-2048, .sint(12))), .literal(2047, .sint(12)), a))
    let text = SystemVerilogPrinter().print(try m.finish())
    #expect(text.contains("assign y_o = a_i + -12'sd5;"))
    #expect(text.contains("assign z_o = b_i ^ 70'h3f_ffff_0000_0000_0001;"))
    #expect(text.contains("assign k_o = a_i < 12'sh800 ? 12'sd2047 : a_i;"))
  }

  @Test func parenthesesOnlyWhereNeeded() throws {
    let m = ModuleBuilder("precedence")
    let a = m.input("a", .uint(8))
    let b = m.input("b", .uint(8))
    let c = m.input("c", .uint(8))
    let y = m.output("y", .uint(8))
    let z = m.output("z", .uint(8))
    m.assign(y, a - (b - c))
    m.assign(z, (a & b) + c)
    let text = SystemVerilogPrinter().print(try m.finish())
    #expect(text.contains("assign y_o = a_i - (b_i - c_i);"))
    #expect(text.contains("assign z_o = (a_i & b_i) + c_i;"))
  }

  @Test func caseStatementsAreUniqueWithDefault() throws {
    let m = ModuleBuilder("decoder")
    let sel = m.input("sel", .uint(2))
    let y = m.output("y", .uint(4))
    m.comb {
      Switch(sel, cases: [
        (values: [0], body: Statements { Assign(y, .literal(1, width: 4)) }),
        (values: [1, 2], body: Statements { Assign(y, .literal(6, width: 4)) }),
      ], default: Statements { Assign(y, .zeros(.uint(4))) })
    }
    let text = SystemVerilogPrinter().print(try m.finish())
    #expect(text.contains("unique case (sel_i)"))
    #expect(text.contains("2'd1, 2'd2: begin"))
    #expect(text.contains("default: begin"))
  }

  @Test func hierarchyPrintsChildrenFirstWithNamedConnections() throws {
    let child = try Fixtures.counter()
    let m = ModuleBuilder("top")
    let clk = m.clock()
    let rst = m.reset()
    let go = m.input("go", .bit)
    let count = m.output("count", .uint(8))
    m.instance(child, "u_counter", [("value_o", count), ("enable_i", go), ("rst_ni", rst), ("clk_i", clk)])
    let design = try Design(top: try m.finish())
    #expect(design.modules.map(\.name) == ["counter", "top"])
    #expect(design.fileList == "counter.sv\ntop.sv\n")
    let text = design.files()[1].contents
    #expect(text.contains("""
        counter u_counter (
          .clk_i    (clk_i),
          .rst_ni   (rst_ni),
          .enable_i (go_i),
          .value_o  (count_o)
        );
      """))
  }
}

@Suite struct PrinterOptionsTests {
  static func wide() throws -> Module {
    let m = ModuleBuilder("wide")
    let a = m.input("a", .uint(8))
    let b = m.input("b", .uint(8))
    let c = m.input("c", .bit)
    let d = m.input("d", .bit)
    let e = m.input("e", .bit)
    let y = m.output("y", .uint(320))
    let z = m.output("z", .bit)
    let s = m.output("s", .uint(8))
    let n = m.output("n", .uint(4))
    let w = m.output("w", .uint(80))
    m.assign(y, .concat((0..<20).map { i in i % 2 == 0 ? Expr.concat([a, b]) : .concat([b, a]) }))
    m.assign(z, (c && d) || e)
    m.assign(s, (a + b).shiftRight(2))
    m.assign(n, a.countOnes())
    m.assign(w, .zeros(.uint(80)))
    return try m.finish()
  }

  @Test func longLinesBreakAtSensiblePointsWithContinuationIndent() throws {
    let text = SystemVerilogPrinter().print(try Self.wide())
    #expect(text.split(separator: "\n").allSatisfy { $0.count <= 100 })
    #expect(text.contains("  assign y_o = {{a_i, b_i}, {b_i, a_i}, "))
    #expect(text.contains(",\n        {"))
    let unwrapped = SystemVerilogPrinter(options: .unwrapped).print(try Self.wide())
    #expect(unwrapped.split(separator: "\n").contains { $0.count > 100 })
  }

  @Test func mixedOperatorsAreParenthesizedAndCastsSpelledOut() throws {
    let text = SystemVerilogPrinter().print(try Self.wide())
    #expect(text.contains("assign z_o = (c_i && d_i) || e_i;"))
    #expect(text.contains("assign s_o = (a_i + b_i) >> 3'd2;"))
    #expect(text.contains("assign n_o = 4'($unsigned($countones(a_i)));"))
    #expect(text.contains("assign w_o = 80'h0;"))
    let plain = SystemVerilogPrinter(options: .unwrapped).print(try Self.wide())
    #expect(plain.contains("assign z_o = c_i && d_i || e_i;"))
    #expect(plain.contains("assign s_o = a_i + b_i >> 2;"))
    #expect(plain.contains("assign n_o = 4'($countones(a_i));"))
    #expect(plain.contains("assign w_o = 80'h0000_0000_0000_0000_0000;"))
  }
}
