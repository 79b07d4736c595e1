import HWDSL
import HWSupport
import Testing

/// A traffic light: the smallest state machine worth printing.
enum Light: Int, CaseIterable, HardwareEnum {
  case red, green, yellow
  static let hardwareName = "light"
  static let valuePrefix = "St"
  var hardwareComment: String? { self == .red ? "after reset" : nil }
}

/// Opcodes that live in a package.
enum ToyOp: Int, CaseIterable, HardwareEnum {
  case nop, loadWord = 3
  static let hardwareName = "toy_op"
  static let valuePrefix = "Op"
  static let hardwarePackage: String? = "toy_pkg"
}

@Suite("DSL structure: enums, state machines, holding registers, packages, assertions")
struct StructureTests {
  static func lightModule() throws -> Module {
    let m = ModuleBuilder("light")
    _ = m.clock()
    _ = m.reset()
    let go = m.input("go", .bit)
    let isGreen = m.output("green", .bit)
    let fsm = StateMachine(m, "light", reset: Light.red)
    let ticks = m.register("ticks", .uint(4), holds: true)
    m.comb {
      fsm.transitions([
        (.red, Statements { If(go) { fsm.goTo(.green) } }),
        (.green, Statements {
          Assign(ticks.next, ticks.state + .literal(1, .uint(4)))
          If(ticks.state.eq(15)) { fsm.goTo(.yellow) }
        }),
        (.yellow, Statements { fsm.goTo(.red) }),
      ], default: Statements { fsm.goTo(.red) })
    }
    m.assign(isGreen, fsm.inState(.green))
    m.assertLegal("LightLegal", fsm.current, Light.self)
    return try m.finish()
  }

  @Test func enumsPrintAsTypedefsWithNamedValues() throws {
    let text = SystemVerilogPrinter().print(try Self.lightModule())
    #expect(text.contains("""
        typedef enum logic [1:0] {
          StRed    = 2'd0,  // after reset
          StGreen  = 2'd1,
          StYellow = 2'd2
        } light_e;
      """))
    #expect(text.contains("  light_e     light_d;\n"))
    #expect(text.contains("  light_e     light_q;\n"))
    #expect(text.contains("assign green_o = light_q == StGreen;"))
    #expect(text.contains("unique case (light_q)\n      StRed: begin"))
    #expect(text.contains("light_d = StYellow;"))
    // The reset value is a value name, never '0, which an enum does not take.
    #expect(text.contains("light_q <= StRed;"))
    #expect(!text.contains("2'd1;"))
  }

  @Test func holdingRegistersGetTheirDefaultOnceAtTheTopOfTheirBlock() throws {
    let text = SystemVerilogPrinter().print(try Self.lightModule())
    #expect(text.contains("""
        always_comb begin
          light_d = light_q;
          ticks_d = ticks_q;
          unique case (light_q)
      """))
    #expect(text.components(separatedBy: "ticks_d = ticks_q;").count == 2)
  }

  @Test func aHoldingRegisterNoBlockAssignsKeepsItsValueByAContinuousAssign() throws {
    let m = ModuleBuilder("constant")
    _ = m.clock()
    _ = m.reset()
    let out = m.output("value", .uint(3))
    let r = m.register("value", .uint(3), resetValue: 5, holds: true)
    m.assign(out, r.state)
    let text = SystemVerilogPrinter().print(try m.finish())
    #expect(text.contains("assign value_d = value_q;"))
  }

  @Test func aRegisterWithoutHoldsStillNeedsItsDefault() throws {
    let m = ModuleBuilder("forgot")
    _ = m.clock()
    _ = m.reset()
    let enable = m.input("enable", .bit)
    let out = m.output("value", .bit)
    let r = m.register("value", .bit)
    m.comb { If(enable) { Assign(r.next, .high) } }
    m.assign(out, r.state)
    #expect(throws: DesignError.self) { try m.finish() }
  }

  @Test func anEnumSignalTakesOnlyValuesOfItsEnum() throws {
    let m = ModuleBuilder("bad_enum")
    _ = m.clock()
    _ = m.reset()
    let raw = m.input("raw", .uint(2))
    let out = m.output("green", .bit)
    let fsm = StateMachine(m, "light", reset: Light.red)
    m.comb { Assign(fsm.next, raw) }
    m.assign(out, fsm.inState(.green))
    #expect(throws: DesignError.self) { try m.finish() }
  }

  @Test func packageValuesAreScopedAndThePackageComesFirst() throws {
    let m = ModuleBuilder("toy")
    let word = m.input("word", .uint(8))
    let isLoad = m.output("is_load", .bit)
    let op = m.wire("op", word.field(low: 0, width: 2, names: SliceNames(low: "toy_pkg::OpLsb", width: "toy_pkg::OpWidth")))
    m.assign(isLoad, op.eq(ToyOp.loadWord))
    _ = m.wire("unused_word", word[7, 2].reduceXor())
    let package = Package(
      name: "toy_pkg", enums: [ToyOp.enumType],
      constants: [(comment: "The op field.", constants: [.init("OpLsb", 0), .init("OpWidth", 2, comment: "bits")])])
    let design = try Design(top: try m.finish(), packages: [package])
    let files = design.files()
    #expect(files.map(\.name) == ["toy_pkg.sv", "toy.sv"])
    #expect(design.fileList == "toy_pkg.sv\ntoy.sv\n")
    #expect(files[0].contents == """
      package toy_pkg;

        typedef enum logic [1:0] {
          OpNop      = 2'd0,
          OpLoadWord = 2'd3
        } toy_op_e;

        // The op field.
        localparam int OpLsb   = 0;
        localparam int OpWidth = 2;  // bits

      endpackage

      """)
    // Yosys 0.23 reads no `import`: values are spelled with their package.
    #expect(files[1].contents.contains("assign op = word_i[toy_pkg::OpLsb +: toy_pkg::OpWidth];"))
    #expect(files[1].contents.contains("assign is_load_o = op == toy_pkg::OpLoadWord;"))
    #expect(!files[1].contents.contains("import"))
    #expect(throws: DesignError.self) { try Design(top: try Self.toyWithoutPackage()) }
  }

  static func toyWithoutPackage() throws -> Module {
    let m = ModuleBuilder("toy")
    let word = m.input("word", .uint(2))
    let out = m.output("is_nop", .bit)
    m.assign(out, word.eq(ToyOp.nop))
    return try m.finish()
  }

  @Test func assertionsPrintUnderIfndefSynthesis() throws {
    let m = ModuleBuilder("pipe")
    _ = m.clock()
    _ = m.reset()
    let valid = m.input("valid", .bit)
    let ready = m.input("ready", .bit)
    let data = m.input("data", .uint(8))
    let grant = m.input("grant", .uint(3))
    let out = m.output("fire", .bit)
    let fire = m.register("fire", .bit)
    m.comb { Assign(fire.next, valid && ready && data.reduceXor() && grant.reduceOr()) }
    m.assign(out, fire.state)
    m.assertValidReady("InStable", valid: valid, ready: ready, payload: [data])
    m.assertOneHot("GrantOneHot", grant, allowingNone: true)
    let text = SystemVerilogPrinter().print(try m.finish())
    let block = text.components(separatedBy: "`ifndef SYNTHESIS\n").last!
    #expect(text.contains("`ifndef SYNTHESIS\n"))
    #expect(block.hasSuffix("`endif\n\nendmodule\n"))
    #expect(block.contains("assign sva_in_stable_after = valid_i && !ready_i;"))
    #expect(block.contains("sva_in_stable_after_q <= sva_in_stable_after;"))
    // The payload is kept, and compared, only across a stall.
    #expect(block.contains("""
          if (sva_in_stable_after) begin
            sva_in_stable_value_q <= {valid_i, data_i};
          end
      """))
    #expect(block.contains("""
            if (sva_in_stable_after_q) begin
              assert ({valid_i, data_i} == sva_in_stable_value_q)
                else $error("InStable_A: valid or payload changed while stalled");
            end
      """))
    // The bits through a continuous assignment: Icarus 11 miscounts `$countones` of an
    // expression in a procedural block (AcceleratorIcarusTests found it).
    #expect(block.contains("assign sva_grant_one_hot_bits = grant_i;"))
    #expect(block.contains("assert ($onehot0(sva_grant_one_hot_bits))"))
    #expect(block.contains("always @(posedge clk_i) begin\n    if (rst_ni) begin"))
  }

  @Test func assertionNamesAreCheckedAtFinish() throws {
    let m = ModuleBuilder("names")
    _ = m.clock()
    _ = m.reset()
    let a = m.input("a", .bit)
    let out = m.output("y", .bit)
    m.assign(out, a)
    m.assertAlways("not_camel", a, "a holds")
    #expect(throws: DesignError.self) { try m.finish() }
  }

  @Test func namesKeepAcronymsWhole() {
    #expect(Naming.snakeCase("weightFIFOWrites") == "weight_fifo_writes")
    #expect(Naming.snakeCase("matVecCycles") == "mat_vec_cycles")
    #expect(Naming.snakeCase("outScale2Multiply") == "out_scale2_multiply")
    #expect(Naming.upperCamelCase("rsqrtNormalize") == "RsqrtNormalize")
    #expect(Naming.upperCamelCase("toInt8") == "ToInt8")
    #expect(Naming.upperCamelCase("weightFIFOWrites") == "WeightFifoWrites")
  }
}
