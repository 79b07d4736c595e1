import HWDSL
import HWGenerators
import HWSpec
import Testing

/// The instruction layout is one table: the Swift encoder and `mmfree_pkg` agree with it.
@Suite("instruction layout: one field table for the encoder and mmfree_pkg")
struct InstructionLayoutTests {
  @Test("the fields are the documented layout, bit 0 up, without gaps")
  func fieldsAreTheDocumentedLayout() {
    let layout = AcceleratorInstruction.fields.map { "\($0.name)[\($0.high):\($0.low)]" }
    #expect(layout == ["opcode[3:0]", "length[19:4]", "a[35:20]", "b[51:36]", "dst[67:52]", "immediate[127:68]"])
    #expect(AcceleratorInstruction.bits == 128)
  }

  @Test("encoding places every field where the table says (the word as written by hand before the table)")
  func encodingMatchesTheLayout() {
    let i = AcceleratorInstruction(.recur, length: 0xBEEF, a: 0x1234, b: 0xABCD, dst: 0xF00D, immediate: 0x0FED_CBA9_8765_4321)
    let low = UInt64(8) | UInt64(0xBEEF) << 4 | UInt64(0x1234) << 20 | UInt64(0xABCD) << 36 | UInt64(0xF00D & 0xFFF) << 52
    let high = UInt64(0xF00D >> 12) | UInt64(0x0FED_CBA9_8765_4321) << 4
    #expect(i.encoded == (low, high))
    #expect(AcceleratorInstruction(low: low, high: high) == i)
  }

  @Test("mmfree_pkg declares every opcode and every field of the table")
  func packageComesFromTheTable() throws {
    let text = SystemVerilogPrinter().print(MMFreePackage.package)
    #expect(text.hasPrefix("// The accelerator's instruction set"))
    for op in AcceleratorOpcode.allCases {
      #expect(text.contains("\(op.hardwareValueName) "), "\(op)")
    }
    #expect(text.contains("OpLoadVector  = 4'd1,   // LOADV"))
    for f in AcceleratorInstruction.fields {
      let names = MMFreePackage.constantNames(f)
      #expect(text.contains("localparam int \(names.lsb)"), "\(f.name)")
      #expect(text.contains(" = \(f.low);") && text.contains(" = \(f.width);"), "\(f.name)")
    }
    let (design, files) = try AcceleratorGenerator.files(AcceleratorConfig(lanes: 4))
    #expect(design.fileList.hasPrefix("mmfree_pkg.sv\n"))
    #expect(files.first?.name == "mmfree_pkg.sv")
    let top = files.first { $0.name == "mmfree_accel.sv" }!.contents
    #expect(top.contains("assign op_norm = opcode == mmfree_pkg::OpNorm;"))
    #expect(top.contains("instr_q[mmfree_pkg::InstrOpcodeLsb +: mmfree_pkg::InstrOpcodeWidth]"))
  }
}
