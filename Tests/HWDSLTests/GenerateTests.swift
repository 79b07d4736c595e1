import HWDSL
import Testing

/// Generate loops and ROMs: how they print, and that the checks read a loop
/// as its unrolled form.
@Suite struct GenerateTests {
  /// A lane: registers `x`, and outputs it signed with a combinational copy of `x`.
  static func lane(width: Int = 8) throws -> Module {
    let m = ModuleBuilder("lane")
    _ = m.clock()
    let x = m.input("x", .sint(width))
    let en = m.input("en", .bit)
    let y = m.output("y", .sint(width))
    let pass = m.output("pass", .uint(width))
    let r = m.register("r", .sint(width), reset: .none)
    m.comb {
      Assign(r.next, r.state)
      If(en) { Assign(r.next, x) }
    }
    m.assign(y, r.state)
    m.assign(pass, x.asUnsigned)
    return try m.finish()
  }

  func issues(_ build: (ModuleBuilder) throws -> Void) throws -> DesignError? {
    let m = ModuleBuilder("dut")
    try build(m)
    do {
      _ = try m.finish()
      return nil
    } catch let error as DesignError {
      return error
    }
  }

  static func array(lanes: Int = 4) throws -> Module {
    let lane = try lane()
    let m = ModuleBuilder("lanes")
    let clk = m.clock()
    let xs = m.input("xs", .uint(8 * lanes))
    let en = m.input("en", .bit)
    let ys = m.output("ys", .uint(8 * lanes))
    let passes = m.output("passes", .uint(8 * lanes))
    m.generate("gen_lane", count: lanes) { g in
      let x = g.wire("x", g.slice(xs).asSigned)
      g.instance(lane, "u_lane", [
        ("clk_i", clk), ("x_i", x), ("en_i", en), ("y_o", g.slice(ys)), ("pass_o", g.slice(passes)),
      ])
    }
    return try m.finish()
  }

  @Test func aLoopPrintsAsOneGenerateBlockWithPerIterationWires() throws {
    let text = SystemVerilogPrinter().print(try Self.array())
    let expected = """
        for (genvar i = 0; i < 4; i++) begin : gen_lane
          logic signed [7:0] x;
          logic signed [7:0] y;
          assign x = $signed(xs_i[i*8 +: 8]);

          lane u_lane (
            .clk_i  (clk_i),
            .x_i    (x),
            .en_i   (en_i),
            .y_o    (y),
            .pass_o (passes_o[i*8 +: 8])
          );

          assign ys_o[i*8 +: 8] = $unsigned(y);
        end

      endmodule

      """
    #expect(text.hasSuffix(expected), "\(text)")
    // The hierarchy, and so the filelist, includes the loop's child.
    let design = try Design(top: try Self.array())
    #expect(design.fileList == "lane.sv\nlanes.sv\n")
  }

  @Test func oneIterationTakesTheWholeVector() throws {
    let text = SystemVerilogPrinter().print(try Self.array(lanes: 1))
    #expect(text.contains("assign x = $signed(xs_i);"))
    #expect(text.contains(".pass_o (passes_o)"))
  }

  @Test func aWrongWidthConnectionInALoopIsAWidthError() throws {
    let lane = try Self.lane()
    var line = 0
    let error = try issues { m in
      let xs = m.input("xs", .uint(24))
      let clk = m.clock()
      let ys = m.output("ys", .uint(32))
      let passes = m.output("passes", .uint(32))
      m.generate("gen_lane", count: 4) { g in
        // 6 bits into an 8-bit port, and 4 x 6 tiles the 24-bit vector: only the port is wrong.
        let x = g.wire("x", g.slice(xs).asSigned)
        line = #line + 1
        g.instance(lane, "u_lane", [
          ("clk_i", clk), ("x_i", x), ("en_i", Expr.high), ("y_o", g.slice(ys)), ("pass_o", g.slice(passes)),
        ])
      }
    }
    #expect(error?.issues.count == 1)
    #expect(error?.has(.width) == true)
    #expect(error?.description.contains("gen_lane[i].u_lane.x_i is signed 8-bit, connected to signed 6-bit") == true)
    #expect(error?.issues.first?.location == SourceLocation(file: #fileID, line: line))
  }

  @Test func slicesMustTileTheirVector() throws {
    let lane = try Self.lane()
    let error = try issues { m in
      let xs = m.input("xs", .uint(32))
      let clk = m.clock()
      let ys = m.output("ys", .uint(30))
      let passes = m.output("passes", .uint(32))
      m.generate("gen_lane", count: 4) { g in
        let x = g.wire("x", g.slice(xs).asSigned)
        g.instance(lane, "u_lane", [
          ("clk_i", clk), ("x_i", x), ("en_i", Expr.high), ("y_o", g.slice(ys, width: 8)), ("pass_o", g.slice(passes)),
        ])
      }
    }
    #expect(error?.has(.width) == true)
    #expect(error?.description.contains("slices ys_o (30 bits) into 4 x 8 bits") == true)
  }

  @Test func anOutputSharedByEveryIterationHasMultipleDrivers() throws {
    let lane = try Self.lane()
    let error = try issues { m in
      let xs = m.input("xs", .uint(32))
      let clk = m.clock()
      let ys = m.output("ys", .uint(32))
      let pass = m.wire("pass", .uint(8))
      let unusedPass = m.wire("unused_pass", pass.reduceXor())
      _ = unusedPass
      m.generate("gen_lane", count: 4) { g in
        let x = g.wire("x", g.slice(xs).asSigned)
        g.instance(lane, "u_lane", [("clk_i", clk), ("x_i", x), ("en_i", Expr.high), ("y_o", g.slice(ys)), ("pass_o", pass)])
      }
    }
    #expect(error?.has(.multipleDrivers) == true)
    #expect(error?.description.contains("pass is driven by all 4 iterations of gen_lane") == true)
  }

  @Test func aLoopClosesACombinationalLoopLikeItsUnrolledInstances() throws {
    let lane = try Self.lane()
    // pass_o depends on x_i combinationally; feeding the passes back into the xs closes a loop.
    #expect(lane.combinationalPaths == ["pass_o": ["x_i"]])
    let error = try issues { m in
      let clk = m.clock()
      let ys = m.output("ys", .uint(32))
      let passes = m.wire("passes", .uint(32))
      m.generate("gen_lane", count: 4) { g in
        let x = g.wire("x", g.slice(passes).asSigned)
        g.instance(lane, "u_lane", [
          ("clk_i", clk), ("x_i", x), ("en_i", Expr.high), ("y_o", g.slice(ys)), ("pass_o", g.slice(passes)),
        ])
      }
    }
    #expect(error?.has(.combinationalLoop) == true)
    // Through the registered output the same feedback is fine.
    let registered = try issues { m in
      let clk = m.clock()
      let ys = m.wire("ys", .uint(32))
      let passes = m.output("passes", .uint(32))
      m.generate("gen_lane", count: 4) { g in
        let x = g.wire("x", g.slice(ys).asSigned)
        g.instance(lane, "u_lane", [
          ("clk_i", clk), ("x_i", x), ("en_i", Expr.high), ("y_o", g.slice(ys)), ("pass_o", g.slice(passes)),
        ])
      }
    }
    #expect(registered == nil)
  }

  @Test func aLoopsReadsCountAsUsesAndItsUnreadWiresAreUnused() throws {
    let lane = try Self.lane()
    let error = try issues { m in
      let clk = m.clock()
      let xs = m.input("xs", .uint(32))
      let spare = m.input("spare", .uint(32))
      let ys = m.output("ys", .uint(32))
      let passes = m.output("passes", .uint(32))
      m.generate("gen_lane", count: 4) { g in
        let x = g.wire("x", g.slice(xs).asSigned)
        _ = g.wire("spare", g.slice(spare))
        g.instance(lane, "u_lane", [
          ("clk_i", clk), ("x_i", x), ("en_i", Expr.high), ("y_o", g.slice(ys)),
        ])
        _ = passes
      }
    }
    #expect(error?.has(.unused) == true)
    #expect(error?.description.contains("gen_lane declares spare but never reads it") == true || error?.issues.contains { $0.message.contains("declares spare") } == true)
    #expect(error?.issues.contains { $0.message.contains("port pass_o of gen_lane[i].u_lane is not connected") } == true)
    #expect(error?.issues.contains { $0.message.contains("passes_o is never driven") } == true)
    // xs_i is read only through the loop: not unused.
    #expect(error?.issues.contains { $0.message.contains("xs_i") } == false)
  }

  // MARK: ROMs

  static func romModule(entries: [Int] = [1, 2, 3, 3, 3, 3, 7, 8]) throws -> Module {
    let m = ModuleBuilder("rom_user")
    let address = m.input("address", .uint(3))
    let value = m.output("value", .uint(4))
    let rom = m.rom("SmallTable", .uint(4), entries: entries, comment: "Entry k: a test value.")
    let entry = m.wire("entry", reading: rom, at: address)
    m.assign(value, entry)
    return try m.finish()
  }

  @Test func aROMPrintsAsACaseTableWithOneArmALineAndSharedArmsForEqualEntries() throws {
    let text = SystemVerilogPrinter().print(try Self.romModule())
    let expected = """
        // Entry k: a test value.
        always_comb begin
          unique case (address_i)
            3'd0: entry = 4'h1;
            3'd1: entry = 4'h2;
            3'd2, 3'd3, 3'd4, 3'd5: entry = 4'h3;
            3'd6: entry = 4'h7;
            3'd7: entry = 4'h8;
            default: entry = 4'd0;
          endcase
        end

      """
    #expect(text.contains(expected), "\(text)")
  }

  @Test func aROMsDepthIsAPowerOfTwoAndItsAddressFits() throws {
    #expect(throws: DesignError.self) { try Self.romModule(entries: [1, 2, 3, 4, 5, 6]) }
    let error = try issues { m in
      let address = m.input("address", .uint(2))
      let value = m.output("value", .uint(4))
      let rom = m.rom("SmallTable", .uint(4), entries: [1, 2, 3, 4, 5, 6, 7, 8])
      m.assign(value, m.wire("entry", reading: rom, at: address))
    }
    #expect(error?.has(.width) == true)
    #expect(error?.description.contains("address of SmallTable is 2 bits, expected 3") == true)
  }

  @Test func longArmsWrapAndZeroEntriesFallToTheDefault() throws {
    let m = ModuleBuilder("wide_rom")
    let address = m.input("address", .uint(6))
    let value = m.output("value", .uint(31))
    let rom = m.rom("WideTable", .uint(31), entries: (0..<64).map { $0 < 40 ? 5 : $0 * 0x1234567 })
    m.assign(value, m.wire("entry", reading: rom, at: address))
    let wide = SystemVerilogPrinter().print(try m.finish())
    let lines = wide.split(separator: "\n")
    #expect(lines.allSatisfy { $0.count <= 100 })
    #expect(wide.contains("      6'd63: entry = 31'h47ae1459;"))
    // 40 addresses share one arm, broken at its commas with a continuation indent.
    #expect(wide.contains("      6'd0, 6'd1, 6'd2,"))
    #expect(wide.contains("          6'd39: entry = 31'h00000005;"))
    let zeros = SystemVerilogPrinter().print(try Self.romModule(entries: [0, 0, 0, 3, 0, 0, 0, 0]))
    #expect(zeros.contains("      3'd3: entry = 4'h3;\n      default: entry = 4'd0;"))
  }
}

/// Multiplier counts come from the IR: each `*` by its operand widths, a loop counting once per iteration.
@Suite struct CensusTests {
  @Test func multipliersAreCountedThroughInstancesAndLoops() throws {
    let leaf = ModuleBuilder("mul_leaf")
    let a = leaf.input("a", .uint(8))
    let b = leaf.input("b", .uint(4))
    let p = leaf.output("p", .uint(12))
    leaf.assign(p, a.times(b))
    let mulLeaf = try leaf.finish()
    #expect(mulLeaf.multipliers.count(8, 4) == 1)

    let m = ModuleBuilder("mul_top")
    let xs = m.input("xs", .uint(32))
    let k = m.input("k", .uint(4))
    let ps = m.output("ps", .uint(48))
    let q = m.output("q", .uint(32))
    m.generate("gen_lane", count: 4) { g in
      g.instance(mulLeaf, "u_mul", [("a_i", g.slice(xs)), ("b_i", k), ("p_o", g.slice(ps))])
    }
    let single = m.wire("single", .uint(12))
    m.instance(mulLeaf, "u_single", [("a_i", xs[7, 0]), ("b_i", k), ("p_o", single)])
    m.assign(q, xs[15, 0].times(xs[31, 16]))
    let unusedSingle = m.wire("unused_single", single.reduceXor())
    _ = unusedSingle
    let census = try m.finish().multipliers
    #expect(census.count(8, 4) == 5)
    #expect(census.count(16, 16) == 1)
    #expect(census.total == 6)
    #expect(census.description == "1 x 16x16, 5 x 8x4")
  }
}
